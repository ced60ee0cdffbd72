/*
 * launch.c - lcs_native_run(): build one sandbox, run one command, tear
 * everything down. This file is the orchestration; each kernel concern has
 * its own file (userns.c, cgroup*.c, mounts.c, privs.c, seccomp.c, net.c,
 * init.c, monitor.c).
 *
 * Order of events:
 *   1. validate the spec, fill defaults, check every protection asked for
 *      is available (fail closed unless allow_degraded);
 *   2. per-run directory (overlay upper/work, mount point), cgroups,
 *      seccomp program, pipes;
 *   3. clone3 into new user/mount/pid/ipc/uts/net namespaces (and straight
 *      into the cgroup2 directory with CLONE_INTO_CGROUP when there is one);
 *      the child waits on the sync pipe;
 *   4. monitor writes uid/gid maps, joins the child to v1 cgroups, starts
 *      pasta for FULL network, then releases the child;
 *   5. monitor loop (monitor.c) until init exits; verdict and accounting;
 *   6. cleanup: kill whatever is left, remove cgroups and the run directory.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct run {
    lcs_plan plan;
    lcs_cgroup cg;
    int cg_made;
    char id[40];
    char rundir[PATH_MAX - 64];
    int in_sp[2], out_p[2], err_p[2], sync_p[2], status_p[2];
    pid_t pid;
    int pidfd;
    int v2_done;
    lcs_pasta pasta;
    lcs_seccomp_info sinfo;
    json_t *degraded;
    char **argv_copy, **env_copy;
    uint64_t memory;
    double cpus;
    uint32_t pids;
    double timeout;
    uint64_t out_limit, tmp_bytes;
} run;

static void close2(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0) {
            close(p[i]);
            p[i] = -1;
        }
}

static int degrade(run *R, const lcs_native_spec *s, lcs_error *err, const char *what,
                   const char *fix)
{
    if (!s->allow_degraded)
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "refusing to run without %s: %s (or allow a degraded sandbox)", what, fix);
    json_array_append_new(R->degraded, json_string(what));
    return 0;
}

static int check_path_arg(const char *what, const char *p, lcs_error *err)
{
    /* Overlay options are comma/colon separated and cannot quote. */
    if (strpbrk(p, ",:\\\n"))
        return lcs_fail(err, LCS_E_INVALID,
                        "%s path %s contains ',', ':' or '\\', which overlayfs options cannot "
                        "express; use another directory", what, p);
    return 0;
}

/* The state directory holds one subdirectory per run. It must be ours and
 * not writable by anyone else, or another user could swap a run directory
 * for a symlink; it must be searchable so the sandbox's host uid can reach
 * its overlay dirs. */
static int prepare_state_dir(const lcs_native_spec *s, char *out, lcs_error *err)
{
    if (s->state_dir)
        snprintf(out, PATH_MAX, "%s", s->state_dir);
    else if (geteuid() == 0)
        snprintf(out, PATH_MAX, "/var/tmp/llmcore-sandbox");
    else
        snprintf(out, PATH_MAX, "/var/tmp/llmcore-sandbox-%u", (unsigned)geteuid());
    if (mkdir(out, 0711) < 0 && errno != EEXIST)
        return lcs_fail_errno(err, "create the sandbox state directory %s", out);
    struct stat st;
    if (lstat(out, &st) < 0)
        return lcs_fail_errno(err, "stat the sandbox state directory %s", out);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
        return lcs_fail(err, LCS_E_DENIED,
                        "sandbox state directory %s must be a directory owned by uid %u and "
                        "writable only by it; remove it or pick another state_dir", out,
                        (unsigned)geteuid());
    if ((st.st_mode & 0111) != 0111)
        chmod(out, (st.st_mode & 07777) | 0111);
    return 0;
}

static int mkdir_owned(const char *base, const char *rel, mode_t mode, uid_t u, gid_t g,
                       int rootless, lcs_error *err)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return lcs_fail_errno(err, "create %s", p);
    if (chmod(p, mode) < 0)
        return lcs_fail_errno(err, "chmod %s", p);
    /* Root hands the dir to the sandbox's mapped ids (host 100000+), which
     * own nothing else on the host. */
    if (!rootless && lchown(p, u, g) < 0)
        return lcs_fail_errno(err, "chown %s to %u:%u", p, (unsigned)u, (unsigned)g);
    return 0;
}

static int prepare_run_dir(run *R, const lcs_native_spec *s, lcs_error *err)
{
    char state[PATH_MAX];
    if (prepare_state_dir(s, state, err) < 0)
        return -1;
    if (check_path_arg("state", state, err) < 0)
        return -1;
    int n = snprintf(R->rundir, sizeof R->rundir, "%s/%s", state, R->id);
    if (n < 0 || (size_t)n >= sizeof R->rundir - 64)
        return lcs_fail(err, LCS_E_INVALID, "state directory path %s is too long", state);
    if (mkdir(R->rundir, 0711) < 0) {
        int saved = errno;
        R->rundir[0] = 0;
        errno = saved;
        return lcs_fail_errno(err, "create the run directory under %s", state);
    }
    lcs_plan *p = &R->plan;
    uid_t r0 = lcs_userns_host_uid(p, 0), ru = lcs_userns_host_uid(p, p->uid);
    gid_t g0 = lcs_userns_host_gid(p, 0), gu = lcs_userns_host_gid(p, p->gid);
    int rl = p->rootless;
    if (mkdir_owned(R->rundir, "upper", 0755, r0, g0, rl, err) < 0 ||
        mkdir_owned(R->rundir, "work", 0700, r0, g0, rl, err) < 0 ||
        mkdir_owned(R->rundir, "root", 0755, r0, g0, rl, err) < 0 ||
        /* Skeleton of the upper layer: mount points, and a home owned by
         * the sandbox user whatever ids the image files carry. */
        mkdir_owned(R->rundir, "upper/proc", 0555, r0, g0, rl, err) < 0 ||
        mkdir_owned(R->rundir, "upper/dev", 0755, r0, g0, rl, err) < 0 ||
        mkdir_owned(R->rundir, "upper/tmp", 01777, r0, g0, rl, err) < 0 ||
        mkdir_owned(R->rundir, "upper/home", 0755, r0, g0, rl, err) < 0 ||
        mkdir_owned(R->rundir, "upper/home/sandbox", 0755, ru, gu, rl, err) < 0 ||
        mkdir_owned(R->rundir, "upper/home/sandbox/work", 0755, ru, gu, rl, err) < 0)
        return -1;
    if (s->input_dir &&
        mkdir_owned(R->rundir, "upper/home/sandbox/input", 0755, ru, gu, rl, err) < 0)
        return -1;
    if (s->output_dir &&
        mkdir_owned(R->rundir, "upper/home/sandbox/output", 0755, ru, gu, rl, err) < 0)
        return -1;
    snprintf(p->upper, sizeof p->upper, "%s/upper", R->rundir);
    snprintf(p->work, sizeof p->work, "%s/work", R->rundir);
    snprintf(p->root, sizeof p->root, "%s/root", R->rundir);
    snprintf(p->overlay_opts, sizeof p->overlay_opts,
             "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", p->rootfs, p->upper, p->work);
    return 0;
}

static uint64_t rlimit_floor(int res, uint64_t want)
{
    struct rlimit rl;
    if (getrlimit(res, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        return rl.rlim_max;
    return want;
}

/* One allocation holding the pointer array and the strings. */
static char **copy_strv(const char *const *v)
{
    size_t n = 0, bytes = 0;
    for (; v[n]; n++)
        bytes += strlen(v[n]) + 1;
    char **out = malloc((n + 1) * sizeof *out + bytes);
    if (!out)
        return NULL;
    char *str = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(str, v[i], l);
        out[i] = str;
        str += l;
    }
    out[n] = NULL;
    return out;
}

static int fill_plan(run *R, const lcs_native_spec *s, lcs_error *err)
{
    lcs_plan *p = &R->plan;
    if (!s->rootfs || !s->argv || !s->argv[0] || !s->argv[0][0])
        return lcs_fail(err, LCS_E_INVALID, "native run: rootfs and argv[0] are required");
    if (!realpath(s->rootfs, p->rootfs))
        return lcs_fail_errno(err, "resolve the rootfs %s", s->rootfs);
    struct stat st;
    if (stat(p->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
        return lcs_fail(err, LCS_E_NOT_FOUND, "rootfs %s is not a directory", p->rootfs);
    if (check_path_arg("rootfs", p->rootfs, err) < 0)
        return -1;
    for (const char *const *e = s->env; e && *e; e++)
        if (!strchr(*e, '='))
            return lcs_fail(err, LCS_E_INVALID, "environment entry \"%s\" has no '='", *e);
    if (s->cwd && s->cwd[0] != '/')
        return lcs_fail(err, LCS_E_INVALID, "working directory %s must be absolute", s->cwd);
    const char *dirs[2] = {s->input_dir, s->output_dir};
    char *dst[2] = {p->input_dir, p->output_dir};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i])
            continue;
        if (!realpath(dirs[i], dst[i]))
            return lcs_fail_errno(err, "resolve the %s directory %s", i ? "output" : "input",
                                  dirs[i]);
    }
    p->writable_root = s->writable_root != 0;
    p->network = s->network;
    p->rootless = geteuid() != 0;
    p->uid = s->uid ? s->uid : 1000;
    p->gid = s->gid ? s->gid : 1000;
    if (!p->rootless && (p->uid >= LCS_NATIVE_ID_COUNT || p->gid >= LCS_NATIVE_ID_COUNT))
        return lcs_fail(err, LCS_E_INVALID, "sandbox uid/gid must be below %u",
                        LCS_NATIVE_ID_COUNT);
    /* Own copies: init scrubs the memory of the caller's command line (see
     * init.c), which the caller's argv strings may live in. */
    if (!(R->argv_copy = copy_strv(s->argv)) || (s->env && !(R->env_copy = copy_strv(s->env))))
        return lcs_fail_nomem(err);
    p->argv = (const char *const *)R->argv_copy;
    p->env = (const char *const *)R->env_copy;
    p->cwd = s->cwd;
    p->fsize = rlimit_floor(RLIMIT_FSIZE, s->fsize_bytes ? s->fsize_bytes : (1ull << 30));
    p->nofile = rlimit_floor(RLIMIT_NOFILE, s->nofile ? s->nofile : 1024);
    R->memory = s->memory_bytes ? s->memory_bytes : 512ull << 20;
    R->cpus = s->cpus > 0 ? s->cpus : 1.0;
    R->pids = s->pids ? s->pids : 128;
    R->timeout = s->timeout_s > 0 ? s->timeout_s : 30.0;
    R->out_limit = s->output_limit_bytes ? s->output_limit_bytes : LCS_NATIVE_DEFAULT_OUTPUT_LIMIT;
    R->tmp_bytes = s->tmp_bytes ? s->tmp_bytes : LCS_NATIVE_DEFAULT_TMP_BYTES;
    snprintf(p->tmp_opts, sizeof p->tmp_opts, "mode=1777,size=%llu,nr_inodes=65536",
             (unsigned long long)R->tmp_bytes);
    return 0;
}

static int find_in_path(const char *name)
{
    const char *dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dirs[i], name);
        if (access(p, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------- the child */

/* Runs right after clone3 in the child: a copy of the monitor, single
 * threaded, in the new namespaces. Arranges fds 0-4 and closes every other
 * descriptor the calling process had (it may hold anything: sockets, files
 * of the host), then becomes init. No allocation here. */
static _Noreturn void child_start(run *R)
{
    int src[LCS_FD_COUNT] = {R->in_sp[1], R->out_p[1], R->err_p[1], R->sync_p[0], R->status_p[1]};
    int hi[LCS_FD_COUNT];
    for (int i = 0; i < LCS_FD_COUNT; i++)
        if ((hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64)) < 0)
            _exit(126);
    for (int i = 0; i < LCS_FD_COUNT; i++)
        if (dup2(hi[i], i) < 0)
            _exit(126);
    if (syscall(SYS_close_range, (unsigned)LCS_FD_COUNT, ~0U, 0U) < 0) {
        for (int fd = LCS_FD_COUNT; fd < 65536; fd++)
            close(fd);
    }
    fcntl(LCS_FD_STATUS, F_SETFD, FD_CLOEXEC);
    /* If the monitor dies, the sandbox dies with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    lcs_init_main(&R->plan);
}

static int spawn_child(run *R, lcs_error *err)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
               CLONE_NEWNET | CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&R->pidfd;
    ca.exit_signal = SIGCHLD;
    if (R->cg.v2_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)R->cg.v2_fd;
    }
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && (ca.flags & CLONE_INTO_CGROUP) && errno != EPERM && errno != ENOSPC &&
        errno != EUSERS) {
        /* Older kernel or a cgroup clone3 cannot enter: attach by pid. */
        ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
    }
    if (pid == 0)
        child_start(R);
    if (pid < 0) {
        int e = errno;
        if (e == ENOSYS)
            return lcs_fail(err, LCS_E_UNSUPPORTED,
                            "clone3 is not available: the native runtime needs Linux 5.3 or "
                            "newer");
        if (e == EPERM || e == ENOSPC || e == EUSERS || e == EINVAL)
            return lcs_fail(err, LCS_E_UNSUPPORTED,
                            "cannot create the sandbox's user namespace (clone3: %s); enable "
                            "user namespaces (sysctl user.max_user_namespaces=15000, "
                            "kernel.unprivileged_userns_clone=1, or on Ubuntu "
                            "kernel.apparmor_restrict_unprivileged_userns=0)", strerror(e));
        errno = e;
        return lcs_fail_errno(err, "clone3 the sandbox");
    }
    R->pid = (pid_t)pid;
    R->v2_done = (ca.flags & CLONE_INTO_CGROUP) != 0;
    return 0;
}

/* ---------------------------------------------------------------- report */

static const char *ver(int v)
{
    return v == LCS_CG_V2 ? "v2" : v == LCS_CG_V1 ? "v1" : "none";
}

static char *enforced_json(run *R, const lcs_native_spec *s)
{
    lcs_plan *p = &R->plan;
    json_t *o = json_object();
    json_object_set_new(o, "namespaces",
                        json_pack("[ssssssss]", "user", "mount", "pid", "ipc", "uts", "cgroup",
                                  "net", "time-not-used") );
    json_array_remove(json_object_get(o, "namespaces"), 7);
    char map[64];
    snprintf(map, sizeof map, p->rootless ? "%u %u 1" : "0 %u %u",
             p->rootless ? (unsigned)p->uid : LCS_NATIVE_HOST_ID_BASE,
             p->rootless ? (unsigned)getuid() : LCS_NATIVE_ID_COUNT);
    json_object_set_new(o, "user",
                        json_pack("{s:s,s:i,s:i,s:s,s:i}", "mode", p->rootless ? "rootless" : "root",
                                  "uid", (int)p->uid, "gid", (int)p->gid, "uid_map", map,
                                  "host_uid", (int)lcs_userns_host_uid(p, p->uid)));
    json_object_set_new(o, "cgroups",
                        json_pack("{s:s,s:s,s:s,s:s,s:s}", "memory", ver(R->cg.mem_v), "pids",
                                  ver(R->cg.pids_v), "cpu", ver(R->cg.cpu_v), "cpuacct",
                                  ver(R->cg.acct_v), "kill", ver(R->cg.kill_v)));
    json_t *lim = json_object();
    if (R->cg.mem_v)
        json_object_set_new(lim, "memory_bytes", json_integer((json_int_t)R->memory));
    if (R->cg.pids_v)
        json_object_set_new(lim, "pids", json_integer(R->pids));
    if (R->cg.cpu_v)
        json_object_set_new(lim, "cpus", json_real(R->cpus));
    json_object_set_new(lim, "timeout_s", json_real(R->timeout));
    json_object_set_new(lim, "output_limit_bytes", json_integer((json_int_t)R->out_limit));
    json_object_set_new(lim, "tmp_bytes", json_integer((json_int_t)R->tmp_bytes));
    json_object_set_new(o, "limits", lim);
    json_object_set_new(o, "rlimits", json_pack("{s:i,s:I,s:I}", "core", 0, "fsize",
                                                (json_int_t)p->fsize, "nofile",
                                                (json_int_t)p->nofile));
    if (p->seccomp.filter)
        json_object_set_new(o, "seccomp",
                            json_pack("{s:b,s:s,s:s,s:i,s:i,s:i}", "enabled", 1, "profile",
                                      s->seccomp_profile, "default_action",
                                      R->sinfo.default_action, "rules", (int)R->sinfo.rules,
                                      "unknown_syscalls", (int)R->sinfo.unknown_names,
                                      "instructions", (int)p->seccomp.len));
    else
        json_object_set_new(o, "seccomp", json_pack("{s:b}", "enabled", 0));
    json_object_set_new(o, "capabilities", json_string("none (bounding, ambient, inheritable, "
                                                       "permitted, effective cleared; securebits "
                                                       "locked)"));
    json_object_set_new(o, "no_new_privs", json_true());
    json_object_set_new(o, "network", json_string(p->network == LCS_NATIVE_NET_FULL
                                                      ? (R->pasta.pid > 0 ? "full (pasta)" : "none")
                                                      : "none (loopback only)"));
    json_object_set_new(o, "rootfs", json_string(p->writable_root
                                                     ? "overlay, copy-on-write root"
                                                     : "overlay, read-only root; writable "
                                                       "/home/sandbox and /tmp"));
    json_object_set_new(o, "degraded", json_incref(R->degraded));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static void verdict(lcs_native_result *r, const lcs_monitor_out *mo, const lcs_cg_stats *st)
{
    int ws = mo->wait_status;
    int clean_exit = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    r->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    r->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    const char *v;
    if (mo->output_exceeded)
        v = "output";
    else if (st->oom_kills > 0 && !clean_exit)
        v = "memory";
    else if (st->pids_max_hits > 0 && !clean_exit)
        v = "pids";
    else if (mo->timed_out)
        v = "timeout";
    else if (WIFSIGNALED(ws))
        v = "signal";
    else if (clean_exit)
        v = "ok";
    else
        v = "exit";
    snprintf(r->verdict, sizeof r->verdict, "%s", v);
}

/* ---------------------------------------------------------------- cleanup */

static void teardown(run *R)
{
    if (R->pid > 0) {
        lcs_cg_kill(&R->cg);
        if (R->pidfd >= 0)
            syscall(SYS_pidfd_send_signal, R->pidfd, SIGKILL, NULL, 0);
        else
            kill(R->pid, SIGKILL);
        int st;
        while (waitpid(R->pid, &st, 0) < 0 && errno == EINTR) {
        }
        R->pid = 0;
    }
    lcs_net_pasta_stop(&R->pasta);
    if (R->cg_made)
        lcs_cg_destroy(&R->cg);
    else if (R->cg.v2_fd >= 0)
        close(R->cg.v2_fd);
    R->cg.v2_fd = -1;
    if (R->pidfd >= 0)
        close(R->pidfd);
    R->pidfd = -1;
    close2(R->in_sp);
    close2(R->out_p);
    close2(R->err_p);
    close2(R->sync_p);
    close2(R->status_p);
    if (R->rundir[0]) {
        /* The mounts lived in the sandbox's mount namespace, which is gone
         * with init: only plain files remain. */
        lcs_rm_tree(R->rundir);
        R->rundir[0] = 0;
    }
    free(R->plan.seccomp.filter);
    R->plan.seccomp.filter = NULL;
    json_decref(R->degraded);
    R->degraded = NULL;
    free(R->argv_copy);
    free(R->env_copy);
    R->argv_copy = R->env_copy = NULL;
}

int lcs_native_run(const lcs_native_spec *s, lcs_native_result *r, lcs_error *err)
{
    if (!s || !r)
        return lcs_fail(err, LCS_E_INVALID, "native run: spec and result are required");
    memset(r, 0, sizeof *r);
    r->exit_code = -1;
    run *R = calloc(1, sizeof *R);
    if (!R)
        return lcs_fail_nomem(err);
    int rc = -1;
    int *fdsets[5] = {R->in_sp, R->out_p, R->err_p, R->sync_p, R->status_p};
    for (int i = 0; i < 5; i++)
        fdsets[i][0] = fdsets[i][1] = -1;
    R->pidfd = -1;
    R->cg.v2_fd = -1;
    R->pasta.pid = -1;
    R->degraded = json_array();
    if (!R->degraded) {
        free(R);
        return lcs_fail_nomem(err);
    }
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        lcs_fail_errno(err, "getrandom for the sandbox id");
        goto out;
    }
    snprintf(R->id, sizeof R->id, "lcs-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    if (fill_plan(R, s, err) < 0)
        goto out;

    /* --- protections that may be missing on this host: fail closed --- */
    if (!s->seccomp_profile) {
        if (degrade(R, s, err, "seccomp", "pass the profile container_images/seccomp.json") < 0)
            goto out;
    } else if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
        if (degrade(R, s, err, "seccomp", "this kernel lacks CONFIG_SECCOMP_FILTER") < 0)
            goto out;
    } else if (lcs_seccomp_compile(s->seccomp_profile, &R->plan.seccomp, &R->sinfo, err) < 0) {
        goto out;
    }
    if (s->network == LCS_NATIVE_NET_FULL && !find_in_path("pasta")) {
        if (degrade(R, s, err, "network-full",
                    "FULL network needs pasta: apt-get install passt") < 0)
            goto out;
        R->plan.network = LCS_NATIVE_NET_NONE;
    }
    lcs_cg_limits lim = {R->memory, R->cpus, R->pids};
    if (lcs_cg_create(&R->cg, R->id, &lim, err) < 0)
        goto out;
    R->cg_made = 1;
    if (!R->cg.mem_v || !R->cg.pids_v || !R->cg.cpu_v) {
        char fix[768];
        snprintf(fix, sizeof fix, "%s; run as root or in a cgroup delegated to you (e.g. "
                 "systemd-run --user --scope -p Delegate=yes)", R->cg.why_missing);
        if (!R->cg.mem_v && degrade(R, s, err, "memory-limit", fix) < 0)
            goto out;
        if (!R->cg.pids_v && degrade(R, s, err, "pids-limit", fix) < 0)
            goto out;
        if (!R->cg.cpu_v && degrade(R, s, err, "cpu-limit", fix) < 0)
            goto out;
    }
    if (prepare_run_dir(R, s, err) < 0)
        goto out;

    /* --- pipes; close-on-exec so no other thread's child inherits them --- */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, R->in_sp) < 0 ||
        pipe2(R->out_p, O_CLOEXEC) < 0 || pipe2(R->err_p, O_CLOEXEC) < 0 ||
        pipe2(R->sync_p, O_CLOEXEC) < 0 || pipe2(R->status_p, O_CLOEXEC) < 0) {
        lcs_fail_errno(err, "create the sandbox's pipes");
        goto out;
    }
    /* stdin is a socket so the monitor can write with MSG_NOSIGNAL: a
     * command that closes its stdin must not SIGPIPE the caller. */
    shutdown(R->in_sp[1], SHUT_WR);

    if (spawn_child(R, err) < 0)
        goto out;
    close(R->in_sp[1]);
    close(R->out_p[1]);
    close(R->err_p[1]);
    close(R->sync_p[0]);
    close(R->status_p[1]);
    R->in_sp[1] = R->out_p[1] = R->err_p[1] = R->sync_p[0] = R->status_p[1] = -1;
    if (lcs_userns_write_maps(R->pid, &R->plan, err) < 0 ||
        lcs_cg_attach(&R->cg, R->pid, R->v2_done, err) < 0)
        goto out;
    if (R->plan.network == LCS_NATIVE_NET_FULL &&
        lcs_net_pasta_start(&R->pasta, R->pid, R->rundir, err) < 0)
        goto out;
    if (write(R->sync_p[1], "G", 1) != 1) {
        lcs_fail_errno(err, "release the sandbox's init");
        goto out;
    }
    close(R->sync_p[1]);
    R->sync_p[1] = -1;
    if (!s->stdin_len) {
        close(R->in_sp[0]);
        R->in_sp[0] = -1;
    }

    lcs_monitor_io io = {.pidfd = R->pidfd,
                         .pid = R->pid,
                         .out_fd = R->out_p[0],
                         .err_fd = R->err_p[0],
                         .status_fd = R->status_p[0],
                         .stdin_fd = R->in_sp[0],
                         .stdin_data = s->stdin_data,
                         .stdin_len = s->stdin_len,
                         .limit = R->out_limit,
                         .timeout_s = R->timeout,
                         .setup_timeout_s = 30.0,
                         .cg = &R->cg};
    lcs_monitor_out mo;
    memset(&mo, 0, sizeof mo);
    int mrc = lcs_monitor_run(&io, r, &mo, err);
    /* the monitor closed what it finished with */
    R->out_p[0] = io.out_fd;
    R->err_p[0] = io.err_fd;
    R->status_p[0] = io.status_fd;
    R->in_sp[0] = io.stdin_fd;
    if (mo.reaped)
        R->pid = 0;
    if (mrc < 0)
        goto out;
    if (mo.setup_error[0]) {
        lcs_fail(err, LCS_E_IO, "sandbox setup failed: %s", mo.setup_error);
        goto out;
    }
    if (mo.setup_timed_out || !mo.started) {
        lcs_fail(err, LCS_E_IO,
                 mo.setup_timed_out ? "sandbox setup did not finish within 30 s"
                                    : "sandbox init exited during setup (status %d) without "
                                      "reporting why", mo.wait_status);
        goto out;
    }
    lcs_cg_stats st;
    lcs_cg_stats_read(&R->cg, &st);
    verdict(r, &mo, &st);
    r->wall_s = mo.wall_s;
    r->cpu_s = st.have_cpu ? st.cpu_s : mo.rusage_cpu_s;
    r->peak_memory_bytes = st.have_peak ? st.peak : mo.rusage_maxrss;
    r->enforced_json = enforced_json(R, s);
    if (!r->enforced_json) {
        lcs_fail_nomem(err);
        goto out;
    }
    rc = 0;
out:
    teardown(R);
    free(R);
    if (rc < 0) {
        lcs_native_result_clear(r);
        snprintf(r->verdict, sizeof r->verdict, "internal");
        r->exit_code = -1;
    }
    return rc;
}
