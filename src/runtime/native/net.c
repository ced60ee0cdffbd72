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
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
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
 * LCS_NATIVE_DNS_ADDR) and nothing else to the host's first resolver.
 * pasta forwards within a family only (to the host's first IPv4 or first
 * IPv6 resolver), so a host with IPv6 resolvers also gets
 * LCS_NATIVE_DNS_ADDR6, and one with only IPv6 resolvers only that. */
void lcs_net_resolv_text(char *out, size_t len, int *dns6)
{
    int has4 = 0, has6 = 0;
    FILE *f = fopen("/etc/resolv.conf", "re");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        char addr[64];
        if (sscanf(line, " nameserver %63s", addr) != 1)
            continue;
        if (strchr(addr, ':'))
            has6 = 1;
        else
            has4 = 1;
    }
    if (f)
        fclose(f);
    *dns6 = has6;
    snprintf(out, len, "%s%s%s%soptions edns0\n", has4 || !has6 ? "nameserver " : "",
             has4 || !has6 ? LCS_NATIVE_DNS_ADDR "\n" : "", has6 ? "nameserver " : "",
             has6 ? LCS_NATIVE_DNS_ADDR6 "\n" : "");
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

/* A growing text buffer; on allocation failure it is freed and stays NULL. */
typedef struct tbuf {
    char *s;
    size_t len, off;
} tbuf;

static void put(tbuf *t, const char *fmt, ...) LCS_PRINTF(2, 3);
static void put(tbuf *t, const char *fmt, ...)
{
    for (int pass = 0; t->s && pass < 2; pass++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->off, t->len - t->off, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->s[t->off] = 0;
            return;
        }
        if ((size_t)n < t->len - t->off) {
            t->off += (size_t)n;
            return;
        }
        size_t nl = (t->off + (size_t)n + 1) * 2;
        char *ns = realloc(t->s, nl);
        if (!ns) {
            free(t->s);
            t->s = NULL;
            return;
        }
        t->s = ns;
        t->len = nl;
    }
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

/* Append the host's addresses of family af that no range covers, each once,
 * comma-separated; returns how many. */
static unsigned put_hosts(tbuf *t, int af, const struct ifaddrs *ifs)
{
    const char *const *r = af == AF_INET ? blocked4 : blocked6;
    size_t n = af == AF_INET ? sizeof blocked4 / sizeof blocked4[0]
                             : sizeof blocked6 / sizeof blocked6[0];
    unsigned count = 0;
    for (const struct ifaddrs *i = ifs; t->s && i; i = i->ifa_next) {
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
        char txt[INET6_ADDRSTRLEN];
        inet_ntop(af, a, txt, sizeof txt);
        /* An IPv6 address stands for its whole /64 (or the narrower
         * prefix of its interface): the addresses the host makes up later
         * in the same prefix (temporary SLAAC addresses, which change every
         * day) are out of reach too. nft merges the overlaps. */
        int plen = af == AF_INET ? 32 : 0;
        const unsigned char *m = af == AF_INET6 ? addr_of_mask(i) : NULL;
        for (int k = 0; m && k < 16; k++)
            plen += __builtin_popcount(m[k]);
        if (af == AF_INET6 && plen < 64)
            plen = 64;
        put(t, "%s%s/%d", count ? ", " : "", txt, plen);
        count++;
    }
    return count;
}

static void put_ranges(tbuf *t, const char *const *r, size_t n)
{
    put(t, "{ ");
    for (size_t i = 0; i < n; i++)
        put(t, "%s%s", i ? ", " : "", r[i]);
    put(t, " }");
}

/* nft commands adding the host's current addresses to the sets host4 and
 * host6 (nothing for an empty family). */
static int put_host_elements(tbuf *t, unsigned *count, lcs_error *err)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return lcs_fail_errno(err, "list the host's addresses for the FULL network filter");
    for (int v = 0; v < 2; v++) {
        int af = v ? AF_INET6 : AF_INET;
        size_t mark = t->off;
        put(t, "add element inet llmcore_sandbox host%d { ", v ? 6 : 4);
        unsigned n = put_hosts(t, af, ifs);
        if (t->s && n) {
            put(t, " }\n");
            *count += n;
        } else if (t->s) {
            t->off = mark; /* none of this family */
            t->s[mark] = 0;
        }
    }
    freeifaddrs(ifs);
    return t->s ? 0 : lcs_fail_nomem(err);
}

int lcs_net_filter_rules(char **out, unsigned *host_addrs, lcs_error *err)
{
    *out = NULL;
    *host_addrs = 0;
    tbuf t = {malloc(4096), 4096, 0};
    if (t.s)
        t.s[0] = 0;
    /* Local traffic (the sandbox's own loopback and addresses) goes out on
     * lo and never reaches pasta. DNS to the forwarder passes. Neighbour
     * discovery passes (IPv6 would not find its gateway without it).
     * Everything else to a blocked destination is refused at once: TCP
     * with a reset, the rest with "administratively prohibited", so a
     * caller gets an error instead of a stall. The host's own addresses
     * are sets, so that a session can add those the host gains later. */
    put(&t,
        "table inet llmcore_sandbox {\n"
        " set host4 { type ipv4_addr; flags interval; auto-merge; }\n"
        " set host6 { type ipv6_addr; flags interval; auto-merge; }\n"
        " chain deny {\n"
        "  meta l4proto tcp reject with tcp reset\n"
        "  reject with icmpx type admin-prohibited\n"
        " }\n"
        " chain out {\n"
        "  type filter hook output priority filter; policy accept;\n"
        "  oif \"lo\" accept\n"
        "  ip daddr %s meta l4proto { tcp, udp } th dport 53 accept\n"
        "  ip6 daddr %s meta l4proto { tcp, udp } th dport 53 accept\n"
        "  icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
        "  ip daddr ",
        LCS_NATIVE_DNS_ADDR, LCS_NATIVE_DNS_ADDR6);
    put_ranges(&t, blocked4, sizeof blocked4 / sizeof blocked4[0]);
    put(&t, " goto deny\n  ip6 daddr ");
    put_ranges(&t, blocked6, sizeof blocked6 / sizeof blocked6[0]);
    put(&t, " goto deny\n"
            "  ip daddr @host4 goto deny\n"
            "  ip6 daddr @host6 goto deny\n"
            " }\n"
            "}\n");
    if (!t.s)
        return lcs_fail_nomem(err);
    if (put_host_elements(&t, host_addrs, err) < 0) {
        free(t.s);
        return -1;
    }
    *out = t.s;
    return 0;
}

/* In a child about to become nft: CAP_NET_ADMIN as an ambient capability,
 * so nft keeps it across execve also when this process is not uid 0 of the
 * sandbox's user namespace (rootless); the rules on stdin, errors to log. */
static _Noreturn void exec_nft(const char *nft, int in, int log)
{
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
    execve(nft, argv, envp);
    _exit(127);
}

/* Two memfds: the rules (written, rewound) and nft's error output. */
static int nft_fds(const char *text, int *in, int *log)
{
    *in = (int)syscall(SYS_memfd_create, "nft-rules", MFD_CLOEXEC);
    *log = (int)syscall(SYS_memfd_create, "nft-errors", MFD_CLOEXEC);
    size_t n = strlen(text);
    if (*in < 0 || *log < 0 || write(*in, text, n) != (ssize_t)n || lseek(*in, 0, SEEK_SET) < 0)
        return -1;
    return 0;
}

/* Wait for nft; 0 if it succeeded, else its first error line in msg. */
static int nft_wait(pid_t pid, int log, char *msg, size_t len)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(msg, len, "wait for nft: %s", strerror(errno));
            return -1;
        }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    char out[300];
    ssize_t r = pread(log, out, sizeof out - 1, 0);
    out[r > 0 ? r : 0] = 0;
    for (char *c = out; *c; c++)
        if (*c == '\n')
            *c = ' ';
    snprintf(msg, len, "status %d: %s", st, out[0] ? out : "no message");
    return -1;
}

/* Child side (init, still holding CAP_NET_ADMIN of its user namespace and
 * the host's filesystem view): load the rules with nft. Raw system calls and
 * vfork as elsewhere in init: this process is a copy of a possibly
 * multithreaded caller. */
int lcs_net_filter_install(const lcs_plan *p, lcs_child_err *e)
{
    int in = -1, log = -1, rc = -1;
    char msg[400];
    if (nft_fds(p->net_filter, &in, &log) < 0) {
        lcs_child_fail(e, errno, "write the FULL network filter to a memfd");
        goto out;
    }
    pid_t pid = vfork();
    if (pid == 0)
        exec_nft(p->nft, in, log);
    if (pid < 0) {
        lcs_child_fail(e, errno, "start nft for the FULL network filter");
        goto out;
    }
    if (nft_wait(pid, log, msg, sizeof msg) < 0) {
        lcs_child_fail(e, 0,
                       "load the FULL network's filter with %s (%s); the kernel needs nf_tables "
                       "(modprobe nf_tables), or use the RESTRICTED network",
                       p->nft, msg);
        goto out;
    }
    rc = 0;
out:
    if (in >= 0)
        close(in);
    if (log >= 0)
        close(log);
    return rc;
}

int lcs_net_filter_add_hosts(int ufd, int nfd, int rootless, const char *nft, lcs_error *err)
{
    tbuf t = {malloc(1024), 1024, 0};
    if (t.s)
        t.s[0] = 0;
    unsigned n = 0;
    if (!t.s)
        return lcs_fail_nomem(err);
    if (put_host_elements(&t, &n, err) < 0) {
        free(t.s);
        return -1;
    }
    int in = -1, log = -1, rc = -1;
    char msg[400];
    if (!n) {
        rc = 0;
        goto out;
    }
    if (ufd < 0 || nfd < 0) {
        lcs_fail(err, LCS_E_INTERNAL, "the sandbox's namespaces are not open");
        goto out;
    }
    if (nft_fds(t.s, &in, &log) < 0) {
        lcs_fail_errno(err, "write the host addresses for nft to a memfd");
        goto out;
    }
    /* The caller (the session monitor) is single-threaded: a plain fork.
     * Root reaches the sandbox's network namespace from its own user
     * namespace; a rootless caller first enters the sandbox's, which it
     * owns (and then holds CAP_NET_ADMIN there). */
    pid_t pid = fork();
    if (pid == 0) {
        if ((rootless && setns(ufd, CLONE_NEWUSER) < 0) || setns(nfd, CLONE_NEWNET) < 0)
            _exit(126);
        exec_nft(nft, in, log);
    }
    if (pid < 0) {
        lcs_fail_errno(err, "fork for nft");
        goto out;
    }
    if (nft_wait(pid, log, msg, sizeof msg) < 0) {
        lcs_fail(err, LCS_E_IO, "add the host's new addresses to the FULL network filter (%s)",
                 msg);
        goto out;
    }
    rc = 0;
out:
    free(t.s);
    if (in >= 0)
        close(in);
    if (log >= 0)
        close(log);
    return rc;
}

int lcs_net_addr_watch_open(lcs_error *err)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
                             .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return lcs_fail_errno(err, "watch the host's addresses (rtnetlink)");
    }
    return fd;
}

int lcs_net_addr_watch_read(int fd)
{
    /* Drain; any new address (or a lost message: ENOBUFS) means "update". */
    int changed = 0;
    char buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) {
                changed = 1;
                continue;
            }
            if (errno == EINTR)
                continue;
            return changed;
        }
        if (n == 0)
            return changed;
        for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf; NLMSG_OK(h, (unsigned)n);
             h = NLMSG_NEXT(h, n))
            if (h->nlmsg_type == RTM_NEWADDR)
                changed = 1;
    }
}

int lcs_net_pasta_start(lcs_pasta *ps, pid_t pid, const char *run_dir, int dns6,
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
    /* --dns-forward: DNS sent to LCS_NATIVE_DNS_ADDR goes to the host's
     * first resolver, and only DNS (see lcs_net_resolv_text). */
    const char *argv[32];
    int a = 0;
    static const char *const fixed[] = {"pasta", "--quiet", "--config-net", "--no-map-gw", "-t",
                                        "none", "-u", "none", "-T", "none", "-U", "none"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[a++] = fixed[i];
    argv[a++] = "--dns-forward";
    argv[a++] = LCS_NATIVE_DNS_ADDR;
    if (dns6) {
        argv[a++] = "--dns-forward";
        argv[a++] = LCS_NATIVE_DNS_ADDR6;
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
