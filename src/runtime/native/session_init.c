/*
 * session_init.c - child side: pid 1 of a session sandbox.
 *
 * After building the filesystem (init.c, mounts.c), init does not run one
 * command: it serves the monitor's requests on LCS_FD_CTL, a
 * SOCK_SEQPACKET socketpair made by the monitor (messages in native.h).
 *
 * Why no sandboxed process can reach that socket or init:
 *   - the socketpair is fd 0 of init only; every exec child gets its own
 *     stdin/stdout/stderr on 0-2 and every other descriptor is close-on-exec
 *     (close_range(3, ~0, CLOEXEC) right before the exec path), so no
 *     command ever holds the socket; an abstract or path name does not
 *     exist (socketpair), so nothing can connect to it either;
 *   - init is non-dumpable and runs as uid 0 of the sandbox's user
 *     namespace while commands run as uid 1000 without capabilities, so
 *     /proc/1/fd, /proc/1/mem and ptrace are refused (and the seccomp
 *     profile denies ptrace, process_vm_* and pidfd_getfd outright);
 *   - init holds no host descriptor but the socketpair: the mount clones it
 *     hands over (root, /tmp, input, output) are sent and closed at once.
 *
 * An exec: the monitor sends EXEC with the command's stdio fds and a memfd
 * holding argv, env and cwd. Init forks the child, which blocks on a pipe;
 * init sends STARTED with a pidfd (the monitor reads the host pid from it
 * and moves the child into the exec's own cgroup), the monitor answers GO,
 * and only then does the child drop privileges and execve: no instant of
 * the command runs outside its cgroup. Init reaps everything (orphaned
 * daemons included) through a signalfd and reports EXITED for execs.
 *
 * init is a copy of the single-threaded monitor executable, so ordinary
 * libc calls are fine here.
 */
#include "util/fdpass.h"
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

typedef struct slot {
    int used;
    uint32_t id;
    pid_t pid;
    int go; /* write end of the child's go pipe, -1 once released */
} slot;

static int send_msg_fds(const lcs_native_msg *m, const int *fds, int nfds)
{
    return lcs_send_with_fds(LCS_FD_CTL, m, sizeof *m, fds, nfds) == (ssize_t)sizeof *m ? 0 : -1;
}

static int send_msg(const lcs_native_msg *m, int fd)
{
    return send_msg_fds(m, &fd, fd >= 0 ? 1 : 0);
}

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* Parse the blob into pointer arrays (in a fresh anonymous mapping). */
static int parse_blob(const char *blob, size_t len, uint32_t nargv, uint32_t nenv,
                      const char ***argv, const char ***env, const char **cwd, void **map,
                      size_t *map_len)
{
    if (nargv == 0 || nargv > 1u << 20 || nenv > 1u << 20)
        return -1;
    size_t total = (size_t)nargv + 1 + nenv + 1;
    *map_len = total * sizeof(char *);
    *map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (*map == MAP_FAILED)
        return -1;
    const char **a = *map, **e = a + nargv + 1;
    size_t off = 0;
    for (uint32_t i = 0; i < nargv + nenv + 1; i++) {
        const char *z = off < len ? memchr(blob + off, 0, len - off) : NULL;
        if (!z) {
            munmap(*map, *map_len);
            return -1;
        }
        if (i < nargv)
            a[i] = blob + off;
        else if (i < nargv + nenv)
            e[i - nargv] = blob + off;
        else
            *cwd = blob[off] ? blob + off : NULL;
        off = (size_t)(z - blob) + 1;
    }
    a[nargv] = NULL;
    e[nenv] = NULL;
    *argv = a;
    *env = e;
    return 0;
}

static void start_exec(const lcs_plan *p, slot *slots, const lcs_native_msg *m, int *fds)
{
    lcs_native_msg r;
    memset(&r, 0, sizeof r);
    r.id = m->id;
    r.type = LCS_MSG_FAILED;
    slot *sl = NULL;
    for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++)
        if (!slots[i].used) {
            sl = &slots[i];
            break;
        }
    size_t len = m->value > 0 ? (size_t)m->value : 0;
    void *blob = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fds[3], 0) : MAP_FAILED;
    const char **argv = NULL, **env = NULL, *cwd = NULL;
    void *map = NULL;
    size_t map_len = 0;
    int gp[2] = {-1, -1};
    if (!sl || blob == MAP_FAILED ||
        parse_blob(blob, len, m->nargv, m->nenv, &argv, &env, &cwd, &map, &map_len) < 0) {
        r.value = !sl ? EAGAIN : EINVAL;
        goto out;
    }
    if (pipe2(gp, O_CLOEXEC) < 0) {
        r.value = errno;
        goto out;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
    if (pid < 0) {
        r.value = errno;
        goto out;
    }
    if (pid == 0) {
        /* The exec child: its stdio, nothing else across execve. */
        if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
            _exit(125);
        syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
        char go = 0;
        ssize_t n;
        do
            n = read(gp[0], &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
            _exit(125); /* the monitor gave up on this exec */
        /* Own session and process group: the fallback kill (no cgroup)
         * signals the group; terminal signals of init never reach it. */
        setsid();
        lcs_init_exec(p, argv, env, cwd, 1);
    }
    sl->used = 1;
    sl->id = m->id;
    sl->pid = pid;
    sl->go = gp[1];
    gp[1] = -1;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    r.type = LCS_MSG_STARTED;
    r.value = pid;
    if (send_msg(&r, pfd) < 0) {
        /* The monitor is gone: nothing to serve. */
        _exit(0);
    }
    if (pfd >= 0)
        close(pfd);
    r.type = 0;
out:
    if (r.type == LCS_MSG_FAILED)
        send_msg(&r, -1);
    if (gp[0] >= 0)
        close(gp[0]);
    if (gp[1] >= 0)
        close(gp[1]);
    if (map)
        munmap(map, map_len);
    if (blob != MAP_FAILED)
        munmap(blob, len);
    close_fds(fds, 4);
}

static slot *find(slot *slots, uint32_t id)
{
    for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++)
        if (slots[i].used && slots[i].id == id)
            return &slots[i];
    return NULL;
}

static void reap(slot *slots)
{
    for (;;) {
        int st;
        struct rusage ru;
        pid_t w = wait4(-1, &st, WNOHANG | __WALL, &ru);
        if (w <= 0)
            return;
        for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++) {
            if (!slots[i].used || slots[i].pid != w)
                continue;
            lcs_native_msg r;
            memset(&r, 0, sizeof r);
            r.type = LCS_MSG_EXITED;
            r.id = slots[i].id;
            r.value = st;
            r.utime_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec;
            r.stime_us = (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
            r.maxrss_kb = (uint32_t)ru.ru_maxrss;
            if (slots[i].go >= 0)
                close(slots[i].go);
            memset(&slots[i], 0, sizeof slots[i]);
            if (send_msg(&r, -1) < 0)
                _exit(0);
        }
    }
}

_Noreturn void lcs_init_serve(const lcs_plan *p, int *views)
{
    /* stdout/stderr of init lead nowhere from now on. */
    int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dn >= 0) {
        dup2(dn, LCS_FD_STDOUT);
        dup2(dn, LCS_FD_STDERR);
        close(dn);
    }
    signal(SIGPIPE, SIG_IGN);
    lcs_native_msg m;
    memset(&m, 0, sizeof m);
    m.type = LCS_MSG_ROOT;
    int vfds[LCS_NATIVE_VIEWS], nv = 0;
    for (int i = 0; i < LCS_NATIVE_VIEWS; i++)
        if (views[i] >= 0) {
            m.value |= 1 << i; /* which views follow, in order */
            vfds[nv++] = views[i];
        }
    if (send_msg_fds(&m, vfds, nv) < 0)
        _exit(0);
    for (int i = 0; i < nv; i++)
        close(vfds[i]);
    /* Setup is complete: 'R' on the status pipe, which then closes. */
    unsigned char rec[3] = {'R', 0, 0};
    if (write(LCS_FD_STATUS, rec, 3) != 3)
        _exit(0);
    close(LCS_FD_STATUS);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        _exit(125);
    slot slots[LCS_NATIVE_MAX_EXECS];
    memset(slots, 0, sizeof slots);
    for (;;) {
        struct pollfd pf[2] = {{LCS_FD_CTL, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(125);
        }
        if (pf[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            reap(slots);
        }
        if (!pf[0].revents)
            continue;
        union {
            char buf[CMSG_SPACE(4 * sizeof(int))];
            struct cmsghdr align;
        } u;
        struct iovec iov = {&m, sizeof m};
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        ssize_t n = recvmsg(LCS_FD_CTL, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0); /* the monitor is gone: so is the sandbox */
        int fds[4] = {-1, -1, -1, -1};
        int nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < k && nfds < 4; i++)
                    memcpy(&fds[nfds++], CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
            }
        if (n != (ssize_t)sizeof m || (mh.msg_flags & MSG_CTRUNC)) {
            close_fds(fds, 4);
            continue;
        }
        slot *sl;
        switch (m.type) {
        case LCS_MSG_EXEC:
            if (nfds == 4) {
                start_exec(p, slots, &m, fds);
            } else {
                close_fds(fds, 4);
                lcs_native_msg r = {.type = LCS_MSG_FAILED, .id = m.id, .value = EINVAL};
                send_msg(&r, -1);
            }
            break;
        case LCS_MSG_GO:
            if ((sl = find(slots, m.id)) && sl->go >= 0) {
                if (write(sl->go, "g", 1) != 1) {
                    /* the child died already; EXITED follows */
                }
                close(sl->go);
                sl->go = -1;
            }
            close_fds(fds, 4);
            break;
        case LCS_MSG_KILL:
            if ((sl = find(slots, m.id))) {
                kill(-sl->pid, SIGKILL);
                kill(sl->pid, SIGKILL);
            }
            close_fds(fds, 4);
            break;
        default:
            close_fds(fds, 4);
            break;
        }
    }
}
