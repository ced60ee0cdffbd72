/*
 * init.c - child side: pid 1 of the sandbox.
 *
 * The monitor clones this process into fresh namespaces. It waits until the
 * monitor has written its uid/gid maps and put it into the cgroups, builds
 * the filesystem, forks the command, reaps every zombie, and exits once the
 * command is gone; the kernel then kills whatever is left in the pid
 * namespace (daemons included).
 *
 * Why the host binary cannot be reached (the runc CVE-2019-5736 class):
 * init is a fork of the monitor's executable, but the command never runs
 * that executable: it is a child of init that execve()s the target, so its
 * /proc/self/exe is the sandbox's own file. Init itself is made non-dumpable
 * before it does anything for the sandbox, so its /proc/1/{exe,mem,environ,fd} belong to the sandbox's root
 * and ptrace is refused to the sandbox user (uid 1000, no capabilities).
 * After pivot_root the host's filesystem has no name inside the sandbox,
 * and init keeps no descriptor to a host file (all fds but 0-4 are closed
 * at clone time; 0-2 are pipes and /dev/null).
 *
 * Status pipe records to the monitor: 1 type byte, 2 length bytes, payload.
 *   'E' text  - setup failed (also used by the command before execve)
 *   'R'       - the command was forked: setup is complete
 *   'L'       - (session) the seccomp filter is being loaded into init
 *   'D' int   - the command's execve failed with this errno under the
 *               seccomp filter and the command then died of a signal (the
 *               filter refused its exit too): the profile denied its start
 *   'W' int   - wait status of the command, written just before init exits
 */
#include "runtime/native/internal.h"
#include "util/fdpass.h"

#include <errno.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void send_record(char type, const void *data, size_t len)
{
    unsigned char buf[3 + sizeof(((lcs_child_err *)0)->msg)];
    if (len > sizeof buf - 3)
        len = sizeof buf - 3;
    buf[0] = (unsigned char)type;
    buf[1] = (unsigned char)(len & 0xff);
    buf[2] = (unsigned char)(len >> 8);
    if (len)
        memcpy(buf + 3, data, len);
    /* One write below PIPE_BUF: atomic, never interleaved. */
    ssize_t n;
    do
        n = write(LCS_FD_STATUS, buf, 3 + len);
    while (n < 0 && errno == EINTR);
}

_Noreturn void lcs_init_fail_setup(const lcs_child_err *e)
{
    send_record('E', e->msg, strlen(e->msg));
    _exit(125);
}
#define fail_setup lcs_init_fail_setup

/* execvpe without allocation: PATH from the sandbox environment. */
static LCS_NO_ASAN void exec_argv(const char *const *av, const char *const *env)
{
    const char *file = av[0];
    char *const *argv = (char *const *)av;
    char *const *envp = (char *const *)(env ? env : (const char *const[]){NULL});
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return;
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
    for (const char *const *e = env; e && *e; e++)
        if (!strncmp(*e, "PATH=", 5))
            path = *e + 5;
    int saved = ENOENT;
    char buf[PATH_MAX];
    while (*path) {
        const char *end = strchr(path, ':');
        size_t dl = end ? (size_t)(end - path) : strlen(path);
        if (dl + 1 + strlen(file) + 1 <= sizeof buf) {
            memcpy(buf, path, dl);
            buf[dl] = '/';
            strcpy(buf + dl + 1, file);
            execve(buf, argv, envp);
            if (errno != ENOENT && errno != ENOTDIR)
                saved = errno;
        }
        path += dl;
        if (*path == ':')
            path++;
    }
    errno = saved;
}

/* The command's process, from fork to execve: signals reset, privileges
 * dropped, cwd, every fd but 0-2 (and the close-on-exec status fd)
 * closed, seccomp, execve. Shared by one-shot runs and session execs. */
/* Session execs have no status pipe: setup errors go to the command's
 * stderr as text, exit status 125. */
static _Noreturn void fail_exec_status(const lcs_child_err *e, int text_errors, int status)
{
    if (!text_errors)
        lcs_init_fail_setup(e);
    char msg[sizeof e->msg + 16];
    int n = snprintf(msg, sizeof msg, "sandbox: %s\n", e->msg);
    if (n > 0 && write(LCS_FD_STDERR, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg) < 0) {
        /* nothing more to do */
    }
    _exit(status);
}

static _Noreturn void fail_exec(const lcs_child_err *e, int text_errors)
{
    fail_exec_status(e, text_errors, 125);
}

/* Whether the session's filter, just loaded into init, lets it make the
 * calls it serves with: each probe has a result the kernel gives when the
 * call is allowed (an invalid descriptor, no children yet, an empty poll)
 * and anything else means the filter answered. No allocation and no
 * output, since either may be refused: a profile that refuses these ends
 * init at once instead of leaving it to fail somewhere in its libc (which
 * may not end at all when even exit is refused). */
static LCS_NO_ASAN int filter_lets_init_serve(void)
{
    /* static: no stack array, which a sanitizer build may place on a heap
     * "fake stack" it maps on demand (a refused mmap it cannot survive) */
    static const struct {
        long nr, a, b, c, d;
        long ret;
        int err;
    } probes[] = {
        {SYS_read, -1, 0, 0, 0, -1, EBADF},
        {SYS_write, -1, 0, 0, 0, -1, EBADF},
        {SYS_sendmsg, -1, 0, 0, 0, -1, EBADF},
        {SYS_recvmsg, -1, 0, 0, 0, -1, EBADF},
        {SYS_poll, 0, 0, 0, 0, 0, 0},
        {SYS_wait4, -1, 0, WNOHANG, 0, -1, ECHILD},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        errno = 0;
        long r = syscall(probes[i].nr, probes[i].a, probes[i].b, probes[i].c, probes[i].d);
        if (r != probes[i].ret || (r < 0 && errno != probes[i].err))
            return 0;
    }
    return 1;
}

/* The signals this process ignores or catches (the caller's dispositions,
 * inherited through init): the SigIgn and SigCgt masks of /proc/self/status
 * (the sandbox's own proc), or every signal if they cannot be read. Four
 * system calls instead of one per signal. */
static uint64_t signals_to_reset(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return ~0ull;
    buf[n] = 0;
    uint64_t mask = 0;
    static const char *const keys[2] = {"\nSigIgn:", "\nSigCgt:"};
    for (int i = 0; i < 2; i++) {
        const char *s = strstr(buf, keys[i]);
        if (!s)
            return ~0ull;
        mask |= strtoull(s + strlen(keys[i]), NULL, 16);
    }
    return mask;
}

_Noreturn void lcs_init_exec(const lcs_plan *p, const char *const *argv, const char *const *env,
                             const char *cwd, int text_errors, volatile int *report)
{
    lcs_child_err e;
    /* The caller's ignored signals and blocked mask would survive execve,
     * and its handlers must not run in this process before it. */
    uint64_t reset = signals_to_reset();
    /* Raw rt_sigaction: glibc refuses to touch its own signals 32 and 33,
     * which a caller may well ignore (then the command would too). */
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
    } dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 1; sig <= 64; sig++)
        if (reset & (1ull << (sig - 1)))
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* The caller's umask (a session monitor runs with 077) is not the
     * sandbox's business. */
    umask(022);
    if (lcs_privs_drop(p, &e) < 0)
        fail_exec(&e, text_errors);
    if (!cwd)
        cwd = LCS_NATIVE_DEFAULT_CWD;
    if (chdir(cwd) < 0) {
        /* The command never started: not a limit (125 means one). A
         * session's vfork child hands the errno to init (an exec error
         * naming the directory); else a message, and status 126 ("cannot
         * be run") for a session's handshake child. */
        int ce = errno;
        if (report && p->session) {
            *report = LCS_CWD_FAILED + ce;
            _exit(126);
        }
        lcs_child_fail(&e, ce, "cannot change to the working directory %s", cwd);
        fail_exec_status(&e, text_errors, 126);
    }
    /* Nothing beyond stdin/stdout/stderr may cross execve. fd 4 (status) is
     * already close-on-exec; it reports a failing seccomp load. */
    if (syscall(SYS_close_range, 5U, ~0U, 0U) < 0 && errno != ENOSYS) {
        lcs_child_fail(&e, errno, "close inherited descriptors");
        fail_exec(&e, text_errors);
    }
    /* A session's exec inherited the filter from init (see lcs_init_main)
     * and stacks the guard on it, which refuses clone3 as the profile does
     * (init's own filter lets init use it: session_init.c). */
    if (!p->session && lcs_seccomp_install(p, &e) < 0)
        fail_exec(&e, text_errors);
    if (p->session && p->seccomp_guard.filter &&
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->seccomp_guard) < 0) {
        lcs_child_fail(&e, errno, "load the seccomp guard");
        fail_exec(&e, text_errors);
    }
    exec_argv(argv, env);
    /* A missing program is the command's failure, not the sandbox's:
     * report it like a shell does (status 127, message on stderr). */
    int saved = errno;
    if (report)
        *report = LCS_EXEC_FAILED + saved; /* a store: allowed whatever the filter */
    char msg[PATH_MAX + 128];
    int n = snprintf(msg, sizeof msg, "sandbox: cannot execute %s: %s\n", argv[0],
                     strerrordesc_np(saved) ? strerrordesc_np(saved) : "error");
    if (n > 0 && write(LCS_FD_STDERR, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg) < 0) {
        /* nothing more to do */
    }
    LCS_RAW_EXIT(saved == ENOENT ? 127 : 126);
}


/* The command's process, with vfork(): it shares init's memory until its
 * execve (or _exit) and init sleeps meanwhile, so no page table is copied,
 * which is most of a fork's cost on a virtual machine. Safe because the
 * child runs only lcs_init_exec, which never returns, writes nothing of
 * init's but its own stack frames, and makes the privilege changes with raw
 * system calls (glibc's wrappers would coordinate with threads that exist
 * only in init's memory image). Its signal handlers are its own and reset
 * first; vfork runs no atfork handlers, so no lock another thread of the
 * caller held at clone time is touched. */
static pid_t __attribute__((noinline)) spawn_command(const lcs_plan *p, int *exec_errno)
{
    /* No handler of the caller may run in the child before it has reset
     * them (lcs_init_exec unblocks); init itself only needs waitpid. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    volatile int report = 0; /* the child's store (shared memory until execve) */
    pid_t pid = vfork();
    if (pid == 0)
        lcs_init_exec(p, p->argv, p->env, p->cwd, 0, &report);
    *exec_errno = report >= LCS_EXEC_FAILED ? report - LCS_EXEC_FAILED : 0;
    return pid;
}

/* init is a copy of the monitor, so /proc/1/cmdline (readable by anyone,
 * unlike environ or mem) would show the host's command line, which may
 * carry secrets. Overwrite init's copy of it; the command has its own. */
static void hide_host_cmdline(void)
{
    prctl(PR_SET_NAME, "init", 0, 0, 0);
    char buf[2048];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return;
    /* fields after comm start at 3 (state); arg_start is 48, env_end 51 */
    unsigned long v[52] = {0};
    int field = 2;
    for (char *t = p + 1; *t && field < 51;) {
        while (*t == ' ')
            t++;
        field++;
        char *end;
        v[field] = strtoul(t, &end, 10);
        if (end == t)
            while (*end && *end != ' ')
                end++;
        t = end;
    }
    if (field < 51 || !v[48] || v[49] <= v[48] || !v[50] || v[51] <= v[50])
        return;
    memset((void *)v[48], 0, v[49] - v[48]);
    memcpy((void *)v[48], "init", v[49] - v[48] > 5 ? 5 : v[49] - v[48]);
    memset((void *)v[50], 0, v[51] - v[50]);
}

_Noreturn void lcs_init_main(const lcs_plan *p)
{
    lcs_child_err e;
    /* FULL network: the filter that keeps the host out of reach, loaded
     * first thing, while the monitor writes our maps and starts pasta (the
     * two overlap): init sees the host's nft and holds CAP_NET_ADMIN of its
     * user namespace, and no sandbox code exists yet. A failure is reported
     * after the release byte, like every other setup failure. */
    lcs_child_err net_e;
    int net_rc = p->network == LCS_NATIVE_NET_FULL ? lcs_net_filter_install(p, &net_e) : 0;
    /* Wait until the monitor has written our uid/gid maps and cgroups. EOF
     * means the monitor gave up: leave without doing anything. */
    char go = 0;
    ssize_t n;
    do
        n = read(LCS_FD_SYNC, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != 'G')
        _exit(124);
    /* Non-dumpable from here on (see the header comment). Not earlier: until
     * the release byte, only host root may look at us, and pasta has to
     * open our /proc/<pid>/ns files while we wait. No sandbox code runs yet. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Cloned by host root, we still carry host uid 0, which our namespace
     * does not map: become the namespace's own root (host uid 100000) so
     * the files we create and the dirs we may write are the sandbox's, and
     * drop host group 0 from the supplementary groups. Rootless callers are
     * already their mapped uid. Raw system calls: glibc's wrappers would try
     * to signal the other threads of a multithreaded caller, which exist
     * only in its memory image, not in this process. */
    if (!p->rootless &&
        (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, 0, 0, 0) < 0 ||
         syscall(SYS_setresuid, 0, 0, 0) < 0)) {
        lcs_child_fail(&e, errno, "become root of the sandbox's user namespace");
        fail_setup(&e);
    }
    /* The sandbox's share of the kernel's per-user budgets (userns.c),
     * before any sandbox code runs and while we still hold CAP_SYS_RESOURCE
     * in our user namespace. */
    if (lcs_userns_apply_budgets(p, &e) < 0)
        fail_setup(&e);
    if (setsid() < 0) {
        lcs_child_fail(&e, errno, "setsid");
        fail_setup(&e);
    }
    if (sethostname("sandbox", 7) < 0) {
        lcs_child_fail(&e, errno, "sethostname in the sandbox's uts namespace");
        fail_setup(&e);
    }
    int root_clone[LCS_NATIVE_VIEWS];
    if (net_rc < 0)
        fail_setup(&net_e);
    if (lcs_net_loopback_up(&e) < 0 || lcs_mounts_setup(p, p->session ? root_clone : NULL, &e) < 0)
        fail_setup(&e);

    hide_host_cmdline();
    /* 'C' comes with the v1 "tasks" files of our cgroups (we were born in
     * the cgroup2 one). We are single-threaded, so writing "0" into each
     * moves all of us, without the kernel's global threadgroup lock; the
     * files were opened by the monitor, whose credentials the kernel
     * checks. Only once every write succeeded may sandbox code run. */
    int tfds[LCS_FDPASS_MAX], nt = 0;
    n = lcs_recv_with_fds(LCS_FD_SYNC, &go, 1, tfds, LCS_FDPASS_MAX, &nt, 0);
    if (n != 1 || go != 'C' || nt < 0)
        _exit(124);
    for (int i = 0; i < nt; i++) {
        ssize_t w;
        do
            w = write(tfds[i], "0", 1);
        while (w < 0 && errno == EINTR);
        if (w != 1) {
            lcs_child_fail(&e, w < 0 ? errno : EIO, "join the sandbox's cgroup v1 hierarchies");
            fail_setup(&e);
        }
        close(tfds[i]);
    }
    close(LCS_FD_SYNC);
    /* Our own cgroup namespace now that we are in our cgroups: the sandbox
     * sees its cgroup as "/". Not for a split session (exec_cgns): there
     * each exec is born into a namespace rooted at its own exec cgroup, and
     * init keeps the caller's, in which its clones into work/ are visible
     * (a cgroup2 mounted with nsdelegate requires that). */
    if (!p->exec_cgns && unshare(CLONE_NEWCGROUP) < 0) {
        lcs_child_fail(&e, errno, "unshare the cgroup namespace");
        fail_setup(&e);
    }
    if (p->session) {
        /* A session's init takes the seccomp filter itself, once: every
         * exec inherits it (one load per session instead of one per exec,
         * ~0.4 ms each on a VM), and pid 1 runs confined too. init keeps
         * its capabilities (inside its user namespace): the filter allows
         * the calls an exec child makes to drop them (setgroups, prctl,
         * setres[ug]id, capset), which it does before its execve. Its
         * bounding set goes too (execs inherit it empty): init never execs,
         * so the capabilities it holds are untouched. */
        if (lcs_privs_drop_bounding(p, &e) < 0)
            fail_setup(&e);
        /* 'L' first: if init dies before its 'R', the profile refused a
         * system call init itself needs, and the monitor can say so (init
         * cannot: the filter may refuse the write as well). */
        send_record('L', NULL, 0);
        if (lcs_seccomp_install(p, &e) < 0)
            fail_setup(&e);
        if (!filter_lets_init_serve())
            LCS_RAW_EXIT(125); /* the monitor names the profile ('L', no 'R') */
        lcs_init_serve(p, root_clone); /* never returns */
    }
    int exec_errno = 0;
    pid_t cmd = spawn_command(p, &exec_errno);
    if (cmd < 0) {
        lcs_child_fail(&e, errno, "start the command");
        fail_setup(&e);
    }

    send_record('R', NULL, 0);
    /* init keeps no end of the command's stdio open, so the monitor sees EOF
     * as soon as the sandbox's last writer is gone. */
    close(LCS_FD_STDIN);
    close(LCS_FD_STDOUT);
    close(LCS_FD_STDERR);
    int status = 0;
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, __WALL);
        if (w == cmd) {
            status = st;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
    }
    if (exec_errno && WIFSIGNALED(status))
        send_record('D', &exec_errno, sizeof exec_errno);
    send_record('W', &status, sizeof status);
    /* Exiting kills every remaining process of the pid namespace. */
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
