/*
 * net.c - the sandbox's network: loopback (child side) and pasta (host side).
 *
 * Every sandbox has its own network namespace. RESTRICTED: only "lo", so
 * nothing outside the sandbox is reachable, not even the host's loopback.
 * FULL: pasta (package passt) attaches to the namespace and gives it
 * user-mode NAT to the outside; --no-map-gw keeps the host's own loopback
 * services unreachable, and no port is forwarded in either direction.
 *
 * pasta opens its host-side sockets to whatever address the sandbox
 * dialled, so by itself it would connect the sandbox to every host address
 * it did not copy into the namespace (link-local, a second NIC, docker0,
 * a VPN). An nftables output filter inside the sandbox's network namespace
 * closes that: init loads it with nft before any sandbox code runs, and
 * the command never holds CAP_NET_ADMIN to change it. Why nftables and not
 * FIB rules: a socket bound to the tap device (SO_BINDTODEVICE, allowed
 * without privilege) makes the kernel treat a failed route lookup as
 * "on link" and send anyway, so prohibit rules can be walked around; the
 * output hook sees every IP packet the namespace emits.
 */
#include "runtime/native/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

/* The sandbox always resolves through pasta's forwarder: the host's own
 * resolvers are often on loopback or in a private range, both of which the
 * filter below keeps out of reach, and the forwarder passes DNS (port 53 of
 * LCS_NATIVE_DNS_ADDR) and nothing else to the host's first resolver. */
void lcs_net_resolv_text(char *out, size_t len)
{
    snprintf(out, len, "nameserver %s\noptions edns0\n", LCS_NATIVE_DNS_ADDR);
}

/* Destinations a FULL sandbox never reaches, whatever the host's set-up:
 * the host itself (loopback, "this host"), link-local (which includes the
 * cloud metadata address 169.254.169.254), private networks (RFC 1918,
 * carrier-grade NAT, IPv6 unique-local and the old site-local), special
 * IPv4 blocks that are not on the internet (IETF protocol assignments,
 * benchmarking), multicast, broadcast and the reserved 240/4, and IPv6
 * forms that pasta would turn into an IPv4 or host address (unspecified,
 * loopback, IPv4-mapped). The documentation ranges stay open: they stand
 * in for public addresses on test networks. */
static const char *const blocked4[] = {
    "0.0.0.0/8",     "10.0.0.0/8",    "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",  "192.168.0.0/16",
    "198.18.0.0/15", "224.0.0.0/3",
};
static const char *const blocked6[] = {
    "::/127", "::ffff:0.0.0.0/96", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
};

/* Is the address a (family af, 4 or 16 bytes) inside one of the ranges? */
static int in_ranges(int af, const unsigned char *a, const char *const *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char net[64];
        snprintf(net, sizeof net, "%s", r[i]);
        char *slash = strchr(net, '/');
        int bits = slash ? atoi(slash + 1) : (af == AF_INET ? 32 : 128);
        if (slash)
            *slash = 0;
        unsigned char b[16];
        if (inet_pton(af, net, b) != 1)
            continue;
        int full = bits / 8, rest = bits % 8;
        if (memcmp(a, b, (size_t)full))
            continue;
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if (rest && ((a[full] ^ b[full]) & mask))
            continue;
        return 1;
    }
    return 0;
}

static void put_list(char **buf, size_t *len, size_t *off, const char *s, int first)
{
    size_t need = *off + strlen(s) + 4;
    if (need > *len) {
        size_t nl = need * 2;
        char *nb = realloc(*buf, nl);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = nb;
        *len = nl;
    }
    *off += (size_t)snprintf(*buf + *off, *len - *off, "%s%s", first ? "" : ", ", s);
}

static const unsigned char *addr_of(const struct ifaddrs *i, int af)
{
    if (!i->ifa_addr || i->ifa_addr->sa_family != af)
        return NULL;
    if (af == AF_INET)
        return (const unsigned char *)&((const struct sockaddr_in *)(const void *)i->ifa_addr)
            ->sin_addr;
    return (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)i->ifa_addr)
        ->sin6_addr;
}

static const unsigned char *addr_of_mask(const struct ifaddrs *i)
{
    if (!i->ifa_netmask || i->ifa_netmask->sa_family != AF_INET6)
        return NULL;
    return (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)i->ifa_netmask)
        ->sin6_addr;
}

/* Append "{ a, b, ... }" of the ranges plus the host's addresses of family
 * af outside them (each once). */
static void put_set(char **buf, size_t *len, size_t *off, int af, const char *const *r, size_t n,
                    const struct ifaddrs *ifs, unsigned *hosts)
{
    put_list(buf, len, off, "{ ", 1);
    for (size_t i = 0; *buf && i < n; i++)
        put_list(buf, len, off, r[i], i == 0);
    for (const struct ifaddrs *i = ifs; *buf && i; i = i->ifa_next) {
        const unsigned char *a = addr_of(i, af);
        if (!a || in_ranges(af, a, r, n))
            continue;
        int dup = 0; /* listed already (an earlier interface has it too) */
        for (const struct ifaddrs *j = ifs; j != i && !dup; j = j->ifa_next) {
            const unsigned char *b = addr_of(j, af);
            dup = b && !memcmp(a, b, af == AF_INET ? 4 : 16);
        }
        if (dup)
            continue;
        /* An IPv6 address stands for its whole /64 (or the narrower
         * prefix of its interface): the addresses the host makes up later
         * in the same prefix (temporary SLAAC addresses, which change every
         * day) are out of reach too. nft merges the overlaps. */
        char txt[INET6_ADDRSTRLEN + 16];
        inet_ntop(af, a, txt, sizeof txt);
        if (af == AF_INET6) {
            const unsigned char *m = addr_of_mask(i);
            int plen = 0;
            for (int k = 0; m && k < 16; k++)
                plen += __builtin_popcount(m[k]);
            size_t tl = strlen(txt);
            snprintf(txt + tl, sizeof txt - tl, "/%d", plen < 64 ? 64 : plen);
        }
        put_list(buf, len, off, txt, 0);
        (*hosts)++;
    }
    if (*buf)
        put_list(buf, len, off, " }", 1);
}

int lcs_net_filter_rules(char **out, unsigned *host_addrs, lcs_error *err)
{
    *out = NULL;
    *host_addrs = 0;
    /* Every address of every interface of the host, read in the host's
     * network namespace before the sandbox exists. */
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return lcs_fail_errno(err, "list the host's addresses for the FULL network filter");
    size_t len = 4096, off = 0;
    char *buf = malloc(len);
    /* Local traffic (the sandbox's own loopback and addresses) goes out on
     * lo and never reaches pasta. DNS to the forwarder passes. Neighbour
     * discovery passes (IPv6 would not find its gateway without it).
     * Everything else to a blocked destination is refused at once: TCP
     * with a reset, the rest with "administratively prohibited", so a
     * caller gets an error instead of a stall. */
    if (buf)
        off = (size_t)snprintf(buf, len,
                               "table inet llmcore_sandbox {\n"
                               " chain deny {\n"
                               "  meta l4proto tcp reject with tcp reset\n"
                               "  reject with icmpx type admin-prohibited\n"
                               " }\n"
                               " chain out {\n"
                               "  type filter hook output priority filter; policy accept;\n"
                               "  oif \"lo\" accept\n"
                               "  ip daddr %s meta l4proto { tcp, udp } th dport 53 accept\n"
                               "  icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
                               "nd-router-solicit } accept\n"
                               "  ip daddr ",
                               LCS_NATIVE_DNS_ADDR);
    if (buf)
        put_set(&buf, &len, &off, AF_INET, blocked4, sizeof blocked4 / sizeof blocked4[0], ifs,
                host_addrs);
    if (buf)
        put_list(&buf, &len, &off, " goto deny\n  ip6 daddr ", 1);
    if (buf)
        put_set(&buf, &len, &off, AF_INET6, blocked6, sizeof blocked6 / sizeof blocked6[0], ifs,
                host_addrs);
    if (buf)
        put_list(&buf, &len, &off, " goto deny\n }\n}\n", 1);
    freeifaddrs(ifs);
    if (!buf)
        return lcs_fail_nomem(err);
    *out = buf;
    return 0;
}

/* Child side (init, still holding CAP_NET_ADMIN of its user namespace and
 * the host's filesystem view): load the rules with nft. Raw system calls and
 * vfork as elsewhere in init: this process is a copy of a possibly
 * multithreaded caller. nft gets CAP_NET_ADMIN as an ambient capability, so
 * it keeps it across execve also when init is not uid 0 of the namespace
 * (rootless). */
int lcs_net_filter_install(const lcs_plan *p, lcs_child_err *e)
{
    int in = (int)syscall(SYS_memfd_create, "nft-rules", MFD_CLOEXEC);
    int log = (int)syscall(SYS_memfd_create, "nft-errors", MFD_CLOEXEC);
    if (in < 0 || log < 0) {
        lcs_child_fail(e, errno, "memfd for the FULL network filter");
        goto fail;
    }
    size_t n = strlen(p->net_filter);
    if (write(in, p->net_filter, n) != (ssize_t)n || lseek(in, 0, SEEK_SET) < 0) {
        lcs_child_fail(e, errno, "write the FULL network filter");
        goto fail;
    }
    pid_t pid = vfork();
    if (pid == 0) {
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2];
        memset(d, 0, sizeof d);
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (syscall(SYS_capget, &hdr, d) == 0) {
            d[0].inheritable |= 1u << CAP_NET_ADMIN;
            if (syscall(SYS_capset, &hdr, d) == 0)
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
        }
        if (dup2(in, 0) < 0 || dup2(devnull, 1) < 0 || dup2(log, 2) < 0)
            _exit(127);
        char *const argv[] = {"nft", "-f", "/dev/stdin", NULL};
        char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        execve(p->nft, argv, envp);
        _exit(127);
    }
    if (pid < 0) {
        lcs_child_fail(e, errno, "start nft for the FULL network filter");
        goto fail;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            lcs_child_fail(e, errno, "wait for nft");
            goto fail;
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[300] = "";
        ssize_t r = pread(log, msg, sizeof msg - 1, 0);
        msg[r > 0 ? r : 0] = 0;
        for (char *c = msg; *c; c++)
            if (*c == '\n')
                *c = ' ';
        lcs_child_fail(e, 0,
                       "load the FULL network's filter with %s (status %d): %s; the kernel "
                       "needs nf_tables (modprobe nf_tables), or use the RESTRICTED network",
                       p->nft, st, msg[0] ? msg : "no message");
        goto fail;
    }
    close(in);
    close(log);
    return 0;
fail:
    if (in >= 0)
        close(in);
    if (log >= 0)
        close(log);
    return -1;
}

int lcs_net_pasta_start(lcs_pasta *ps, pid_t pid, const char *run_dir, lcs_error *err)
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
    /* --dns-forward: DNS sent to LCS_NATIVE_DNS_ADDR goes to the host's
     * first resolver, and only DNS (see lcs_net_resolv_text). */
    const char *argv[24];
    int a = 0;
    static const char *const fixed[] = {"pasta", "--quiet", "--config-net", "--no-map-gw", "-t",
                                        "none", "-u", "none", "-T", "none", "-U", "none"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[a++] = fixed[i];
    argv[a++] = "--dns-forward";
    argv[a++] = LCS_NATIVE_DNS_ADDR;
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
