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
 * An exec: the monitor sends EXEC with the command's stdio fds, a memfd
 * holding argv, env and cwd, open descriptors of the files that join the
 * exec's cgroups (v2 cgroup.procs; v1 "tasks" of the memory cgroup and the
 * freezer where they are used) and, where init may clone into it, the
 * exec's cgroup2 directory. Init starts the child with clone3(CLONE_VFORK |
 * CLONE_INTO_CGROUP) into that directory (spawn_into), else with vfork();
 * the child writes "0" into each remaining file, and only then drops
 * privileges and execve()s: no instant of the command runs outside its
 * cgroup, and a child that cannot move exits before running anything of
 * the command. Init reaps everything (orphaned daemons included) through a
 * signalfd and reports EXITED for execs.
 *
 * Moving by descriptor: since Linux 5.16 (and its stable backports of the
 * CVE-2021-4197 fix) a write to cgroup.procs is checked against the
 * credentials and cgroup namespace of whoever OPENED the file (the
 * monitor, on the host), not of the writer; for the common ancestor of
 * the session cgroup and the exec cgroup those are exactly the checks the
 * monitor's own write of a pid would pass (cgroup v2 and v1 alike). On a
 * kernel that checks the writer instead, the write fails (init's uid does
 * not own the host's cgroup files): init then falls back, for that exec
 * and every later one, to the old handshake: a fork()ed child that waits
 * on a pipe, STARTED with a pidfd to the monitor, which writes the host
 * pid into the exec cgroup and answers GO.
 *
 * Why vfork: init is a copy of the monitor's memory image, and a fork()
 * copies its page tables and makes the child fault on every page it (or
 * init) writes afterwards, ~20 us each on a virtual machine; the vfork
 * child borrows init's memory until its execve, and init sleeps meanwhile.
 * The child writes nothing of init's but its own stack frames below
 * start_exec's and the error slot init reads after vfork returns;
 * lcs_init_exec makes the privilege changes with raw system calls. Signals
 * are blocked around vfork so no disposition of init runs in the child
 * before lcs_init_exec resets them.
 *
 * init is a copy of the single-threaded monitor executable, so ordinary
 * libc calls are fine here.
 */
#include "util/fdpass.h"
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
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

/* Descriptors of an EXEC request: stdin, stdout, stderr, the blob, then
 * up to three files to join the exec's cgroups through (the session's
 * memory cgroup, which init is not in; the exec's v2 cgroup.procs; its v1
 * freezer: v1 ones are "tasks" files), then, when the message's cgdir
 * says so, the exec's cgroup2 directory. */
#define EXEC_FDS 8

/* How exec children are started (see start_exec). */
typedef struct spawn_mode {
    int handshake;      /* the STARTED/GO fallback */
    int no_clone_into;  /* CLONE_INTO_CGROUP was refused: write cgroup.procs */
    volatile int *failed; /* a MAP_SHARED word: the child's error, seen by init */
} spawn_mode;

typedef struct slot {
    int used;
    uint32_t id;
    pid_t pid;
    int go; /* handshake mode: write end of the child's go pipe, -1 once released */
    int exec_errno; /* its execve failed under the filter with this errno */
    int born;       /* cloned straight into its cgroup2 directory */
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
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* The request blob (written by the session client into a memfd, which
 * the monitor checked is one): nargv argv strings, nadd environment
 * additions ("K=V"), the cwd ("" = the session's), each NUL-terminated.
 * Read with pread into init's own memory, so a client that changes or
 * truncates its memfd afterwards changes nothing here. */
#define BLOB_MAX (64u << 20)
#define BLOB_SMALL (64u * 1024u) /* reused buffer of lcs_init_serve */

static int read_blob(int fd, char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = pread(fd, buf + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

static size_t strv_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* argv and the environment as pointer arrays in vec (cap entries, on
 * init's stack) when they fit, else in a fresh populated mapping (*map,
 * unmapped by the caller). The environment is the session's (p->env) with
 * the additions applied: an addition replaces the session's entry of the
 * same name. */
static int parse_blob(const lcs_plan *p, const char *blob, size_t len, uint32_t nargv,
                      uint32_t nadd, const char **vec, size_t cap, const char ***argv,
                      const char ***env, const char **cwd, void **map, size_t *map_len)
{
    if (nargv == 0 || nargv > 1u << 20 || nadd > 1u << 20)
        return -1;
    size_t nsess = strv_len(p->env);
    size_t total = (size_t)nargv + 1 + nsess + nadd + 1;
    const char **a = vec;
    if (total > cap) {
        *map_len = total * sizeof(char *);
        *map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (*map == MAP_FAILED) {
            *map = NULL;
            return -1;
        }
        a = *map;
    }
    /* additions first go after the session's slots */
    const char **e = a + nargv + 1, **add = e + nsess;
    size_t off = 0;
    for (uint32_t i = 0; i < nargv + nadd + 1; i++) {
        const char *z = off < len ? memchr(blob + off, 0, len - off) : NULL;
        if (!z)
            return -1;
        const char *str = blob + off;
        if (i < nargv) {
            a[i] = str;
        } else if (i < nargv + nadd) {
            if (!strchr(str, '='))
                return -1;
            add[i - nargv] = str;
        } else {
            *cwd = str[0] ? str : p->cwd;
        }
        off = (size_t)(z - blob) + 1;
    }
    a[nargv] = NULL;
    size_t k = 0;
    for (size_t i = 0; i < nsess; i++) {
        size_t kl = strcspn(p->env[i], "=");
        int overridden = 0;
        for (uint32_t j = 0; j < nadd && !overridden; j++)
            overridden = !strncmp(add[j], p->env[i], kl) && add[j][kl] == '=';
        if (!overridden)
            e[k++] = p->env[i];
    }
    memmove(e + k, add, nadd * sizeof *add);
    e[k + nadd] = NULL;
    *argv = a;
    *env = e;
    return 0;
}

/* Both kinds of exec child: stdio on 0-2, every other fd close-on-exec,
 * own session and process group (the fallback kill without a cgroup
 * signals the group; terminal signals of init never reach it). */
static int child_stdio(const int *fds)
{
    if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        return -1;
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    setsid();
    return 0;
}

/* The vfork child: into the exec cgroup, then the command. On a failure
 * before the command, *failed gets the errno (init reads it once vfork
 * returns: the memory is shared) and the child exits. */
static _Noreturn void vfork_child(const lcs_plan *p, const int *fds, int nfds, int skip,
                                  const char *const *argv, const char *const *env,
                                  const char *cwd, volatile int *failed)
{
    for (int i = 4; i < nfds; i++) {
        if (i == skip)
            continue;
        ssize_t n;
        do
            n = write(fds[i], "0", 1);
        while (n < 0 && errno == EINTR);
        if (n != 1) {
            *failed = n < 0 && errno ? errno : EIO;
            LCS_RAW_EXIT(125);
        }
    }
    if (child_stdio(fds) < 0) {
        *failed = errno ? errno : EIO;
        LCS_RAW_EXIT(125);
    }
    lcs_init_exec(p, argv, env, cwd, 1, failed);
}

/* vfork in a function of its own: nothing of the caller's frame can be
 * clobbered by the child, and the child never returns here. */
static pid_t __attribute__((noinline))
spawn_vfork(const lcs_plan *p, const int *fds, int nfds, const char *const *argv,
            const char *const *env, const char *cwd, volatile int *failed)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = vfork();
    if (pid == 0)
        vfork_child(p, fds, nfds, -1, argv, env, cwd, failed);
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return pid;
}

/* The child born in its cgroup2 directory (clone3 CLONE_INTO_CGROUP): no
 * write into cgroup.procs, so no wait for the kernel's global threadgroup
 * lock (5-10 ms once the machine has been idle: internal.h). The kernel
 * checks init's own credentials and cgroup namespace here; the monitor
 * gave init's uid the session's and the exec's cgroup.procs files
 * (lcs_native_execcg_create), so init may place children there and
 * nowhere else. The directory's cgroup.procs (fds[skip]) is not written;
 * the v1 "tasks" files still are, by the child itself. CLONE_VFORK without
 * CLONE_VM: a copy of init's small image (a raw clone returns on its own
 * stack, which a shared-memory clone could not do safely in C); init
 * waits until the command's execve, so the child's error reaches it
 * through the shared word before init looks. */
/* dirfd < 0: not into a directory (the child writes every file of fds),
 * for a split session whose execs need their own cgroup namespace
 * (p->exec_cgns: CLONE_NEWCGROUP, rooted where the child is born, so a
 * command sees its exec cgroup as "/"). nproc: the join files among fds. */
static pid_t __attribute__((noinline))
spawn_into(const lcs_plan *p, const int *fds, int nproc, int skip, int dirfd,
           const char *const *argv, const char *const *env, const char *cwd,
           volatile int *failed)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VFORK | (dirfd >= 0 ? CLONE_INTO_CGROUP : 0) |
               (p->exec_cgns ? CLONE_NEWCGROUP : 0);
    ca.exit_signal = SIGCHLD;
    ca.cgroup = dirfd >= 0 ? (uint64_t)dirfd : 0;
    pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0)
        vfork_child(p, fds, nproc, dirfd >= 0 ? skip : -1, argv, env, cwd, failed);
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return pid;
}

/* The handshake child (fallback): fork()ed, waits for GO on a pipe while
 * the monitor moves it into its cgroup by pid. *go gets the pipe's write
 * end. */
static pid_t spawn_handshake(const lcs_plan *p, const int *fds, const char *const *argv,
                             const char *const *env, const char *cwd, int *go)
{
    int gp[2];
    if (pipe2(gp, O_CLOEXEC) < 0)
        return -1;
    /* exec_cgns: a cgroup namespace of its own here too (clone3, which
     * init's filter allows in that case; clone with CLONE_NEWCGROUP it
     * refuses) */
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_NEWCGROUP;
    ca.exit_signal = SIGCHLD;
    pid_t pid = p->exec_cgns
                    ? (pid_t)syscall(SYS_clone3, &ca, sizeof ca)
                    : (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
    if (pid < 0) {
        int e = errno;
        close(gp[0]);
        close(gp[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        if (child_stdio(fds) < 0)
            LCS_RAW_EXIT(125);
        char c = 0;
        ssize_t n;
        do
            n = read(gp[0], &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
            LCS_RAW_EXIT(125); /* the monitor gave up on this exec */
        lcs_init_exec(p, argv, env, cwd, 1, NULL);
    }
    close(gp[0]);
    *go = gp[1];
    return pid;
}

/* handshake_mode: set once a child could not move itself into its cgroup
 * through the monitor's descriptors (a kernel that checks the writer's
 * credentials); every later exec then uses the STARTED/GO handshake.
 * small: BLOB_SMALL bytes for requests that fit, or NULL. */
static void start_exec(const lcs_plan *p, slot *slots, const lcs_native_msg *m, int *fds,
                       int nfds, spawn_mode *mode, char *small)
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
    char *blob = small;
    void *big = NULL, *map = NULL;
    size_t map_len = 0;
    const char *vec[256];
    const char **argv = NULL, **env = NULL, *cwd = NULL;
    if (!sl) {
        r.value = EAGAIN;
        goto out;
    }
    if (len == 0 || len > BLOB_MAX) {
        r.value = EINVAL;
        goto out;
    }
    if (!small || len > BLOB_SMALL) {
        big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
        if (big == MAP_FAILED) {
            big = NULL;
            r.value = ENOMEM;
            goto out;
        }
        blob = big;
    }
    if (read_blob(fds[3], blob, len) < 0 ||
        parse_blob(p, blob, len, m->nargv, m->nenv, vec, sizeof vec / sizeof vec[0], &argv, &env,
                   &cwd, &map, &map_len) < 0) {
        r.value = EINVAL;
        goto out;
    }
    pid_t pid = -1;
    int go = -1, exec_errno = 0, born = 0;
    /* cgdir: the last descriptor is the exec's cgroup2 directory and
     * fds[cgdir - 1] its cgroup.procs (src/session/monitor.c) */
    int cgdir = m->cgdir >= 5 && (int)m->cgdir < nfds ? (int)m->cgdir - 1 : -1;
    int nproc = cgdir >= 0 ? nfds - 1 : nfds; /* without the directory */
    if (!mode->handshake) {
        volatile int *failedp = mode->failed;
        *failedp = 0;
        pid = -1;
        if (cgdir >= 0 && !mode->no_clone_into) {
            pid = spawn_into(p, fds, nproc, cgdir, fds[nfds - 1], argv, env, cwd, failedp);
            born = pid > 0;
            if (pid < 0 && (errno == EACCES || errno == EPERM || errno == ENOENT ||
                            errno == EBUSY || errno == EOPNOTSUPP || errno == EINVAL ||
                            errno == E2BIG || errno == ENOSYS))
                mode->no_clone_into = 1; /* refused: cgroup.procs from now on */
        }
        /* else the child writes every join file; with exec_cgns still in a
         * namespace of its own (a failure to make one fails the exec: the
         * command would see the host's cgroup paths) */
        if (pid < 0 && (cgdir < 0 || mode->no_clone_into))
            pid = p->exec_cgns ? spawn_into(p, fds, nproc, -1, -1, argv, env, cwd, failedp)
                               : spawn_vfork(p, fds, nproc, argv, env, cwd, failedp);
        int failed = *failedp;
        if (pid < 0) {
            r.value = errno;
            goto out;
        }
        if (failed >= LCS_EXEC_FAILED) {
            /* execve failed: the child reported it and exited (or the
             * filter refused that too and it died); EXITED follows */
            exec_errno = failed - LCS_EXEC_FAILED;
            failed = 0;
        }
        if (failed) {
            /* It never ran the command (init reaps it through the
             * signalfd; no slot, so no EXITED). A descriptor the kernel
             * would not let us write: the handshake from now on. */
            if (failed >= LCS_CWD_FAILED) {
                /* its working directory could not be entered */
                r.value = failed - LCS_CWD_FAILED;
                r.nargv = LCS_FAILED_CWD;
                goto out;
            }
            if (failed != EACCES && failed != EPERM) {
                r.value = failed;
                goto out;
            }
            mode->handshake = 1;
            pid = -1;
        }
    }
    if (pid < 0) {
        pid = spawn_handshake(p, fds, argv, env, cwd, &go);
        if (pid < 0) {
            r.value = errno;
            goto out;
        }
    }
    sl->used = 1;
    sl->id = m->id;
    sl->pid = pid;
    sl->go = go;
    sl->exec_errno = exec_errno;
    sl->born = born;
    if (go >= 0) {
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        lcs_native_msg s;
        memset(&s, 0, sizeof s);
        s.type = LCS_MSG_STARTED;
        s.id = m->id;
        s.value = pid;
        if (send_msg(&s, pfd) < 0)
            LCS_RAW_EXIT(0); /* the monitor is gone: nothing to serve */
        if (pfd >= 0)
            close(pfd);
    }
    r.type = 0;
out:
    if (r.type == LCS_MSG_FAILED)
        send_msg(&r, -1);
    if (map)
        munmap(map, map_len);
    if (big)
        munmap(big, len);
    close_fds(fds, nfds);
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
            r.cgdir = (uint32_t)slots[i].born;
            if (slots[i].exec_errno && WIFSIGNALED(st)) {
                r.nargv = LCS_EXITED_DENIED; /* the filter refused its start */
                r.nenv = (uint32_t)slots[i].exec_errno;
            }
            if (slots[i].go >= 0)
                close(slots[i].go);
            memset(&slots[i], 0, sizeof slots[i]);
            if (send_msg(&r, -1) < 0)
                LCS_RAW_EXIT(0);
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
        LCS_RAW_EXIT(0);
    for (int i = 0; i < nv; i++)
        close(vfds[i]);
    /* Setup is complete: 'R' on the status pipe, which then closes. */
    unsigned char rec[3] = {'R', 0, 0};
    if (write(LCS_FD_STATUS, rec, 3) != 3)
        LCS_RAW_EXIT(0);
    close(LCS_FD_STATUS);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        LCS_RAW_EXIT(125);
    slot slots[LCS_NATIVE_MAX_EXECS];
    /* The child's error word: shared, so a child that is a copy of init
     * (spawn_into) reaches init with it as a vfork child does. */
    volatile int *failed = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (failed == MAP_FAILED)
        LCS_RAW_EXIT(125);
    spawn_mode mode = {p->exec_handshake, 0, failed};
    /* One populated buffer for every request that fits (a fault per page
     * costs more than the copy on a virtual machine). */
    char *small = mmap(NULL, BLOB_SMALL, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (small == MAP_FAILED)
        small = NULL;
    memset(slots, 0, sizeof slots);
    for (;;) {
        struct pollfd pf[2] = {{LCS_FD_CTL, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            LCS_RAW_EXIT(125);
        }
        if (pf[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            reap(slots);
        }
        if (!pf[0].revents)
            continue;
        int fds[EXEC_FDS] = {-1, -1, -1, -1, -1, -1, -1, -1};
        int nfds = 0;
        ssize_t n = lcs_recv_with_fds(LCS_FD_CTL, &m, sizeof m, fds, EXEC_FDS, &nfds, 0);
        if (n <= 0)
            LCS_RAW_EXIT(0); /* the monitor is gone: so is the sandbox */
        if (n != (ssize_t)sizeof m || nfds < 0) {
            close_fds(fds, EXEC_FDS);
            continue;
        }
        slot *sl;
        switch (m.type) {
        case LCS_MSG_EXEC:
            if (nfds >= 4) {
                start_exec(p, slots, &m, fds, nfds, &mode, small);
            } else {
                close_fds(fds, EXEC_FDS);
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
            close_fds(fds, EXEC_FDS);
            break;
        case LCS_MSG_KILL:
            if ((sl = find(slots, m.id))) {
                kill(-sl->pid, SIGKILL);
                kill(sl->pid, SIGKILL);
            }
            close_fds(fds, EXEC_FDS);
            break;
        default:
            close_fds(fds, EXEC_FDS);
            break;
        }
    }
}
