/*
 * launch.c - lcs_native_run(): build one sandbox, run one command, tear
 * everything down. This file is the orchestration (the plan, the run
 * directory, the clone, the cgroups, teardown); each kernel concern has its
 * own file (userns.c, cgroup*.c, mounts.c, privs.c, seccomp.c, net.c,
 * init.c, supervise.c), a session's sandbox handle is sandbox.c, its execs'
 * cgroups cgroup_exec.c, the verdict and the enforced report result.c.
 *
 * "The monitor" is the host-side process that owns a sandbox: the caller of
 * lcs_native_run for a one-shot run, the session monitor
 * (src/session/monitor.c) for a session.
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
 *   5. supervision loop (supervise.c) until init exits; verdict and
 *      accounting (result.c);
 *   6. cleanup: kill whatever is left, remove cgroups and the run directory.
 */
#include "runtime/native/launch.h"
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


void lcs_close_pair(int p[2])
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

/* ---------------------------------------------------------------- cleanup */

void lcs_launch_teardown(run *R)
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
    lcs_close_pair(R->in_sp);
    lcs_close_pair(R->out_p);
    lcs_close_pair(R->err_p);
    lcs_close_pair(R->sync_p);
    lcs_close_pair(R->status_p);
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
void lcs_launch_free(run *R)
{
    munmap(R, sizeof *R);
}

run *lcs_launch_new(lcs_error *err)
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
        lcs_launch_free(R);
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
int lcs_launch_give_procs(const run *R, const char *dir, lcs_error *err)
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
        (lcs_launch_give_procs(R, lcs_cg_v2_common_dir(&R->cg), err) < 0 ||
         (R->cg.v2_top[0] && lcs_launch_give_procs(R, R->cg.v2, err) < 0)))
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
int lcs_launch_build(run *R, const lcs_native_spec *s, const char *id, int session, lcs_error *err)
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
    run *R = lcs_launch_new(err);
    if (!R)
        return -1;
    int rc = -1;
    /* lcs_launch_build() returning 1: init died during setup; the supervision loop below
     * reads its report and the run fails with it. */
    if (lcs_launch_build(R, s, NULL, 0, err) < 0)
        goto out;
    if (!s->stdin_len) {
        close(R->in_sp[0]);
        R->in_sp[0] = -1;
    }

    lcs_supervise_io io = {.pidfd = R->pidfd,
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
    lcs_supervise_out mo;
    memset(&mo, 0, sizeof mo);
    int mrc = lcs_supervise_run(&io, r, &mo, err);
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
    lcs_launch_verdict(r, &mo, &st);
    r->wall_s = mo.wall_s;
    r->cpu_s = st.have_cpu ? st.cpu_s : mo.rusage_cpu_s;
    r->peak_memory_bytes = st.have_peak ? st.peak : mo.rusage_maxrss;
    r->enforced_json = lcs_launch_enforced_json(R);
    if (!r->enforced_json) {
        lcs_fail_nomem(err);
        goto out;
    }
    rc = 0;
out:
    lcs_launch_teardown(R);
    lcs_launch_free(R);
    if (rc < 0) {
        lcs_native_result_clear(r);
        snprintf(r->verdict, sizeof r->verdict, "internal");
        r->exit_code = -1;
    }
    return rc;
}

