/*
 * net.c - the sandbox's network: loopback (child side) and pasta (host side).
 *
 * Every sandbox has its own network namespace. RESTRICTED: only "lo", so
 * nothing outside the sandbox is reachable, not even the host's loopback.
 * FULL: pasta (package passt) attaches to the namespace and gives it
 * user-mode NAT to the outside; --no-map-gw keeps the host's own loopback
 * services unreachable, and no port is forwarded in either direction.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int lcs_net_loopback_up(lcs_child_err *e)
{
    /* CAP_NET_ADMIN of the sandbox's user namespace only covers the
     * sandbox's own network namespace. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return lcs_child_fail(e, errno, "socket for loopback setup");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int rc = 0;
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        rc = lcs_child_fail(e, errno, "read flags of lo");
    } else {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            rc = lcs_child_fail(e, errno, "bring lo up");
    }
    close(s);
    return rc;
}

extern char **environ;

void lcs_net_resolv_text(char *out, size_t len, int *dns_forward)
{
    char ns[3][64];
    int n = 0, loopback = 0;
    FILE *f = fopen("/etc/resolv.conf", "re");
    char line[256];
    while (f && n < 3 && fgets(line, sizeof line, f)) {
        char addr[64];
        if (sscanf(line, " nameserver %63s", addr) != 1)
            continue;
        if (!strncmp(addr, "127.", 4) || !strcmp(addr, "::1"))
            loopback = 1;
        snprintf(ns[n++], sizeof ns[0], "%s", addr);
    }
    if (f)
        fclose(f);
    *dns_forward = loopback || n == 0;
    if (*dns_forward) {
        snprintf(out, len, "nameserver %s\noptions edns0\n", LCS_NATIVE_DNS_ADDR);
        return;
    }
    size_t off = 0;
    for (int i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "nameserver %s\n", ns[i]);
}

int lcs_net_pasta_start(lcs_pasta *ps, pid_t pid, const char *run_dir, int dns_forward,
                        lcs_error *err)
{
    ps->pid = -1;
    snprintf(ps->pidfile, sizeof ps->pidfile, "%s/pasta.pid", run_dir);
    char netns[64], userns[64];
    snprintf(netns, sizeof netns, "/proc/%d/ns/net", (int)pid);
    snprintf(userns, sizeof userns, "/proc/%d/ns/user", (int)pid);
    /* --no-map-gw: the gateway address is not remapped to the host, so
     * host-loopback services stay unreachable. -t/-u/-T/-U none: no port
     * forwarding in any direction. pasta daemonizes once the namespace is
     * configured, so waiting for this process bounds the start-up. */
    /* --dns-forward (only when the host's resolver is on loopback, which
     * the NAT cannot reach): DNS sent to LCS_NATIVE_DNS_ADDR goes to the
     * host's first resolver, and only DNS. Otherwise the sandbox uses the
     * host's nameservers directly (pasta then stops NATting queries to
     * them, so the two are exclusive). */
    const char *argv[24];
    int a = 0;
    static const char *const fixed[] = {"pasta", "--quiet", "--config-net", "--no-map-gw", "-t",
                                        "none", "-u", "none", "-T", "none", "-U", "none"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[a++] = fixed[i];
    if (dns_forward) {
        argv[a++] = "--dns-forward";
        argv[a++] = LCS_NATIVE_DNS_ADDR;
    }
    argv[a++] = "--pid";
    argv[a++] = ps->pidfile;
    argv[a++] = "--userns";
    argv[a++] = userns;
    argv[a++] = "--netns";
    argv[a++] = netns;
    if (geteuid() == 0) {
        argv[a++] = "--runas";
        argv[a++] = "0";
    }
    argv[a] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", NULL};
    /* Default dispositions and an empty mask: pasta refuses to start when
     * it inherits ignored signals (a session monitor ignores SIGHUP). */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t child;
    int rc = posix_spawnp(&child, "pasta", &fa, &at, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        errno = rc;
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "start pasta for FULL network: %s; install the passt package "
                        "(apt-get install passt) or use the RESTRICTED network",
                        strerror(rc));
    }
    double deadline = lcs_now() + 10.0;
    int st = 0;
    for (;;) {
        pid_t w = waitpid(child, &st, WNOHANG);
        if (w == child)
            break;
        if (lcs_now() > deadline) {
            kill(child, SIGKILL);
            waitpid(child, &st, 0);
            return lcs_fail(err, LCS_E_IO, "pasta did not configure the sandbox network "
                                           "within 10 s");
        }
        usleep(2000);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return lcs_fail(err, LCS_E_IO,
                        "pasta failed to configure the sandbox network (status %d); run "
                        "pasta --config-net by hand to see why",
                        st);
    FILE *f = fopen(ps->pidfile, "re");
    int p = -1;
    if (f) {
        if (fscanf(f, "%d", &p) != 1)
            p = -1;
        fclose(f);
    }
    if (p <= 0)
        return lcs_fail(err, LCS_E_IO, "pasta did not write its pid file %s", ps->pidfile);
    ps->pid = p;
    return 0;
}

void lcs_net_pasta_stop(lcs_pasta *ps)
{
    /* pasta is not our child (it daemonized); it exits by itself when the
     * namespace goes away, and we make sure with SIGKILL. */
    if (ps->pid > 0) {
        kill(ps->pid, SIGKILL);
        ps->pid = -1;
    }
    if (ps->pidfile[0])
        unlink(ps->pidfile);
}
