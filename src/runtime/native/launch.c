/*
 * launch.c - lcs_native_run(): build one sandbox, run one command, tear
 * everything down. This file is the orchestration; each kernel concern has
 * its own file (userns.c, cgroup*.c, mounts.c, privs.c, seccomp.c, net.c,
 * init.c, monitor.c).
 *
 * Order of events:
 *   1. validate the spec, fill defaults, check every protection asked for
 *      is available (fail closed unless allow_degraded);
 *   2. per-run directory (overlay upper/work, mount point), seccomp
 *      program, pipes;
 *   3. clone3 into new user/mount/pid/ipc/uts/net namespaces; the child
 *      waits on the sync pipe;
 *   4. monitor writes uid/gid maps, starts pasta for FULL network and
 *      releases the child ('G'), which builds the filesystem while the
 *      monitor creates the cgroups and moves it in; a second byte ('C')
 *      lets init start commands, which therefore never run outside them;
 *   5. monitor loop (monitor.c) until init exits; verdict and accounting;
 *   6. cleanup: kill whatever is left, remove cgroups and the run directory.
 */
#include "runtime/native/internal.h"
#include "util/fdpass.h"
#include "util/random.h"
#include "util/sandbox_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
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
    int cg_v2_fd;                  /* init's cgroup2 directory, for CLONE_INTO_CGROUP */
    int cg_v2_born;                /* init was created in it (else moved by pid) */
    lcs_pasta pasta;
    int ns_user_fd, ns_net_fd;     /* session, FULL: init's namespaces (filter updates) */
    lcs_seccomp_info sinfo;
    json_t *degraded;
    char **argv_copy, **env_copy;
    uint64_t memory;
    double cpus;
    uint32_t pids;
    double timeout;
    uint64_t out_limit, tmp_bytes, layer_bytes;
    /* build mode: external upper layer (kept) and what we put into it */
    int upper_external;
    char ext_work[PATH_MAX];       /* overlay work dir next to the upper, removed */
    char made_resolv[PATH_MAX + 64];    /* placeholder file we created in the upper, removed */
    char made_etc[PATH_MAX + 64];     /* upper/etc if we created it, removed when empty */
    char made_mp[3][PATH_MAX + 64];    /* mount points we created in the upper, removed */
    char seccomp_name[PATH_MAX];   /* the profile, for the report */
    int view_fd[LCS_NATIVE_VIEWS]; /* session: detached clones of its mounts */
    /* spawn_child: written by the vfork'ed helper that creates the sandbox */
    int spawn_errno;
    int spawn_step;                /* 1: preparing the owner/limits failed */
    sigset_t child_sigmask;        /* the caller's signal mask, for init */
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

/* Does the lower layer (the image) have rel as a directory / regular file?
 * lstat: the image's symlinks are never followed on the host. */
static int lower_has(const lcs_plan *p, const char *rel, mode_t type)
{
    char path[PATH_MAX + 64];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", p->rootfs, rel);
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* The generated resolv.conf for FULL network: pasta answers DNS on
 * LCS_NATIVE_DNS_ADDR and forwards to the host's first resolver (which may
 * be a loopback resolver the sandbox could not reach otherwise). Bound
 * read-only over /etc/resolv.conf after pivot_root (mounts.c); if the image
 * has no regular /etc/resolv.conf, an empty placeholder in the upper layer
 * gives the bind a target. */
static int prepare_resolv(run *R, const char *upper, lcs_error *err)
{
    lcs_plan *p = &R->plan;
    snprintf(p->resolv, sizeof p->resolv, "%s/resolv.conf", R->rundir);
    int fd = open(p->resolv, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return lcs_fail_errno(err, "create %s", p->resolv);
    size_t n = strlen(p->resolv_text);
    ssize_t w = write(fd, p->resolv_text, n);
    fchmod(fd, 0644); /* readable by the sandbox user, whatever the umask */
    close(fd);
    if (w != (ssize_t)n)
        return lcs_fail_errno(err, "write %s", p->resolv);
    if (lower_has(p, "etc/resolv.conf", S_IFREG))
        return 0;
    char path[PATH_MAX + 64];
    uid_t r0 = lcs_userns_host_uid(p, 0);
    gid_t g0 = lcs_userns_host_gid(p, 0);
    snprintf(path, sizeof path, "%s/etc", upper);
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (mkdir(path, 0755) < 0 || chmod(path, 0755) < 0)
            return lcs_fail_errno(err, "create %s", path);
        if (!p->rootless && lchown(path, r0, g0) < 0)
            return lcs_fail_errno(err, "chown %s", path);
        snprintf(R->made_etc, sizeof R->made_etc, "%s", path);
    } else if (!S_ISDIR(st.st_mode)) {
        return 0; /* an odd image: no DNS file, the network still works */
    }
    snprintf(path, sizeof path, "%s/etc/resolv.conf", upper);
    if (lstat(path, &st) == 0)
        return 0;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return lcs_fail_errno(err, "create %s", path);
    fchmod(fd, 0644);
    close(fd);
    if (!p->rootless && lchown(path, r0, g0) < 0)
        return lcs_fail_errno(err, "chown %s", path);
    snprintf(R->made_resolv, sizeof R->made_resolv, "%s", path);
    return 0;
}

/* Build mode: the caller's directory is the upper layer. It must be ours
 * (or already handed to the sandbox's root), and it gets a sibling overlay
 * work dir (same filesystem) that is removed after the run. Only mount
 * points the image lacks are added to it, and removed again afterwards. */
static int prepare_external_upper(run *R, const lcs_native_spec *s, lcs_error *err)
{
    lcs_plan *p = &R->plan;
    uid_t r0 = lcs_userns_host_uid(p, 0);
    gid_t g0 = lcs_userns_host_gid(p, 0);
    if (mkdir(s->upper_dir, 0755) < 0 && errno != EEXIST)
        return lcs_fail_errno(err, "create the upper directory %s", s->upper_dir);
    if (!realpath(s->upper_dir, p->upper))
        return lcs_fail_errno(err, "resolve the upper directory %s", s->upper_dir);
    if (check_path_arg("upper", p->upper, err) < 0)
        return -1;
    struct stat st;
    if (lstat(p->upper, &st) < 0 || !S_ISDIR(st.st_mode))
        return lcs_fail(err, LCS_E_INVALID, "upper directory %s is not a directory", p->upper);
    if (st.st_uid != geteuid() && st.st_uid != r0)
        return lcs_fail(err, LCS_E_DENIED,
                        "upper directory %s is owned by uid %u, neither the caller nor the "
                        "sandbox's root (host uid %u)", p->upper, (unsigned)st.st_uid,
                        (unsigned)r0);
    /* overlayfs accesses the upper layer with the credentials of whoever
     * mounted it: the sandbox's root (host uid r0). */
    if (!p->rootless && (st.st_uid != r0 || st.st_gid != g0) && lchown(p->upper, r0, g0) < 0)
        return lcs_fail_errno(err, "chown the upper directory %s to %u:%u", p->upper,
                              (unsigned)r0, (unsigned)g0);
    int n = snprintf(R->ext_work, sizeof R->ext_work, "%s.work-%s", p->upper, R->id);
    if (n < 0 || (size_t)n >= sizeof R->ext_work)
        return lcs_fail(err, LCS_E_INVALID, "upper directory path %s is too long", p->upper);
    if (mkdir(R->ext_work, 0700) < 0) {
        int saved = errno;
        R->ext_work[0] = 0;
        errno = saved;
        return lcs_fail_errno(err, "create the overlay work directory next to %s", p->upper);
    }
    if (!p->rootless && lchown(R->ext_work, r0, g0) < 0)
        return lcs_fail_errno(err, "chown %s", R->ext_work);
    snprintf(p->work, sizeof p->work, "%s", R->ext_work);
    static const char *const mps[3] = {"proc", "dev", "tmp"};
    static const mode_t modes[3] = {0555, 0755, 01777};
    for (int i = 0; i < 3; i++) {
        if (lower_has(p, mps[i], S_IFDIR))
            continue;
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", p->upper, mps[i]);
        if (lstat(path, &st) == 0)
            continue;
        if (mkdir_owned(p->upper, mps[i], modes[i], r0, g0, p->rootless, err) < 0)
            return -1;
        snprintf(R->made_mp[i], sizeof R->made_mp[i], "%s", path);
    }
    R->upper_external = 1;
    return 0;
}

/* tmpfs supports the user.* xattrs overlayfs needs in a user namespace
 * (userxattr) since Linux 6.6. */
static int tmpfs_layer_supported(void)
{
    struct utsname u;
    int maj = 0, min = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &maj, &min) != 2)
        return 0;
    return maj > 6 || (maj == 6 && min >= 6);
}

static int prepare_run_dir(run *R, const lcs_native_spec *s, lcs_error *err)
{
    char state[PATH_MAX];
    if (prepare_state_dir(s, state, err) < 0)
        return -1;
    if (check_path_arg("state", state, err) < 0)
        return -1;
    lcs_plan *p = &R->plan;
    uid_t r0 = lcs_userns_host_uid(p, 0), ru = lcs_userns_host_uid(p, p->uid);
    gid_t g0 = lcs_userns_host_gid(p, 0), gu = lcs_userns_host_gid(p, p->gid);
    int rl = p->rootless;
    /* Sandboxes keep their writable layer in a size-capped tmpfs of their
     * own mount namespace, mounted over <state>/mnt (an empty directory
     * shared by all runs: each mounts on it privately). That caps what a
     * sandbox can write (a layer on the host disk could fill it), no per-run
     * host directory is made, and nothing needs deleting afterwards (on an
     * ext4 with discard, removing the dozen directories of a layer costs
     * ~10-20 ms). Build mode keeps its layer, so it is on disk. */
    if (!s->upper_dir && !tmpfs_layer_supported() &&
        degrade(R, s, err, "disk-limit",
                "a size-capped writable layer needs Linux >= 6.6 (user xattrs on tmpfs); "
                "without it the layer is an uncapped directory on the host disk") < 0)
        return -1;
    if (!s->upper_dir && tmpfs_layer_supported()) {
        int n = snprintf(p->layer_mnt, sizeof p->layer_mnt, "%s/mnt", state);
        if (n < 0 || (size_t)n >= sizeof p->layer_mnt - 64)
            return lcs_fail(err, LCS_E_INVALID, "state directory path %s is too long", state);
        if (mkdir(p->layer_mnt, 0711) < 0 && errno != EEXIST)
            return lcs_fail_errno(err, "create %s", p->layer_mnt);
        struct stat st;
        if (lstat(p->layer_mnt, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            return lcs_fail(err, LCS_E_DENIED, "%s must be a directory owned by uid %u",
                            p->layer_mnt, (unsigned)geteuid());
        p->layer_tmpfs = 1;
        R->layer_bytes = s->layer_bytes ? s->layer_bytes : LCS_NATIVE_DEFAULT_LAYER_BYTES;
        snprintf(p->layer_opts, sizeof p->layer_opts, "mode=0755,size=%llu,nr_inodes=1048576",
                 (unsigned long long)R->layer_bytes);
        snprintf(p->upper, sizeof p->upper, "%s/upper", p->layer_mnt);
        snprintf(p->work, sizeof p->work, "%s/work", p->layer_mnt);
        snprintf(p->root, sizeof p->root, "%s/root", p->layer_mnt);
        snprintf(p->overlay_opts, sizeof p->overlay_opts,
                 "lowerdir=%s,upperdir=%s,workdir=%s,userxattr,volatile", p->rootfs, p->upper,
                 p->work);
        if (p->network != LCS_NATIVE_NET_FULL)
            return 0;
        /* FULL: init writes the resolv.conf into the layer's tmpfs; the run
         * dir holds only pasta's pid file. */
        snprintf(p->resolv, sizeof p->resolv, "%s/resolv.conf", p->layer_mnt);
    }
    int n = snprintf(R->rundir, sizeof R->rundir, "%s/%s", state, R->id);
    if (n < 0 || (size_t)n >= sizeof R->rundir - 64)
        return lcs_fail(err, LCS_E_INVALID, "state directory path %s is too long", state);
    if (mkdir(R->rundir, 0711) < 0) {
        int saved = errno;
        R->rundir[0] = 0;
        errno = saved;
        return lcs_fail_errno(err, "create the run directory under %s", state);
    }
    chmod(R->rundir, 0711); /* whatever the caller's umask */
    if (p->layer_tmpfs)
        return 0;
    if (mkdir_owned(R->rundir, "root", 0755, r0, g0, rl, err) < 0)
        return -1;
    snprintf(p->root, sizeof p->root, "%s/root", R->rundir);
    if (s->upper_dir) {
        if (prepare_external_upper(R, s, err) < 0)
            return -1;
    } else {
        if (mkdir_owned(R->rundir, "upper", 0755, r0, g0, rl, err) < 0 ||
            mkdir_owned(R->rundir, "work", 0700, r0, g0, rl, err) < 0 ||
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
    }
    if (p->network == LCS_NATIVE_NET_FULL && prepare_resolv(R, p->upper, err) < 0)
        return -1;
    snprintf(p->overlay_opts, sizeof p->overlay_opts,
             "lowerdir=%s,upperdir=%s,workdir=%s,userxattr%s", p->rootfs, p->upper, p->work,
             /* volatile: a disposable layer needs no sync on unmount, which
              * otherwise syncs the whole upper filesystem when init exits */
             R->upper_external ? "" : ",volatile");
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

/* May host ids uid/gid search the directory st (mode bits; no
 * supplementary groups: root-started init drops them)? mapped: the
 * sandbox's init holds capabilities over inodes whose owner and group
 * its namespace maps, so those always pass. */
static int may_search(const struct stat *st, uid_t uid, gid_t gid, int mapped)
{
    if (mapped)
        return 1;
    if (st->st_uid == uid)
        return (st->st_mode & S_IXUSR) != 0;
    if (st->st_gid == gid)
        return (st->st_mode & S_IXGRP) != 0;
    return (st->st_mode & S_IXOTH) != 0;
}

/* Every directory from / down to dir (a resolved path) must be searchable
 * by the sandbox's host ids: init (the namespace's root) mounts it, and
 * the sandbox user enters dir itself. Checked here because the kernel's
 * refusal would surface later as a bare EACCES of some mount inside the
 * sandbox that names neither the directory nor the ids. A directory with
 * an ACL is left to the kernel (its mode bits do not tell). Rootless, the
 * ids are the caller's own: access() answers with its groups too. */
static int check_searchable(const lcs_plan *p, const char *what, const char *dir, lcs_error *err)
{
    char cur[PATH_MAX];
    size_t len = strlen(dir);
    if (len >= sizeof cur)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && dir[i] != '/')
            continue;
        size_t n = i ? i : 1; /* i == 0: the filesystem root */
        memcpy(cur, dir, n);
        cur[n] = 0;
        struct stat st;
        if (stat(cur, &st) < 0 || !S_ISDIR(st.st_mode))
            continue; /* reported by whatever uses it */
        if (getxattr(cur, "system.posix_acl_access", NULL, 0) > 0)
            continue;
        uid_t u = getuid();
        if (p->rootless) {
            if (access(cur, X_OK) == 0)
                continue;
        } else {
            int mapped = st.st_uid >= LCS_NATIVE_HOST_ID_BASE &&
                         st.st_uid - LCS_NATIVE_HOST_ID_BASE < LCS_NATIVE_ID_COUNT &&
                         st.st_gid >= LCS_NATIVE_HOST_ID_BASE &&
                         st.st_gid - LCS_NATIVE_HOST_ID_BASE < LCS_NATIVE_ID_COUNT;
            /* init everywhere; the sandbox user in dir itself */
            u = lcs_userns_host_uid(p, 0);
            int ok = may_search(&st, u, lcs_userns_host_gid(p, 0), mapped);
            if (ok && i == len) {
                u = lcs_userns_host_uid(p, p->uid);
                ok = may_search(&st, u, lcs_userns_host_gid(p, p->gid), mapped);
            }
            if (ok)
                continue;
        }
        return lcs_fail(err, LCS_E_DENIED,
                        "%s %s: the sandbox (host uid %u) cannot enter the directory %s "
                        "(mode %04o, owner %u:%u); make it searchable for others "
                        "(chmod o+x %s) or move the directory",
                        what, dir, (unsigned)u, cur, (unsigned)(st.st_mode & 07777),
                        (unsigned)st.st_uid, (unsigned)st.st_gid, cur);
    }
    return 0;
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
    if (p->network == LCS_NATIVE_NET_FULL)
        lcs_net_resolv_text(p->resolv_text, sizeof p->resolv_text, &p->dns6);
    p->rootless = geteuid() != 0;
    p->uid = s->allow_root ? 0 : s->uid ? s->uid : 1000;
    p->gid = s->allow_root ? 0 : s->gid ? s->gid : 1000;
    p->keep_caps = s->keep_capabilities ? LCS_NATIVE_BUILD_CAPS : 0;
    p->exec_handshake = p->session && s->exec_handshake;
    if (check_searchable(p, "rootfs", p->rootfs, err) < 0 ||
        (p->input_dir[0] && check_searchable(p, "input directory", p->input_dir, err) < 0) ||
        (p->output_dir[0] && check_searchable(p, "output directory", p->output_dir, err) < 0))
        return -1;
    if (s->upper_dir && !p->writable_root)
        return lcs_fail(err, LCS_E_INVALID, "an upper_dir (build mode) needs a writable root");
    if (!p->rootless && (p->uid >= LCS_NATIVE_ID_COUNT || p->gid >= LCS_NATIVE_ID_COUNT))
        return lcs_fail(err, LCS_E_INVALID, "sandbox uid/gid must be below %u",
                        LCS_NATIVE_ID_COUNT);
    /* Own copies: init scrubs the memory of the caller's command line (see
     * init.c), which the caller's argv strings may live in. */
    if (!(R->argv_copy = copy_strv(s->argv)) || (s->env && !(R->env_copy = copy_strv(s->env))))
        return lcs_fail_nomem(err);
    p->argv = (const char *const *)R->argv_copy;
    p->env = (const char *const *)R->env_copy;
    /* Build mode runs on a bare image that may lack the workspace. */
    p->cwd = s->cwd ? s->cwd : s->upper_dir ? "/" : NULL;
    p->fsize = rlimit_floor(RLIMIT_FSIZE, s->fsize_bytes ? s->fsize_bytes : (1ull << 30));
    p->nofile = rlimit_floor(RLIMIT_NOFILE, s->nofile ? s->nofile : 1024);
    R->memory = s->memory_bytes ? s->memory_bytes : 512ull << 20;
    R->cpus = s->cpus > 0 ? s->cpus : 1.0;
    R->pids = s->pids ? s->pids : 128;
    R->timeout = s->timeout_s > 0 ? s->timeout_s : 30.0;
    R->out_limit = s->output_limit_bytes ? s->output_limit_bytes : LCS_NATIVE_DEFAULT_OUTPUT_LIMIT;
    R->tmp_bytes = s->tmp_bytes ? s->tmp_bytes : LCS_NATIVE_DEFAULT_TMP_BYTES;
    lcs_userns_budgets(p, R->pids);
    snprintf(p->tmp_opts, sizeof p->tmp_opts, "mode=1777,size=%llu,nr_inodes=65536",
             (unsigned long long)R->tmp_bytes);
    return 0;
}

/* ------------------------------------------------------------- the child */

/* Runs right after clone3 in the child: a copy of the monitor, single
 * threaded, in the new namespaces. Arranges fds 0-4 and closes every other
 * descriptor the calling process had (it may hold anything: sockets, files
 * of the host), then becomes init. No allocation here. */
static _Noreturn void child_start(run *R)
{
    /* spawn_child blocked every signal around the helper */
    sigprocmask(SIG_SETMASK, &R->child_sigmask, NULL);
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

/* The helper that creates the sandbox: a vfork'ed child of the caller's
 * thread, sharing its memory (it reports into R) but with credentials and
 * rlimits of its own, from which the new user namespace takes its owner and
 * the owner-level limits of its budgets (userns.c); the caller's own
 * credentials and rlimits, shared by all its threads, never change.
 * CLONE_PARENT makes init our child, not the helper's. The helper runs on
 * the caller's stack, so init starts on a copy of it exactly as with a
 * direct clone3. */
static _Noreturn void creator_main(run *R, struct clone_args *ca)
{
    if (lcs_userns_creator_setup(&R->plan) < 0) {
        R->spawn_errno = errno;
        R->spawn_step = 1;
        _exit(0);
    }
    long pid = syscall(SYS_clone3, ca, sizeof *ca);
    if (pid < 0 && (ca->flags & CLONE_INTO_CGROUP)) {
        /* A kernel before 5.7, or one that refuses us the directory: born
         * outside, moved in by pid later (build). */
        ca->flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        ca->cgroup = 0;
        pid = syscall(SYS_clone3, ca, sizeof *ca);
    }
    if (pid == 0)
        child_start(R);
    R->cg_v2_born = pid > 0 && (ca->flags & CLONE_INTO_CGROUP);
    R->spawn_errno = pid < 0 ? errno : 0;
    R->pid = pid > 0 ? (pid_t)pid : 0;
    _exit(0);
}

static int spawn_child(run *R, lcs_error *err)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
               CLONE_NEWNET | CLONE_PARENT;
    /* No CLONE_PIDFD: it would land in the helper's descriptor table. The
     * pidfd is opened below instead, without a race: init is our child and
     * only we reap it, so its pid cannot be reused meanwhile. */
    ca.exit_signal = 0; /* CLONE_PARENT: the helper's own, SIGCHLD */
    /* Born in its cgroup2 directory: no move, so no wait for the kernel's
     * cgroup_threadgroup_rwsem (lcs_cg_v2_joined, internal.h). The kernel
     * checks the helper's credentials, which keep every capability. */
    if (R->cg_v2_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)R->cg_v2_fd;
    }
    /* No signal handler may run in the helper (it shares our memory). */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &R->child_sigmask);
    /* The helper's uid change (root mode) resets the dumpable flag of the
     * memory it shares with us: ours is put back. init (which inherits the
     * flag) is non-dumpable from 'G' on anyway, and before that only host
     * root (the monitor) opens its /proc files. */
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    R->spawn_errno = 0;
    R->spawn_step = 0;
    R->pid = 0;
    pid_t helper = vfork();
    if (helper == 0)
        creator_main(R, &ca);
    int verr = errno;
    if (helper > 0)
        while (waitpid(helper, NULL, 0) < 0 && errno == EINTR) {
        }
    if (dumpable >= 0 && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != dumpable)
        prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
    pthread_sigmask(SIG_SETMASK, &R->child_sigmask, NULL);
    if (helper < 0) {
        errno = verr;
        return lcs_fail_errno(err, "start the helper that creates the sandbox");
    }
    if (R->spawn_step == 1) {
        errno = R->spawn_errno;
        return lcs_fail_errno(err, "prepare the owner and limits of the sandbox's user "
                                   "namespace");
    }
    if (R->spawn_errno) {
        int e = R->spawn_errno;
        if (e == ENOSYS)
            return lcs_fail(err, LCS_E_UNSUPPORTED,
                            "clone3 is not available: the native runtime needs Linux 5.3 or "
                            "newer");
        /* With CAP_SYS_ADMIN the sysctls that disable user namespaces for
         * users do not apply (a zero max_user_namespaces is ENOSPC): EPERM
         * then comes from a chroot, where the kernel refuses new user
         * namespaces, or from a seccomp filter (a container's) refusing them. */
        if (e == EPERM && geteuid() == 0)
            return lcs_fail(err, LCS_E_UNSUPPORTED,
                            "cannot create the sandbox's user namespace (clone3: %s) as root: "
                            "this process runs in a chroot, where the kernel refuses new user "
                            "namespaces, or under a seccomp filter that refuses them (a "
                            "container's); run it from a real root (the host, a root entered "
                            "with pivot_root, or a container that allows user namespaces)",
                            strerror(e));
        if (e == EPERM || e == ENOSPC || e == EUSERS || e == EINVAL)
            return lcs_fail(err, LCS_E_UNSUPPORTED,
                            "cannot create the sandbox's user namespace (clone3: %s); enable "
                            "user namespaces (sysctl user.max_user_namespaces=15000, "
                            "kernel.unprivileged_userns_clone=1, or on Ubuntu "
                            "kernel.apparmor_restrict_unprivileged_userns=0)", strerror(e));
        errno = e;
        return lcs_fail_errno(err, "clone3 the sandbox");
    }
    R->pidfd = (int)syscall(SYS_pidfd_open, R->pid, 0);
    if (R->pidfd < 0)
        return lcs_fail_errno(err, "open a pidfd for the sandbox's init"); /* teardown kills it */
    return 0;
}

/* ---------------------------------------------------------------- report */

static const char *ver(int v)
{
    return v == LCS_CG_V2 ? "v2" : v == LCS_CG_V1 ? "v1" : "none";
}

static char *enforced_json(run *R)
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
    if (p->layer_tmpfs)
        json_object_set_new(lim, "disk_bytes", json_integer((json_int_t)R->layer_bytes));
    json_object_set_new(o, "limits", lim);
    json_t *rl = json_pack("{s:i,s:I,s:I}", "core", 0, "fsize", (json_int_t)p->fsize, "nofile",
                           (json_int_t)p->nofile);
    for (int i = 0; i < LCS_RL_BUDGETS; i++)
        json_object_set_new(rl, lcs_rl_budget_names[i], json_integer((json_int_t)p->rl[i]));
    json_object_set_new(o, "rlimits", rl);
    /* The sandbox's share of its owner's per-user kernel budgets (userns.c) */
    json_t *bud = json_object(), *uns = json_object(), *pool = json_object();
    for (int i = 0; i < LCS_USERNS_LIMITS; i++)
        if (p->userns_max[i] >= 0)
            json_object_set_new(uns, lcs_userns_limit_names[i],
                                json_integer((json_int_t)p->userns_max[i]));
    for (int i = 0; i < LCS_RL_BUDGETS; i++)
        if (p->rl_pool[i])
            json_object_set_new(pool, lcs_rl_budget_names[i],
                                json_integer((json_int_t)p->rl_pool[i]));
    json_object_set_new(bud, "owner_host_uid", json_integer((json_int_t)p->owner));
    json_object_set_new(bud, "share", json_string("1/8 of the owner's limits for each "
                                                  "sandbox"));
    json_object_set_new(bud, "user_namespace", uns);
    json_object_set_new(bud, "all_sandboxes_rlimits", pool);
    json_object_set_new(o, "budgets", bud);
    if (p->seccomp.filter)
        json_object_set_new(o, "seccomp",
                            json_pack("{s:b,s:s,s:s,s:i,s:i,s:i}", "enabled", 1, "profile",
                                      R->seccomp_name, "default_action",
                                      R->sinfo.default_action, "rules", (int)R->sinfo.rules,
                                      "unknown_syscalls", (int)R->sinfo.unknown_names,
                                      "instructions", (int)p->seccomp.len));
    else
        json_object_set_new(o, "seccomp", json_pack("{s:b}", "enabled", 0));
    if (p->keep_caps)
        json_object_set_new(o, "capabilities",
                            json_string("build set of the sandbox's user namespace: chown "
                                        "dac_override dac_read_search fowner fsetid kill setgid "
                                        "setuid setfcap net_bind_service audit_write"));
    else
        json_object_set_new(o, "capabilities",
                            json_string("none (bounding, ambient, inheritable, permitted, "
                                        "effective cleared; securebits locked)"));
    if (p->session) {
        /* How init is kept from the OOM killer: outside the memory cgroup,
         * so a memory-limit OOM cannot choose it; its oom_score_adj is the
         * caller's (why: where the session's init is started). */
        json_object_set_new(o, "oom",
                            json_pack("{s:b,s:s}", "init_outside_memory_cgroup",
                                      R->cg.init_apart && R->cg.mem_v, "init_score_adj",
                                      "inherited (a lower value would pass to every exec)"));
    }
    if (R->upper_external)
        json_object_set_new(o, "upper_dir", json_string(p->upper));
    json_object_set_new(o, "no_new_privs", json_true());
    json_object_set_new(o, "network", json_string(p->network == LCS_NATIVE_NET_FULL
                                                      ? (R->pasta.pid > 0 ? "full (pasta)" : "none")
                                                      : "none (loopback only)"));
    if (p->network == LCS_NATIVE_NET_FULL)
        json_object_set_new(
            o, "network_blocked",
            json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "by",
                      "nftables output filter in the sandbox's network namespace, loaded "
                      "before the command; the command has no CAP_NET_ADMIN",
                      "ipv4",
                      "0/8 10/8 100.64/10 127/8 169.254/16 172.16/12 192.0.0/24 192.168/16 "
                      "198.18/15 224/3 (multicast, reserved, broadcast)",
                      "ipv6", "::/127 ::ffff:0:0/96 fc00::/7 fe80::/10 fec0::/10 ff00::/8",
                      "host_addresses", (int)p->net_host_addrs, "dns",
                      p->dns6 ? LCS_NATIVE_DNS_ADDR " and " LCS_NATIVE_DNS_ADDR6
                                " port 53 only, forwarded by pasta to the host's first IPv4 "
                                "and IPv6 resolvers"
                              : LCS_NATIVE_DNS_ADDR " port 53 only, forwarded by pasta to the "
                                "host's first resolver",
                      "new_host_addresses",
                      p->session ? "added while the session lives (its monitor watches the host)"
                                 : "not added: fixed at the start of this run"));
    json_object_set_new(o, "rootfs", json_string(p->writable_root
                                                     ? "overlay, copy-on-write root"
                                                     : "overlay, read-only root; writable "
                                                       LCS_SANDBOX_HOME " and /tmp"));
    json_object_set_new(o, "layer",
                        json_string(p->layer_tmpfs ? "tmpfs in the sandbox's mount namespace, "
                                                     "size-capped (limits.disk_bytes)"
                                    : R->upper_external ? "the caller's upper_dir (build mode)"
                                                        : "host directory, not size-capped"));
    json_object_set_new(o, "degraded", json_incref(R->degraded));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static void verdict(lcs_native_result *r, const lcs_monitor_out *mo, const lcs_cg_stats *st)
{
    int ws = mo->wait_status;
    r->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    r->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    const char *v = lcs_native_verdict(ws, mo->output_exceeded, st->oom_kills > 0,
                                       st->pids_max_hits > 0, mo->timed_out, mo->exec_denied);
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
    if (R->ns_user_fd >= 0)
        close(R->ns_user_fd);
    if (R->ns_net_fd >= 0)
        close(R->ns_net_fd);
    R->ns_user_fd = R->ns_net_fd = -1;
    for (int i = 0; i < LCS_NATIVE_VIEWS; i++) {
        if (R->view_fd[i] >= 0)
            close(R->view_fd[i]);
        R->view_fd[i] = -1;
    }
    if (R->cg_made && R->plan.session) {
        /* exec cgroups first (their processes died with the pid namespace) */
        lcs_cg_rmdir_children(R->cg.v2);
        lcs_cg_rmdir_children(R->cg.freezer);
    }
    if (R->cg_made)
        lcs_cg_destroy(&R->cg);
    if (R->pidfd >= 0)
        close(R->pidfd);
    R->pidfd = -1;
    close2(R->in_sp);
    close2(R->out_p);
    close2(R->err_p);
    close2(R->sync_p);
    close2(R->status_p);
    if (R->upper_external) {
        /* Build mode: the upper layer stays; what we added for the run goes. */
        if (R->made_resolv[0])
            unlink(R->made_resolv);
        if (R->made_etc[0])
            rmdir(R->made_etc); /* only if the build left it empty */
        for (int i = 0; i < 3; i++)
            if (R->made_mp[i][0])
                rmdir(R->made_mp[i]);
        R->upper_external = 0;
    }
    if (R->ext_work[0]) {
        lcs_rm_tree(R->ext_work);
        R->ext_work[0] = 0;
    }
    if (R->rundir[0]) {
        /* The mounts lived in the sandbox's mount namespace, which is gone
         * with init: only plain files remain. */
        lcs_rm_tree(R->rundir);
        R->rundir[0] = 0;
    }
    free(R->plan.seccomp.filter);
    R->plan.seccomp.filter = NULL;
    free(R->plan.seccomp_guard.filter);
    R->plan.seccomp_guard.filter = NULL;
    free(R->plan.net_filter);
    R->plan.net_filter = NULL;
    json_decref(R->degraded);
    R->degraded = NULL;
    free(R->argv_copy);
    free(R->env_copy);
    R->argv_copy = R->env_copy = NULL;
}

/* The run's state is ~100 KiB of mostly path buffers. It is mapped with
 * MAP_POPULATE: one system call fills it with zero pages, where calloc would
 * take a page fault per page, each a trip through the hypervisor on a
 * virtual machine (~20 us here, a visible part of the start-up). */
static void run_free(run *R)
{
    munmap(R, sizeof *R);
}

static run *run_new(lcs_error *err)
{
    run *R = mmap(NULL, sizeof *R, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (R == MAP_FAILED) {
        lcs_fail_nomem(err);
        return NULL;
    }
    int *fdsets[5] = {R->in_sp, R->out_p, R->err_p, R->sync_p, R->status_p};
    for (int i = 0; i < 5; i++)
        fdsets[i][0] = fdsets[i][1] = -1;
    R->pidfd = -1;
    R->cg_v2_fd = -1;
    for (int i = 0; i < LCS_NATIVE_VIEWS; i++)
        R->view_fd[i] = -1;
    R->pasta.pid = -1;
    R->ns_user_fd = R->ns_net_fd = -1;
    R->degraded = json_array();
    if (!R->degraded) {
        run_free(R);
        lcs_fail_nomem(err);
        return NULL;
    }
    return R;
}

/* A session's init places each exec in its cgroup2 directory itself
 * (clone3 CLONE_INTO_CGROUP), which the kernel allows when init's uid may
 * write the cgroup.procs of the exec's directory and of the common
 * ancestor, the session's directory. Root mode: that uid is the sandbox's
 * own root (LCS_NATIVE_HOST_ID_BASE), which no command runs as and no
 * other host file belongs to; it gets these two files only, never a limit
 * file, so init can move processes within the session's cgroups and
 * nowhere else. Rootless, the caller's uid owns them already. */
static int give_procs(const run *R, const char *dir, lcs_error *err)
{
    if (R->plan.rootless || geteuid() != 0)
        return 0;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%.*s/cgroup.procs", PATH_MAX, dir);
    if (chown(p, (uid_t)LCS_NATIVE_HOST_ID_BASE, (gid_t)-1) < 0)
        return lcs_fail_errno(err, "chown %s to the sandbox's root", p);
    return 0;
}

/* The sandbox's cgroups with its limits; a missing controller fails the run
 * unless the caller allows a degraded sandbox. */
static int make_cgroups(run *R, const lcs_native_spec *s, lcs_error *err)
{
    lcs_cg_limits lim = {R->memory, R->cpus, R->pids, !R->plan.session, R->plan.session};
    if (lcs_cg_create(&R->cg, R->id, &lim, err) < 0)
        return -1;
    R->cg_made = 1;
    /* A session's init never enters its memory cgroup: every exec moves
     * itself in before it runs anything (lcs_native_execcg_open_procs), so
     * the OOM killer of that cgroup can only ever take commands. */
    R->cg.init_apart = R->plan.session;
    /* split (v2 memory): execs get cgroup namespaces of their own, init
     * keeps ours so that its clone into work/ stays within its view */
    R->plan.exec_cgns = R->plan.session && R->cg.v2_top[0] &&
                        (!R->plan.seccomp.filter || R->plan.seccomp_guard.filter);
    if (R->plan.session && lcs_cg_v2_joined(&R->cg) &&
        (give_procs(R, lcs_cg_v2_common_dir(&R->cg), err) < 0 ||
         (R->cg.v2_top[0] && give_procs(R, R->cg.v2, err) < 0)))
        return -1;
    if (R->cg.mem_v && R->cg.pids_v && R->cg.cpu_v)
        return 0;
    char fix[768];
    if (R->cg.v2_busy)
        /* a delegated scope does not help here: we would be a process in
         * it; root would have used the shared base (cgroup.c) */
        snprintf(fix, sizeof fix, "%s; run it as root (sandboxes then go under "
                 "/sys/fs/cgroup/" LCS_CG_V2_BASE ") or from a cgroup that holds no "
                 "other process", R->cg.why_missing);
    else
        snprintf(fix, sizeof fix, "%s; run as root or in a cgroup delegated to you (e.g. "
                 "systemd-run --user --scope -p Delegate=yes)", R->cg.why_missing);
    if (!R->cg.mem_v && degrade(R, s, err, "memory-limit", fix) < 0)
        return -1;
    if (!R->cg.pids_v && degrade(R, s, err, "pids-limit", fix) < 0)
        return -1;
    if (!R->cg.cpu_v && degrade(R, s, err, "cpu-limit", fix) < 0)
        return -1;
    return 0;
}

/* Send init its release byte c. The sync channel is a socket so that the
 * send can say MSG_NOSIGNAL: init may already have died of a setup error
 * (a write to a pipe would then kill the caller with SIGPIPE, before it
 * could report anything or remove the cgroups). 0 sent; 1 init is gone
 * (its own report of why waits on the status pipe for the caller to
 * read); -1 another error. */
static int release_fds(run *R, char c, const int *fds, int nfds, lcs_error *err)
{
    ssize_t n = lcs_send_with_fds(R->sync_p[1], &c, 1, fds, nfds);
    if (n == 1)
        return 0;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        return 1;
    return lcs_fail_errno(err, "release the sandbox's init");
}

static int release(run *R, char c, lcs_error *err) { return release_fds(R, c, NULL, 0, err); }

/* Steps 1-4 (see the top of this file): everything up to init's release.
 * id: "lcs-..." name of the cgroups and the run directory, or NULL for a
 * random one. session: init serves execs instead of running argv.
 * 0 released; 1 init died during setup (its report waits on the status
 * pipe); -1 error (err). */
static int build(run *R, const lcs_native_spec *s, const char *id, int session, lcs_error *err)
{
    if (id) {
        snprintf(R->id, sizeof R->id, "%s", id);
    } else {
        char hex[17];
        if (lcs_random_hex(hex, 8, err) < 0)
            return -1;
        snprintf(R->id, sizeof R->id, "lcs-%s", hex);
    }
    R->plan.session = session;
    if (fill_plan(R, s, err) < 0)
        return -1;
    snprintf(R->seccomp_name, sizeof R->seccomp_name, "%s", s->seccomp_profile ? s->seccomp_profile : "");

    /* --- protections that may be missing on this host: fail closed --- */
    if (!s->seccomp_profile) {
        if (degrade(R, s, err, "seccomp", "pass the profile container_images/seccomp.json") < 0)
            return -1;
    } else if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
        if (degrade(R, s, err, "seccomp", "this kernel lacks CONFIG_SECCOMP_FILTER") < 0)
            return -1;
    } else if (!strcmp(s->seccomp_profile, LCS_NATIVE_SECCOMP_BUILTIN)) {
        if (lcs_seccomp_default(&R->plan.seccomp, session ? &R->plan.seccomp_guard : NULL,
                                &R->sinfo, err) < 0)
            return -1;
    } else if (lcs_seccomp_compile_session(s->seccomp_profile, &R->plan.seccomp,
                                           session ? &R->plan.seccomp_guard : NULL, &R->sinfo,
                                           err) < 0) {
        return -1;
    }
    if (s->network == LCS_NATIVE_NET_FULL && !lcs_native_in_path("pasta")) {
        if (degrade(R, s, err, "network-full",
                    "FULL network needs pasta: apt-get install passt") < 0)
            return -1;
        R->plan.network = LCS_NATIVE_NET_NONE;
    }
    /* FULL without its filter would reach the host's own services (net.c):
     * no nft means no FULL network. */
    if (R->plan.network == LCS_NATIVE_NET_FULL &&
        lcs_native_find("nft", R->plan.nft, sizeof R->plan.nft) < 0) {
        if (degrade(R, s, err, "network-full",
                    "FULL network needs nft to keep the host out of reach: apt-get install "
                    "nftables") < 0)
            return -1;
        R->plan.network = LCS_NATIVE_NET_NONE;
    }
    if (R->plan.network == LCS_NATIVE_NET_FULL &&
        lcs_net_filter_rules(&R->plan.net_filter, &R->plan.net_host_addrs, err) < 0)
        return -1;
    if (prepare_run_dir(R, s, err) < 0)
        return -1;

    /* --- pipes; close-on-exec so no other thread's child inherits them --- */
    if (socketpair(AF_UNIX, (session ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0,
                   R->in_sp) < 0 ||
        pipe2(R->out_p, O_CLOEXEC) < 0 || pipe2(R->err_p, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, R->sync_p) < 0 ||
        pipe2(R->status_p, O_CLOEXEC) < 0) {
        return lcs_fail_errno(err, "create the sandbox's pipes");
    }
    /* stdin is a socket so the monitor can write with MSG_NOSIGNAL: a
     * command that closes its stdin must not SIGPIPE the caller. */
    if (!session)
        shutdown(R->in_sp[1], SHUT_WR);

    /* The cgroups come first: init is born in its cgroup2 directory. */
    if (make_cgroups(R, s, err) < 0)
        return -1;
    if (lcs_cg_v2_joined(&R->cg) &&
        (R->cg_v2_fd = open(lcs_cg_v2_init_dir(&R->cg), O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return lcs_fail_errno(err, "open cgroup %s", lcs_cg_v2_init_dir(&R->cg));
    int rc = spawn_child(R, err);
    if (R->cg_v2_fd >= 0)
        close(R->cg_v2_fd);
    R->cg_v2_fd = -1;
    if (rc < 0)
        return -1;
    close(R->in_sp[1]);
    close(R->out_p[1]);
    close(R->err_p[1]);
    close(R->sync_p[0]);
    close(R->status_p[1]);
    R->in_sp[1] = R->out_p[1] = R->err_p[1] = R->sync_p[0] = R->status_p[1] = -1;
    if (lcs_userns_write_maps(R->pid, &R->plan, err) < 0)
        return -1;
    if (R->plan.network == LCS_NATIVE_NET_FULL &&
        lcs_net_pasta_start(&R->pasta, R->pid, R->rundir, R->plan.dns6, err) < 0)
        return -1;
    /* A session's monitor adds the host's new addresses to the filter
     * later (lcs_native_sandbox_addr_changed): it keeps init's namespaces
     * open from now, while init is still dumpable (afterwards, a rootless
     * caller could not open them). */
    if (session && R->plan.network == LCS_NATIVE_NET_FULL) {
        char ns[64];
        snprintf(ns, sizeof ns, "/proc/%d/ns/user", (int)R->pid);
        R->ns_user_fd = open(ns, O_RDONLY | O_CLOEXEC);
        snprintf(ns, sizeof ns, "/proc/%d/ns/net", (int)R->pid);
        R->ns_net_fd = open(ns, O_RDONLY | O_CLOEXEC);
        if (R->ns_user_fd < 0 || R->ns_net_fd < 0)
            return lcs_fail_errno(err, "open the namespaces of the sandbox's init");
    }
    /* 'G': init builds the filesystem. Nothing of the sandbox's own code
     * runs before 'C' below, and until then init does only what this file
     * and mounts.c tell it to. */
    int rel = release(R, 'G', err);
    if (rel != 0)
        return rel;
    if (!R->cg_v2_born && lcs_cg_attach_v2(&R->cg, R->pid, err) < 0)
        return -1;
    /* 'C' carries the v1 "tasks" files: init writes "0" into each before it
     * starts anything, so it is in every cgroup of the sandbox before any
     * command runs. On any failure, the socket closes without 'C' and init
     * leaves. */
    int tfds[6];
    int nt = lcs_cg_open_v1_tasks(&R->cg, tfds, err);
    if (nt < 0)
        return -1;
    rel = release_fds(R, 'C', tfds, nt, err);
    for (int i = 0; i < nt; i++)
        close(tfds[i]);
    if (rel != 0)
        return rel;
    close(R->sync_p[1]);
    R->sync_p[1] = -1;
    return 0;
}

int lcs_native_run(const lcs_native_spec *s, lcs_native_result *r, lcs_error *err)
{
    if (!s || !r)
        return lcs_fail(err, LCS_E_INVALID, "native run: spec and result are required");
    memset(r, 0, sizeof *r);
    r->exit_code = -1;
    run *R = run_new(err);
    if (!R)
        return -1;
    int rc = -1;
    /* build() returning 1: init died during setup; the monitor loop below
     * reads its report and the run fails with it. */
    if (build(R, s, NULL, 0, err) < 0)
        goto out;
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
    if (mo.init_reaped)
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
    if ((!st.have_cpu || !st.have_peak) && !mo.init_reaped && R->pid > 0) {
        /* No cgroup accounting (a degraded rootless run): the figures come
         * from init's rusage, so reap it now (it is exiting already). */
        struct rusage ru;
        int ws;
        lcs_cg_kill(&R->cg);
        syscall(SYS_pidfd_send_signal, R->pidfd, SIGKILL, NULL, 0);
        while (wait4(R->pid, &ws, 0, &ru) < 0 && errno == EINTR) {
        }
        R->pid = 0;
        mo.rusage_cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        mo.rusage_maxrss = (uint64_t)ru.ru_maxrss * 1024u;
    }
    verdict(r, &mo, &st);
    r->wall_s = mo.wall_s;
    r->cpu_s = st.have_cpu ? st.cpu_s : mo.rusage_cpu_s;
    r->peak_memory_bytes = st.have_peak ? st.peak : mo.rusage_maxrss;
    r->enforced_json = enforced_json(R);
    if (!r->enforced_json) {
        lcs_fail_nomem(err);
        goto out;
    }
    rc = 0;
out:
    teardown(R);
    run_free(R);
    if (rc < 0) {
        lcs_native_result_clear(r);
        snprintf(r->verdict, sizeof r->verdict, "internal");
        r->exit_code = -1;
    }
    return rc;
}

/* ------------------------------------------------------------ sessions */

struct lcs_native_sandbox {
    run *R;
};

/* Init died after it began to load the seccomp filter and before it was
 * ready: the profile refuses a system call init needs (every exec needs
 * the same ones: a session cannot run under it). Its signal, when it is
 * dead within a second, says how (SIGSYS: a kill action; SIGSEGV: its own
 * exit was refused). */
static int init_died_under_filter(run *R, lcs_error *err)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct pollfd pf = {R->pidfd, POLLIN, 0};
    if (R->pidfd >= 0 && poll(&pf, 1, 1000) > 0)
        waitid((idtype_t)P_PIDFD, (id_t)R->pidfd, &si, WEXITED | WNOHANG | WNOWAIT);
    char how[64] = "";
    if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
        snprintf(how, sizeof how, " (killed by signal %d%s)", si.si_status,
                 si.si_status == SIGSYS ? ", the filter's kill action" : "");
    return lcs_fail(err, LCS_E_DENIED,
                    "the seccomp profile %s stopped the session's init%s: it refuses system "
                    "calls the runtime needs to serve execs (a session needs at least what its "
                    "commands need)",
                    R->seccomp_name, how);
}

/* Wait (bounded) for init's 'R' on the status pipe, then take the root
 * clone init sent on the control socket before it. */
static int wait_ready(run *R, lcs_error *err)
{
    unsigned char buf[1200];
    size_t len = 0;
    int filter_loading = 0;
    double deadline = lcs_now() + 30.0;
    for (;;) {
        while (len >= 3) {
            size_t rl = (size_t)buf[1] | ((size_t)buf[2] << 8);
            if (len < 3 + rl)
                break;
            if (buf[0] == 'E') {
                char msg[1100];
                size_t n = rl < sizeof msg - 1 ? rl : sizeof msg - 1;
                memcpy(msg, buf + 3, n);
                msg[n] = 0;
                return lcs_fail(err, LCS_E_IO, "sandbox setup failed: %s", msg);
            }
            if (buf[0] == 'R')
                goto ready;
            if (buf[0] == 'L')
                filter_loading = 1;
            memmove(buf, buf + 3 + rl, len - 3 - rl);
            len -= 3 + rl;
        }
        double left = deadline - lcs_now();
        if (left <= 0)
            return lcs_fail(err, LCS_E_IO, "sandbox setup did not finish within 30 s");
        struct pollfd pf = {R->status_p[0], POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR)
            return lcs_fail_errno(err, "wait for the sandbox's init");
        if (pr <= 0)
            continue;
        if (len == sizeof buf)
            len = 0;
        ssize_t n = read(R->status_p[0], buf + len, sizeof buf - len);
        if (n == 0 && filter_loading)
            return init_died_under_filter(R, err);
        if (n == 0)
            return lcs_fail(err, LCS_E_IO, "sandbox init exited during setup without reporting "
                                           "why");
        if (n > 0)
            len += (size_t)n;
    }
ready:;
    lcs_native_msg m;
    int fds[LCS_NATIVE_VIEWS], nfds = 0, k = 0;
    ssize_t n = lcs_recv_with_fds(R->in_sp[0], &m, sizeof m, fds, LCS_NATIVE_VIEWS, &nfds,
                                  MSG_DONTWAIT);
    if (n != (ssize_t)sizeof m || m.type != LCS_MSG_ROOT || nfds <= 0) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return lcs_fail(err, LCS_E_INTERNAL, "sandbox init did not hand over its root");
    }
    /* the views that came, in order (m.value says which) */
    for (int i = 0; i < LCS_NATIVE_VIEWS && k < nfds; i++)
        if (m.value & (1 << i))
            R->view_fd[i] = fds[k++];
    while (k < nfds)
        close(fds[k++]);
    if (R->view_fd[0] < 0)
        return lcs_fail(err, LCS_E_INTERNAL, "sandbox init did not hand over its root");
    close(R->status_p[0]);
    R->status_p[0] = -1;
    return 0;
}

int lcs_native_sandbox_start(const lcs_native_spec *s, const char *id, lcs_native_sandbox **out,
                             lcs_error *err)
{
    *out = NULL;
    if (!s || !id)
        return lcs_fail(err, LCS_E_INVALID, "sandbox start: spec and id are required");
    if (s->upper_dir)
        return lcs_fail(err, LCS_E_INVALID, "sessions do not take an upper_dir");
    run *R = run_new(err);
    if (!R)
        return -1;
    lcs_native_spec copy = *s;
    static const char *const noargv[] = {"/bin/true", NULL};
    copy.argv = noargv; /* init never runs argv in session mode */
    char name[40];
    snprintf(name, sizeof name, "lcs-%.32s", id);
    if (build(R, &copy, name, 1, err) < 0 || wait_ready(R, err) < 0)
        goto fail;
    /* init's output pipes are unused in session mode */
    close2(R->out_p);
    close2(R->err_p);
    /* init's oom_score_adj stays as inherited. The OOM killer of the
     * memory limit cannot choose init (it is not in the memory cgroup:
     * make_cgroups), and a lower value would be no protection worth having:
     * every exec inherits it, and at -1000 (OOM_SCORE_ADJ_MIN) the memory
     * limit's OOM killer finds no victim at all (the writer loops on
     * ENOMEM instead of dying); an exec cannot raise its own either, since
     * a vfork child shares init's memory and the kernel keeps all sharers
     * of one memory at one value. */
    lcs_native_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb) {
        lcs_fail_nomem(err);
        goto fail;
    }
    sb->R = R;
    *out = sb;
    return 0;
fail:
    teardown(R);
    run_free(R);
    return -1;
}

void lcs_native_sandbox_destroy(lcs_native_sandbox *sb)
{
    if (!sb)
        return;
    teardown(sb->R);
    run_free(sb->R);
    free(sb);
}

int lcs_native_sandbox_ctl_fd(const lcs_native_sandbox *sb) { return sb->R->in_sp[0]; }
int lcs_native_sandbox_pidfd(const lcs_native_sandbox *sb) { return sb->R->pidfd; }
pid_t lcs_native_sandbox_init_pid(const lcs_native_sandbox *sb) { return sb->R->pid; }
int lcs_native_addr_watch_open(lcs_error *err) { return lcs_net_addr_watch_open(err); }
int lcs_native_sandbox_addr_changed(lcs_native_sandbox *sb, int fd, lcs_error *err)
{
    run *R = sb->R;
    if (!lcs_net_addr_watch_read(fd) || R->plan.network != LCS_NATIVE_NET_FULL)
        return 0;
    return lcs_net_filter_add_hosts(R->ns_user_fd, R->ns_net_fd, R->plan.rootless, R->plan.nft,
                                    err);
}
const char *const lcs_native_view_paths[LCS_NATIVE_VIEWS] = {"/", "/tmp", LCS_SANDBOX_INPUT,
                                                             LCS_SANDBOX_OUTPUT};
int lcs_native_sandbox_root_fd(const lcs_native_sandbox *sb) { return sb->R->view_fd[0]; }
int lcs_native_sandbox_view_fd(const lcs_native_sandbox *sb, int view)
{
    return view >= 0 && view < LCS_NATIVE_VIEWS ? sb->R->view_fd[view] : -1;
}

void lcs_native_sandbox_owner(const lcs_native_sandbox *sb, uid_t *uid, gid_t *gid)
{
    *uid = lcs_userns_host_uid(&sb->R->plan, sb->R->plan.uid);
    *gid = lcs_userns_host_gid(&sb->R->plan, sb->R->plan.gid);
}

char *lcs_native_sandbox_enforced_json(const lcs_native_sandbox *sb)
{
    return enforced_json(sb->R);
}

char *lcs_native_sandbox_resources_json(const lcs_native_sandbox *sb)
{
    run *R = sb->R;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "memory", R->cg.mem,
                          "pids", R->cg.pids, "cpu", R->cg.cpu, "cpuacct", R->cg.acct, "freezer",
                          R->cg.freezer, "v2", R->cg.v2, "v2_top", R->cg.v2_top, "v2_init",
                          R->cg.v2_init, "rundir", R->rundir, "pasta_pid", (int)R->pasta.pid,
                          "pasta_pidfile", R->pasta.pidfile);
    if (!o)
        return NULL;
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

void lcs_native_sandbox_counters(const lcs_native_sandbox *sb, uint64_t *oom_kills,
                                 uint64_t *pids_hits, uint64_t *memory_bytes, uint64_t *procs)
{
    /* Only the files a verdict needs (this runs twice per exec); memory and
     * process counts only when asked for (status). */
    const lcs_cgroup *cg = &sb->R->cg;
    uint64_t v = 0;
    *oom_kills = *pids_hits = 0;
    if (cg->mem_v == LCS_CG_V2 && lcs_read_keyed(cg->mem, "memory.events", "oom_kill", &v) == 0)
        *oom_kills = v;
    else if (cg->mem_v == LCS_CG_V1 &&
             lcs_read_keyed(cg->mem, "memory.oom_control", "oom_kill", &v) == 0)
        *oom_kills = v;
    if (cg->pids_v && lcs_read_keyed(cg->pids, "pids.events", "max", &v) == 0)
        *pids_hits = v;
    if (!memory_bytes)
        return;
    char buf[64];
    *memory_bytes = 0;
    *procs = 0;
    if (cg->mem_v == LCS_CG_V2 && lcs_read_file(cg->mem, "memory.current", buf, sizeof buf) == 0)
        *memory_bytes = strtoull(buf, NULL, 10);
    else if (cg->mem_v == LCS_CG_V1 &&
             lcs_read_file(cg->mem, "memory.usage_in_bytes", buf, sizeof buf) == 0)
        *memory_bytes = strtoull(buf, NULL, 10);
    if (cg->pids_v && lcs_read_file(cg->pids, "pids.current", buf, sizeof buf) == 0)
        *procs = strtoull(buf, NULL, 10);
}

int lcs_native_sandbox_pids_full(const lcs_native_sandbox *sb)
{
    const lcs_cgroup *cg = &sb->R->cg;
    char cur[32], max[32];
    if (!cg->pids_v || lcs_read_file(cg->pids, "pids.current", cur, sizeof cur) < 0 ||
        lcs_read_file(cg->pids, "pids.max", max, sizeof max) < 0 || !strncmp(max, "max", 3))
        return 0;
    return strtoull(cur, NULL, 10) >= strtoull(max, NULL, 10);
}

/* The session's memory cgroup when init is not in it, else "". */
static void exec_mem_dir(const lcs_native_sandbox *sb, lcs_native_execcg *cg)
{
    const lcs_cgroup *scg = &sb->R->cg;
    cg->mem[0] = 0;
    cg->mem_v1 = scg->mem_v == LCS_CG_V1;
    if (scg->init_apart && scg->mem_v)
        snprintf(cg->mem, sizeof cg->mem, "%s", scg->mem);
}

void lcs_native_execcg_memory_only(const lcs_native_sandbox *sb, lcs_native_execcg *cg)
{
    memset(cg, 0, sizeof *cg);
    exec_mem_dir(sb, cg);
}

int lcs_native_execcg_create(const lcs_native_sandbox *sb, uint32_t n, lcs_native_execcg *cg,
                             lcs_error *err)
{
    const lcs_cgroup *scg = &sb->R->cg;
    memset(cg, 0, sizeof *cg);
    exec_mem_dir(sb, cg);
    if (scg->v2[0]) {
        snprintf(cg->v2, sizeof cg->v2, "%s/x%u", scg->v2, (unsigned)n);
        if (mkdir(cg->v2, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            cg->v2[0] = 0;
            errno = e;
            return lcs_fail_errno(err, "create the exec cgroup under %s", scg->v2);
        }
        /* init clones the exec into it (lcs_native_execcg_open_dir): the
         * kernel checks init's own uid against this cgroup.procs and the
         * session's (given to it at the session's start, build). */
        if (lcs_cg_v2_joined(scg) && give_procs(sb->R, cg->v2, err) < 0) {
            lcs_native_execcg_remove(cg);
            return -1;
        }
    }
    if (scg->freezer[0]) {
        snprintf(cg->freezer, sizeof cg->freezer, "%s/x%u", scg->freezer, (unsigned)n);
        if (mkdir(cg->freezer, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            cg->freezer[0] = 0;
            errno = e;
            lcs_native_execcg_remove(cg);
            return lcs_fail_errno(err, "create the exec cgroup under %s", scg->freezer);
        }
    }
    return 0;
}

/* The memory cgroup is joined only where the exec's own v2 directory is
 * not already inside it (a v2 memory cgroup is the session's v2 directory,
 * the parent of the exec's). */
static int mem_needed(const lcs_native_execcg *cg)
{
    size_t l = strlen(cg->mem);
    return cg->mem[0] && !(cg->v2[0] && !strncmp(cg->v2, cg->mem, l) && cg->v2[l] == '/');
}

int lcs_native_execcg_open_procs(const lcs_native_execcg *cg, int fds[3], lcs_error *err)
{
    const char *dirs[3] = {mem_needed(cg) ? cg->mem : "", cg->v2, cg->freezer};
    /* v1: "tasks", which a single-threaded child writing "0" joins without
     * the kernel's global threadgroup lock (internal.h) */
    const char *files[3] = {cg->mem_v1 ? "tasks" : "cgroup.procs", "cgroup.procs", "tasks"};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (!dirs[i][0])
            continue;
        char p[sizeof cg->v2 + 16];
        snprintf(p, sizeof p, "%.*s/%s", (int)sizeof cg->v2 - 1, dirs[i], files[i]);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            while (n > 0)
                close(fds[--n]);
            errno = e;
            return lcs_fail_errno(err, "open %s", p);
        }
        fds[n++] = fd;
    }
    return n;
}

int lcs_native_execcg_open_dir(const lcs_native_sandbox *sb, const lcs_native_execcg *cg,
                               int *procs_index)
{
    if (!lcs_cg_v2_joined(&sb->R->cg))
        return -1;
    if (!cg->v2[0]) {
        /* a warm sandbox's one exec: into the split session's work/ (its
         * memory cgroup), whose cgroup.procs init's uid was given */
        if (!sb->R->cg.v2_top[0] || !cg->mem[0] || cg->mem_v1)
            return -1;
        *procs_index = 0;
        return open(cg->mem, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    *procs_index = mem_needed(cg) ? 1 : 0;
    return open(cg->v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int lcs_native_execcg_attach(const lcs_native_execcg *cg, pid_t pid, lcs_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    const char *dirs[3] = {mem_needed(cg) ? cg->mem : "", cg->v2, cg->freezer};
    for (int i = 0; i < 3; i++)
        if (dirs[i][0] && lcs_write_file(dirs[i], "cgroup.procs", buf) < 0)
            return lcs_fail_errno(err, "move the exec into cgroup %s", dirs[i]);
    return 0;
}

void lcs_native_execcg_kill(const lcs_native_execcg *cg)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/cgroup.kill", cg->v2);
    if (cg->v2[0] && access(p, F_OK) == 0) {
        lcs_write_file(cg->v2, "cgroup.kill", "1");
        return;
    }
    if (cg->freezer[0])
        lcs_cg_v1_kill_dir(cg->freezer, 1);
}

int lcs_native_execcg_populated(const lcs_native_execcg *cg)
{
    uint64_t v = 0;
    if (cg->v2[0] && lcs_read_keyed(cg->v2, "cgroup.events", "populated", &v) == 0)
        return v != 0;
    char buf[16];
    if (cg->freezer[0] && lcs_read_file(cg->freezer, "cgroup.procs", buf, sizeof buf) == 0)
        return buf[0] != 0;
    return 0;
}

double lcs_native_execcg_cpu(const lcs_native_execcg *cg)
{
    uint64_t v;
    if (cg->v2[0] && lcs_read_keyed(cg->v2, "cpu.stat", "usage_usec", &v) == 0)
        return (double)v / 1e6;
    return -1;
}

int lcs_native_execcg_remove(lcs_native_execcg *cg)
{
    int rc = 0;
    char *dirs[2] = {cg->v2, cg->freezer};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i][0])
            continue;
        if (rmdir(dirs[i]) == 0 || errno == ENOENT)
            dirs[i][0] = 0;
        else
            rc = -1;
    }
    return rc;
}

int lcs_native_cleanup_resources(const char *resources_json, lcs_error *err)
{
    json_error_t je;
    json_t *o = json_loads(resources_json, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return lcs_fail(err, LCS_E_PARSE, "session resources: %s", je.text);
    }
    lcs_cgroup cg;
    memset(&cg, 0, sizeof cg);
    struct {
        const char *key;
        char *dst;
    } map[] = {{"memory", cg.mem}, {"pids", cg.pids}, {"cpu", cg.cpu},
               {"cpuacct", cg.acct}, {"freezer", cg.freezer}, {"v2", cg.v2},
               {"v2_top", cg.v2_top}, {"v2_init", cg.v2_init}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = json_string_value(json_object_get(o, map[i].key));
        /* only directories named like ours: never rmdir anything else */
        if (v && strstr(v, "/lcs-") && strlen(v) < PATH_MAX)
            snprintf(map[i].dst, PATH_MAX, "%s", v);
    }
    if (cg.v2[0] && access(cg.v2, F_OK) == 0) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/cgroup.kill", cg.v2);
        if (access(p, F_OK) == 0)
            cg.kill_v = LCS_CG_V2;
    }
    if (!cg.kill_v && cg.freezer[0])
        cg.kill_v = LCS_CG_V1;
    lcs_cg_kill(&cg);
    lcs_cg_rmdir_children(cg.v2);
    lcs_cg_rmdir_children(cg.freezer);
    lcs_cg_destroy(&cg);
    /* pasta exits with its namespace; make sure, but only if the pid still
     * is that pasta (its command line names our pid file). */
    int ppid = (int)json_integer_value(json_object_get(o, "pasta_pid"));
    const char *pf = json_string_value(json_object_get(o, "pasta_pidfile"));
    if (ppid > 0 && pf && pf[0]) {
        char path[64], cmd[4096];
        snprintf(path, sizeof path, "/proc/%d/cmdline", ppid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, cmd, sizeof cmd - 1);
            close(fd);
            if (n > 0) {
                cmd[n] = 0;
                for (ssize_t i = 0; i < n; i++)
                    if (!cmd[i])
                        cmd[i] = ' ';
                if (strstr(cmd, "pasta") && strstr(cmd, pf))
                    kill(ppid, SIGKILL);
            }
        }
    }
    const char *rd = json_string_value(json_object_get(o, "rundir"));
    if (rd && strstr(rd, "/lcs-"))
        lcs_rm_tree(rd);
    json_decref(o);
    return 0;
}
