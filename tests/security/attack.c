/*
 * attack.c - escape attempts run from inside a sandbox by tests/security.
 *
 *   attack NAME [ARG]
 *
 * Prints "ATTEMPT NAME" before trying, then "DENIED NAME: <errno text>"
 * and exits 0 when the kernel (or the seccomp filter) refused, or
 * "ALLOWED NAME: <detail>" and exits 1 when the attempt succeeded. Exit 2:
 * unknown attack. Built statically and copied into the test rootfs.
 *
 * Shared kernel budgets (tests/runtime/budgets.sh):
 *   attack hog-KIND DIR   take as much of budget KIND as the kernel grants
 *                         (capped), print "TOOK KIND n", write n to DIR/ready,
 *                         hold it until DIR/stop exists (at most 30 s), release
 *   attack need-KIND      take a small amount of KIND: "GOT KIND n" and exit 0,
 *                         or "SHORT KIND n of m: why" and exit 1
 * KIND: inotify (instances), watch (inotify watches), mq (POSIX message
 * queue bytes), sigq (queued signals), memlock (SHM_LOCK'ed bytes). Run
 * inside a sandbox or, for need-KIND, on the host.
 *
 *   attack net tcp|udp ADDR[%IFNAME] PORT [bind=IFNAME] [bcast] [mcast=IFNAME]
 *
 * Connects (TCP) or sends a datagram (UDP) and waits up to 2 s for the
 * peer's first bytes: prints "REPLY <bytes>" or "NOREPLY <why> <ms>".
 * bind= sets SO_BINDTODEVICE (an attempt to walk around routing), bcast
 * sets SO_BROADCAST, mcast= picks the multicast interface.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <mqueue.h>
#include <sys/inotify.h>
#include <sys/shm.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *name;

/* ------------------------------------------------------ shared budgets */

enum { HOG_MAX_FDS = 4096, WATCH_INSTANCES = 8, WATCH_FILES = 60000 };

typedef struct budget {
    int fds[HOG_MAX_FDS];
    int nfds;
    int shm[HOG_MAX_FDS];
    int nshm;
    long took;
    int err;
    char tag[32]; /* mq names: unique per process */
} budget;

static void budget_init(budget *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->tag, sizeof b->tag, "lcsb%d", (int)getpid());
}

/* One unit of KIND; 0 on success, -1 with errno when the kernel refused. */
static int take_one(budget *b, const char *kind)
{
    if (!strcmp(kind, "inotify")) {
        if (b->nfds >= HOG_MAX_FDS)
            return errno = EMFILE, -1;
        int fd = inotify_init1(IN_CLOEXEC);
        if (fd < 0)
            return -1;
        b->fds[b->nfds++] = fd;
        return 0;
    }
    if (!strcmp(kind, "mq")) {
        if (b->nfds >= HOG_MAX_FDS)
            return errno = EMFILE, -1;
        char qn[64];
        snprintf(qn, sizeof qn, "/%s-%d", b->tag, b->nfds);
        /* the largest queue an unprivileged process may make (msg_max,
         * msgsize_max): 10 x 8 KiB */
        struct mq_attr a = {.mq_maxmsg = 10, .mq_msgsize = 8192};
        mqd_t q = mq_open(qn, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &a);
        if (q == (mqd_t)-1)
            return -1;
        b->fds[b->nfds++] = (int)q;
        return 0;
    }
    if (!strcmp(kind, "sigq")) {
        union sigval v = {.sival_int = 1};
        return sigqueue(getpid(), SIGRTMIN, v);
    }
    if (!strcmp(kind, "memlock")) {
        if (b->nshm >= HOG_MAX_FDS)
            return errno = ENOSPC, -1;
        int id = shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600);
        if (id < 0)
            return -1;
        b->shm[b->nshm++] = id; /* removed in release even if the lock fails */
        return shmctl(id, SHM_LOCK, NULL);
    }
    return errno = EINVAL, -1;
}

/* Units of kind per "took" (mq: bytes of message payload; memlock: bytes). */
static long unit_of(const char *kind)
{
    return !strcmp(kind, "mq") ? 10 * 8192L : !strcmp(kind, "memlock") ? 1L << 20 : 1;
}

/* Inotify watches: WATCH_INSTANCES instances, each watching the same
 * growing set of empty files in dir (one watch per instance and inode). */
static long take_watches(budget *b, const char *dir, long max)
{
    for (int i = 0; i < WATCH_INSTANCES; i++) {
        int fd = inotify_init1(IN_CLOEXEC);
        if (fd < 0) {
            b->err = errno;
            return b->took;
        }
        b->fds[b->nfds++] = fd;
    }
    char path[256];
    for (long f = 0; f < WATCH_FILES && b->took < max; f++) {
        snprintf(path, sizeof path, "%s/w%ld", dir, f);
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) {
            b->err = errno;
            break;
        }
        close(fd);
        for (int i = 0; i < b->nfds && b->took < max; i++) {
            if (inotify_add_watch(b->fds[i], path, IN_MODIFY) < 0) {
                b->err = errno;
                return b->took;
            }
            b->took++;
        }
    }
    return b->took;
}

static long take(budget *b, const char *kind, long max, const char *dir)
{
    if (!strcmp(kind, "sigq")) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGRTMIN);
        sigprocmask(SIG_BLOCK, &s, NULL);
    }
    if (!strcmp(kind, "watch"))
        return take_watches(b, dir, max);
    while (b->took < max) {
        if (take_one(b, kind) < 0) {
            b->err = errno;
            break;
        }
        b->took++;
    }
    return b->took;
}

static void release(budget *b, const char *kind)
{
    for (int i = 0; i < b->nfds; i++) {
        close(b->fds[i]);
        if (!strcmp(kind, "mq")) {
            char qn[64];
            snprintf(qn, sizeof qn, "/%s-%d", b->tag, i);
            mq_unlink(qn);
        }
    }
    for (int i = 0; i < b->nshm; i++)
        shmctl(b->shm[i], IPC_RMID, NULL);
    b->nfds = b->nshm = 0;
}

static int hog(const char *kind, const char *dir)
{
    static budget b; /* large: not on the stack */
    budget_init(&b);
    char path[256];
    long n = take(&b, kind, 4000000, "/tmp");
    printf("TOOK %s %ld (%ld bytes/unit; stopped by: %s)\n", kind, n, unit_of(kind),
           b.err ? strerror(b.err) : "cap");
    fflush(stdout);
    snprintf(path, sizeof path, "%s/ready", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%ld %s\n", n, b.err ? strerror(b.err) : "cap");
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/stop", dir);
    for (int i = 0; i < 3000 && access(path, F_OK) < 0; i++)
        usleep(10000);
    release(&b, kind);
    return 0;
}

static int need(const char *kind)
{
    static budget b;
    budget_init(&b);
    /* small amounts that any program may ask for */
    long want = !strcmp(kind, "sigq") || !strcmp(kind, "watch") ? 16
                : !strcmp(kind, "inotify")                      ? 2
                                                                : 1; /* a full-size queue, 1 MiB */
    char dir[64] = "/tmp";
    if (!strcmp(kind, "watch")) {
        snprintf(dir, sizeof dir, "/tmp/lcsb-need-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    long n = take(&b, kind, want, dir);
    if (!strcmp(kind, "watch"))
        for (long f = 0; f < want; f++) {
            char path[128];
            snprintf(path, sizeof path, "%s/w%ld", dir, f);
            unlink(path);
        }
    release(&b, kind);
    if (!strcmp(kind, "watch"))
        rmdir(dir);
    if (n >= want) {
        printf("GOT %s %ld\n", kind, n);
        return 0;
    }
    printf("SHORT %s %ld of %ld: %s\n", kind, n, want, strerror(b.err));
    return 1;
}

static int result(long rc)
{
    if (rc < 0) {
        printf("DENIED %s: %s\n", name, strerror(errno));
        return 0;
    }
    printf("ALLOWED %s: returned %ld\n", name, rc);
    return 1;
}

static int open_rw(const char *path)
{
    return result(open(path, O_RDWR));
}

static int sock(int dom, int type, int proto)
{
    return result(socket(dom, type, proto));
}

static double ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int net(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    int udp = !strcmp(argv[2], "udp");
    char host[128];
    snprintf(host, sizeof host, "%s", argv[3]);
    char *pct = strchr(host, '%');
    unsigned scope = 0;
    if (pct) {
        *pct = 0;
        scope = if_nametoindex(pct + 1);
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    int af;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        af = s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)atoi(argv[4]));
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        af = s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)atoi(argv[4]));
        s6->sin6_scope_id = scope;
        sl = sizeof *s6;
    } else {
        printf("NOREPLY bad-address 0\n");
        return 0;
    }
    double t0 = ms_now();
    int fd = socket(af, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        printf("NOREPLY socket:%s 0\n", strerror(errno));
        return 0;
    }
    for (int i = 5; i < argc; i++) {
        int one = 1;
        if (!strncmp(argv[i], "bind=", 5) &&
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, argv[i] + 5, (socklen_t)strlen(argv[i] + 5)) < 0)
            printf("bind-to-device failed: %s\n", strerror(errno));
        if (!strcmp(argv[i], "bcast"))
            setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
        if (!strncmp(argv[i], "mcast=", 6)) {
            int idx = (int)if_nametoindex(argv[i] + 6);
            if (af == AF_INET) {
                struct ip_mreqn m;
                memset(&m, 0, sizeof m);
                m.imr_ifindex = idx;
                setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
            } else {
                setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
            }
        }
    }
    const char *why = "timeout";
    char buf[256];
    int rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc < 0 && errno != EINPROGRESS) {
        why = strerror(errno);
        goto out;
    }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    if (!udp) {
        if (poll(&pf, 1, 2000) != 1)
            goto out;
        int soerr = 0;
        socklen_t el = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
        if (soerr) {
            why = strerror(soerr);
            goto out;
        }
    }
    if (send(fd, "ping\n", 5, MSG_NOSIGNAL) < 0) {
        why = strerror(errno);
        goto out;
    }
    double end = ms_now() + 2000;
    for (;;) {
        int left = (int)(end - ms_now());
        if (left <= 0)
            break;
        pf.events = POLLIN;
        if (poll(&pf, 1, left) != 1)
            break;
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            buf[strcspn(buf, "\r\n")] = 0;
            printf("REPLY %s\n", buf);
            close(fd);
            return 0;
        }
        why = n == 0 ? "closed" : strerror(errno);
        if (n == 0 || errno != EAGAIN)
            break;
    }
out:
    printf("NOREPLY %s %.0f\n", why, ms_now() - t0);
    close(fd);
    return 0;
}

/* Ask nf_tables to delete the sandbox's filter table (inet llmcore_sandbox):
 * one batch (begin, DELTABLE, end) on NETLINK_NETFILTER, then read the
 * acknowledgement of the DELTABLE message. */
static int nft_delete(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0)
        return result(-1);
    char buf[512];
    memset(buf, 0, sizeof buf);
    size_t off = 0;
    unsigned seq = 1;
    struct nlmsghdr *h;
    struct nfgenmsg *g;
    /* batch begin */
    h = (struct nlmsghdr *)(buf + off);
    h->nlmsg_len = NLMSG_LENGTH(sizeof *g);
    h->nlmsg_type = NFNL_MSG_BATCH_BEGIN;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq++;
    g = NLMSG_DATA(h);
    g->nfgen_family = AF_UNSPEC;
    g->res_id = htons(NFNL_SUBSYS_NFTABLES);
    off += NLMSG_ALIGN(h->nlmsg_len);
    /* delete table */
    h = (struct nlmsghdr *)(buf + off);
    h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    h->nlmsg_seq = seq++;
    g = NLMSG_DATA(h);
    g->nfgen_family = NFPROTO_INET;
    struct nlattr *a = (struct nlattr *)((char *)g + NLMSG_ALIGN(sizeof *g));
    const char tname[] = "llmcore_sandbox";
    a->nla_type = NFTA_TABLE_NAME;
    a->nla_len = (unsigned short)(NLA_HDRLEN + sizeof tname);
    memcpy((char *)a + NLA_HDRLEN, tname, sizeof tname);
    h->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof *g) + NLA_ALIGN(a->nla_len));
    off += NLMSG_ALIGN(h->nlmsg_len);
    /* batch end */
    h = (struct nlmsghdr *)(buf + off);
    h->nlmsg_len = NLMSG_LENGTH(sizeof *g);
    h->nlmsg_type = NFNL_MSG_BATCH_END;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq++;
    g = NLMSG_DATA(h);
    g->res_id = htons(NFNL_SUBSYS_NFTABLES);
    off += NLMSG_ALIGN(h->nlmsg_len);
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    if (sendto(fd, buf, off, 0, (struct sockaddr *)&k, sizeof k) < 0)
        return result(-1);
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    while (poll(&pf, 1, 2000) == 1) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type != NLMSG_ERROR)
                continue;
            struct nlmsgerr *ne = NLMSG_DATA(h);
            errno = -ne->error;
            return result(ne->error ? -1 : 0);
        }
    }
    errno = ETIMEDOUT;
    return result(-1);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "net"))
        return net(argc, argv);
    if (argc < 2)
        return 2;
    name = argv[1];
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strncmp(name, "hog-", 4))
        return hog(name + 4, argc > 2 ? arg : "/tmp");
    if (!strncmp(name, "need-", 5))
        return need(name + 5);
    printf("ATTEMPT %s\n", name);
    fflush(stdout);
    errno = 0;
    /* System calls newer than the C library of the fixture, which images
     * on a current glibc use (chmod without following symlinks, futex2):
     * they must be allowed, not refused with EPERM (which glibc would not
     * fall back from). Numbers are the same on every architecture. */
    if (!strcmp(name, "fchmodat2")) {
        int fd = open("/tmp/fchmodat2", O_CREAT | O_WRONLY, 0644);
        if (fd >= 0)
            close(fd);
        return result(syscall(452, AT_FDCWD, "/tmp/fchmodat2", 0600, AT_SYMLINK_NOFOLLOW));
    }
    if (!strcmp(name, "futex_wake")) {
        static unsigned word;
        return result(syscall(454, &word, 1, 0x3, 0x82 /* FUTEX2_SIZE_U32 | PRIVATE */));
    }
    if (!strcmp(name, "ptrace-init"))
        return result(ptrace(PTRACE_ATTACH, 1, 0, 0));
    if (!strcmp(name, "ptrace-parent"))
        return result(ptrace(PTRACE_ATTACH, getppid(), 0, 0));
    if (!strcmp(name, "ptrace-traceme")) {
        /* a child asks to be traced: only seccomp stops this */
        return result(ptrace(PTRACE_TRACEME, 0, 0, 0));
    }
    if (!strcmp(name, "keyctl"))
        return result(syscall(SYS_add_key, "user", "x", "y", 1, -4 /* session */));
    if (!strcmp(name, "bpf")) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.map_type = BPF_MAP_TYPE_ARRAY;
        a.key_size = 4;
        a.value_size = 4;
        a.max_entries = 1;
        return result(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
    }
    if (!strcmp(name, "userfaultfd"))
        return result(syscall(SYS_userfaultfd, 0));
    if (!strcmp(name, "io_uring")) {
        char params[120];
        memset(params, 0, sizeof params);
        return result(syscall(SYS_io_uring_setup, 4, params));
    }
    if (!strcmp(name, "perf_event_open")) {
        struct perf_event_attr pa;
        memset(&pa, 0, sizeof pa);
        pa.size = sizeof pa;
        pa.type = PERF_TYPE_SOFTWARE;
        pa.config = PERF_COUNT_SW_CPU_CLOCK;
        return result(syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0));
    }
    if (!strcmp(name, "init_module"))
        return result(syscall(SYS_init_module, "", 0, ""));
    if (!strcmp(name, "finit_module"))
        return result(syscall(SYS_finit_module, 0, "", 0));
    if (!strcmp(name, "reboot"))
        return result(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                              LINUX_REBOOT_CMD_CAD_OFF, 0));
    if (!strcmp(name, "kexec_load"))
        return result(syscall(SYS_kexec_load, 0, 0, 0, 0));
    if (!strcmp(name, "sethostname"))
        return result(sethostname("pwned", 5));
    if (!strcmp(name, "setuid0"))
        return result(setuid(0));
    if (!strcmp(name, "setgid0"))
        return result(setgid(0));
    if (!strcmp(name, "capset-raise")) {
        struct { unsigned v; int pid; } h = {0x20080522, 0};
        unsigned d[6] = {~0u, ~0u, 0, ~0u, ~0u, 0};
        return result(syscall(SYS_capset, &h, d));
    }
    if (!strcmp(name, "mknod"))
        return result(mknod("/tmp/mem", S_IFCHR | 0666, makedev(1, 1)));
    if (!strcmp(name, "open"))
        return open_rw(arg);
    if (!strcmp(name, "read")) {
        int fd = open(arg, O_RDONLY);
        return result(fd);
    }
    if (!strcmp(name, "write")) {
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return result(-1);
        ssize_t n = write(fd, "1\n", 2);
        return result(n < 0 ? -1 : n);
    }
    if (!strcmp(name, "clone-newuser")) {
        long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid((pid_t)pid, NULL, 0);
        return result(pid);
    }
    if (!strcmp(name, "clone3")) {
        long rc = syscall(435 /* clone3 */, NULL, 0);
        if (errno == ENOSYS)
            return result(-1);
        return result(rc < 0 && errno != ENOSYS ? 0 : rc);
    }
    if (!strcmp(name, "unshare-net"))
        return result(unshare(CLONE_NEWNET));
    if (!strcmp(name, "unshare-mnt"))
        return result(unshare(CLONE_NEWNS));
    /* every namespace type is a per-user kernel budget too */
    if (!strcmp(name, "unshare-user"))
        return result(unshare(CLONE_NEWUSER));
    if (!strcmp(name, "unshare-pid"))
        return result(unshare(CLONE_NEWPID));
    if (!strcmp(name, "unshare-uts"))
        return result(unshare(CLONE_NEWUTS));
    if (!strcmp(name, "unshare-ipc"))
        return result(unshare(CLONE_NEWIPC));
    if (!strcmp(name, "unshare-cgroup"))
        return result(unshare(CLONE_NEWCGROUP));
    if (!strcmp(name, "unshare-time"))
        return result(unshare(0x80 /* CLONE_NEWTIME */));
    if (!strcmp(name, "fanotify_init"))
        /* FAN_CLASS_NOTIF | FAN_REPORT_FID: the mode open to unprivileged users */
        return result(syscall(SYS_fanotify_init, 0x200, 0));
    if (!strcmp(name, "setns-init")) {
        int fd = open("/proc/1/ns/mnt", O_RDONLY);
        if (fd < 0)
            return result(-1);
        return result(setns(fd, 0));
    }
    if (!strcmp(name, "mount-tmpfs"))
        return result(mount("x", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(name, "umount-proc"))
        return result(umount2("/proc", MNT_DETACH));
    if (!strcmp(name, "chroot"))
        return result(chroot("/tmp"));
    if (!strcmp(name, "pivot_root"))
        return result(syscall(SYS_pivot_root, ".", "."));
    if (!strcmp(name, "socket-alg"))
        return sock(38 /* AF_ALG */, SOCK_SEQPACKET, 0);
    if (!strcmp(name, "socket-vsock"))
        return sock(40 /* AF_VSOCK */, SOCK_STREAM, 0);
    if (!strcmp(name, "socket-packet"))
        return sock(17 /* AF_PACKET */, SOCK_RAW, 0);
    if (!strcmp(name, "socket-raw-icmp"))
        return sock(AF_INET, SOCK_RAW, 1);
    if (!strcmp(name, "socket-netlink-audit"))
        return sock(16, SOCK_RAW, 9 /* NETLINK_AUDIT */);
    if (!strcmp(name, "socket-netlink-uevent"))
        return sock(16, SOCK_RAW, 15 /* NETLINK_KOBJECT_UEVENT */);
    if (!strcmp(name, "open_by_handle_at")) {
        char h[128];
        memset(h, 0, sizeof h);
        ((unsigned *)h)[0] = 8;
        return result(syscall(SYS_open_by_handle_at, AT_FDCWD, h, O_RDONLY));
    }
    if (!strcmp(name, "name_to_handle_at")) {
        char h[128];
        int mnt;
        memset(h, 0, sizeof h);
        ((unsigned *)h)[0] = 64;
        return result(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", h, &mnt, 0));
    }
    if (!strcmp(name, "process_vm_readv")) {
        char buf[8];
        struct iovec l = {buf, sizeof buf}, r = {(void *)0x400000, sizeof buf};
        return result(process_vm_readv(1, &l, 1, &r, 1, 0));
    }
    if (!strcmp(name, "kcmp"))
        return result(syscall(SYS_kcmp, 1, getpid(), 0, 0, 0));
    if (!strcmp(name, "personality-norandom"))
        return result(personality(ADDR_NO_RANDOMIZE) < 0 ? -1 :
                      (personality(0xffffffff) & ADDR_NO_RANDOMIZE) ? 1 : (errno = EPERM, -1));
    if (!strcmp(name, "syslog"))
        return result(syscall(SYS_syslog, 3, (char[64]){0}, 64));
    if (!strcmp(name, "swapon"))
        return result(syscall(SYS_swapon, "/tmp/x", 0));
    if (!strcmp(name, "acct"))
        return result(syscall(SYS_acct, "/tmp/acct"));
    if (!strcmp(name, "settimeofday")) {
        struct timespec ts = {1, 0};
        return result(clock_settime(CLOCK_REALTIME, &ts));
    }
    if (!strcmp(name, "iopl"))
        return result(syscall(SYS_iopl, 3));
    if (!strcmp(name, "raise-nofile")) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_max += 1;
        rl.rlim_cur = rl.rlim_max;
        return result(setrlimit(RLIMIT_NOFILE, &rl));
    }
    if (!strcmp(name, "abstract-connect")) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        size_t l = strlen(arg);
        memcpy(a.sun_path + 1, arg, l);
        return result(connect(s, (struct sockaddr *)&a, (socklen_t)(sizeof(sa_family_t) + 1 + l)));
    }
    if (!strcmp(name, "proc1-exe-write"))
        return open_rw("/proc/1/exe");
    if (!strcmp(name, "proc1-exe-read"))
        return result(open("/proc/1/exe", O_RDONLY));
    if (!strcmp(name, "proc1-environ"))
        return result(open("/proc/1/environ", O_RDONLY));
    if (!strcmp(name, "proc1-mem"))
        return result(open("/proc/1/mem", O_RDONLY));
    if (!strcmp(name, "proc1-root")) {
        DIR *d = opendir("/proc/1/root/");
        return result(d ? 0 : -1);
    }
    if (!strcmp(name, "leaked-fds")) {
        /* Allowed = some fd other than 0,1,2 (and the one listing) exists. */
        DIR *d = opendir("/proc/self/fd");
        if (!d)
            return result(-1);
        int extra = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            int fd = atoi(de->d_name);
            if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
                continue;
            char p[64], t[256] = "";
            snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
            if (readlink(p, t, sizeof t - 1) < 0)
                t[0] = 0;
            printf("leaked fd %d -> %s\n", fd, t);
            extra++;
        }
        closedir(d);
        if (!extra)
            errno = EBADF;
        return result(extra ? extra : -1);
    }
    if (!strcmp(name, "nft-delete"))
        return nft_delete();
    if (!strcmp(name, "euid")) {
        printf("euid=%d\n", (int)geteuid());
        if (geteuid() == 0)
            return result(0);
        errno = EPERM;
        return result(-1);
    }
    return 2;
}
