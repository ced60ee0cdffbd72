/*
 * mounts.c - child side: build the sandbox's root filesystem and enter it.
 *
 * Runs in init (pid 1 of the sandbox) as root of the sandbox's own user
 * namespace, inside its own mount namespace. Everything done here is
 * invisible to the host: the first step makes every mount private, so no
 * mount or unmount propagates back. The capabilities used here are those of
 * the new user namespace, which the kernel only honours for objects that
 * namespace owns (our mount namespace, our tmpfs/proc/overlay mounts); host
 * files keep their host permission checks.
 *
 * Layout (see docs/runtime.md): overlay(lower = image rootfs, upper = per-run
 * dir) as /, /home/sandbox a separate writable bind in RESTRICTED mode,
 * optional input (ro) and output (rw) binds, tmpfs /tmp (size-capped), a
 * minimal /dev, a fresh /proc for the new pid namespace, no /sys. Every
 * mount is nosuid and, except the device binds, nodev.
 */
#include "runtime/native/internal.h"
#include "util/sandbox_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The new mount API (raw syscalls: glibc's <sys/mount.h> and
 * <linux/mount.h> do not mix on Debian 12). */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

static int path_in_root(const lcs_plan *p, const char *rel, char *buf, size_t len, lcs_child_err *e)
{
    int n = snprintf(buf, len, "%s%s", p->root, rel);
    if (n < 0 || (size_t)n >= len)
        return lcs_child_fail(e, 0, "path too long: %s%s", p->root, rel);
    return 0;
}

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                    const char *data, lcs_child_err *e)
{
    if (mount(src, dst, type, flags, data) == 0)
        return 0;
    int saved = errno;
    lcs_child_fail(e, saved, "mount %s on %s (%s%s%s)", src ? src : "(none)", dst,
                   type ? type : "bind/remount", data ? ", " : "", data ? data : "");
    if (saved == EACCES && type && !strcmp(type, "overlay")) {
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n,
                 "; every directory above the rootfs and the state directory must be "
                 "searchable by the sandbox's host uid (chmod o+x)");
    }
    return -1;
}

/* Bind one host device node onto an empty file in the new /dev. The bind
 * keeps the host node's identity (a harmless character device: null, zero,
 * ...); no new device node is ever created, and the sandbox cannot mknod.
 * No remount with nosuid/noexec: a bind mount of one character device
 * holds no set-uid file and nothing execve() would run (the kernel only
 * executes regular files), so those flags would change nothing. */
static int bind_dev(const lcs_plan *p, const char *name, lcs_child_err *e)
{
    char src[64], dst[PATH_MAX + 64];
    snprintf(src, sizeof src, "/dev/%s", name);
    snprintf(dst, sizeof dst, "%s/dev/%s", p->root, name);
    int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0)
        return lcs_child_fail(e, errno, "create %s", dst);
    close(fd);
    return do_mount(src, dst, NULL, MS_BIND, NULL, e);
}

static int setup_dev(const lcs_plan *p, lcs_child_err *e)
{
    char dev[PATH_MAX + 64], buf[PATH_MAX + 128];
    if (path_in_root(p, "/dev", dev, sizeof dev, e) < 0)
        return -1;
    if (do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m,nr_inodes=64",
                 e) < 0)
        return -1;
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        if (bind_dev(p, nodes[i], e) < 0)
            return -1;
    static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"},
                                           {"pts/ptmx", "ptmx"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(buf, sizeof buf, "%s/%s", dev, links[i][1]);
        if (symlink(links[i][0], buf) < 0)
            return lcs_child_fail(e, errno, "symlink %s", buf);
    }
    snprintf(buf, sizeof buf, "%s/shm", dev);
    if (mkdir(buf, 01777) < 0)
        return lcs_child_fail(e, errno, "mkdir %s", buf);
    if (do_mount("shm", buf, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=16m", e) <
        0)
        return -1;
    snprintf(buf, sizeof buf, "%s/pts", dev);
    if (mkdir(buf, 0755) < 0)
        return lcs_child_fail(e, errno, "mkdir %s", buf);
    /* A private devpts instance: ptys of the sandbox only. Optional. */
    mount("devpts", buf, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
    /* /dev itself becomes read-only: nothing can be added to it. */
    return do_mount(NULL, dev, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL,
                    e);
}

/* Bind a host directory chosen by the caller. Not recursive: submounts of the
 * host directory are not exposed. */
static int bind_host_dir(const lcs_plan *p, const char *src, const char *rel, int ro,
                         lcs_child_err *e)
{
    char dst[PATH_MAX + 64];
    if (path_in_root(p, rel, dst, sizeof dst, e) < 0)
        return -1;
    if (do_mount(src, dst, NULL, MS_BIND, NULL, e) < 0)
        return -1;
    unsigned long fl = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0);
    return do_mount(NULL, dst, NULL, fl, NULL, e);
}

/* A fresh directory of the layer tmpfs (lcs_mounts_setup runs with umask
 * 0, so mkdir gives exactly mode, sticky bit included); chown only when
 * the owner is not init itself. */
static int mk(const char *base, const char *rel, mode_t mode, uid_t u, gid_t g, lcs_child_err *e)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", base, rel);
    if (mkdir(path, mode) < 0)
        return lcs_child_fail(e, errno, "mkdir %s", path);
    if ((u != geteuid() || g != getegid()) && chown(path, u, g) < 0)
        return lcs_child_fail(e, errno, "chown %s", path);
    return 0;
}

/* The one-shot writable layer: a size-capped tmpfs in this mount namespace
 * holding upper, work and the merged root, plus the skeleton the monitor
 * makes on the host for the other layouts. Its pages are charged to the
 * sandbox's memory cgroup; it vanishes with the namespace. */
static int setup_layer_tmpfs(const lcs_plan *p, lcs_child_err *e)
{
    const char *m = p->layer_mnt;
    if (do_mount("tmpfs", m, "tmpfs", MS_NOSUID | MS_NODEV, p->layer_opts, e) < 0)
        return -1;
    uid_t r0 = p->rootless ? p->uid : 0;
    gid_t g0 = p->rootless ? p->gid : 0;
    if (mk(m, "upper", 0755, r0, g0, e) < 0 || mk(m, "work", 0700, r0, g0, e) < 0 ||
        mk(m, "root", 0755, r0, g0, e) < 0 || mk(m, "upper/proc", 0555, r0, g0, e) < 0 ||
        mk(m, "upper/dev", 0755, r0, g0, e) < 0 || mk(m, "upper/tmp", 01777, r0, g0, e) < 0 ||
        mk(m, "upper/home", 0755, r0, g0, e) < 0 ||
        mk(m, "upper/home/sandbox", 0755, p->uid, p->gid, e) < 0 ||
        mk(m, "upper/home/sandbox/work", 0755, p->uid, p->gid, e) < 0)
        return -1;
    if (p->input_dir[0] && mk(m, "upper/home/sandbox/input", 0755, p->uid, p->gid, e) < 0)
        return -1;
    if (p->output_dir[0] && mk(m, "upper/home/sandbox/output", 0755, p->uid, p->gid, e) < 0)
        return -1;
    if (!p->resolv[0])
        return 0;
    char path[PATH_MAX + 64];
    size_t n = strlen(p->resolv_text);
    int fd = open(p->resolv, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, p->resolv_text, n) != (ssize_t)n)
        return lcs_child_fail(e, errno, "write %s", p->resolv);
    close(fd);
    /* A target for the bind when the image has no regular resolv.conf. */
    struct stat st;
    snprintf(path, sizeof path, "%s/etc/resolv.conf", p->rootfs);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    if (mk(m, "upper/etc", 0755, r0, g0, e) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/upper/etc/resolv.conf", m);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return lcs_child_fail(e, errno, "create %s", path);
    close(fd);
    return 0;
}

/* Mount the overlay naming its layers by descriptor: the options are shown
 * to the sandbox in /proc/self/mountinfo exactly as given, so host paths
 * in them (where the image lives, the state directory) would be read by
 * sandboxed code. "/proc/self/fd/N" (of this process, which is the host's
 * /proc until pivot_root) resolves to the directory we opened and shows
 * nothing. Layer paths never contain ',' (refused in launch.c), so the
 * options after the three directories start at ",userxattr". Without the
 * host's /proc the paths are used as before. */
static int mount_overlay(const lcs_plan *p, lcs_child_err *e)
{
    const char *dirs[3] = {p->rootfs, p->upper, p->work};
    int fds[3] = {-1, -1, -1};
    const char *flags = strstr(p->overlay_opts, ",userxattr");
    bool byfd = flags && access("/proc/self/fd", X_OK) == 0;
    for (int i = 0; i < 3 && byfd; i++)
        byfd = (fds[i] = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0;
    char opts[256];
    if (byfd)
        snprintf(opts, sizeof opts,
                 "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d%s",
                 fds[0], fds[1], fds[2], flags);
    int rc = do_mount("overlay", p->root, "overlay", MS_NOSUID | MS_NODEV,
                      byfd ? opts : p->overlay_opts, e);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

int lcs_mounts_setup(const lcs_plan *p, int *root_clone, lcs_child_err *e)
{
    /* root_clone (sessions) is an array of LCS_NATIVE_VIEWS descriptors */
    char buf[PATH_MAX + 64];

    /* Modes below are exact (the command gets umask 022 in lcs_init_exec). */
    umask(0);
    /* Nothing we mount or unmount from here on may propagate to the host. */
    if (do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, e) < 0)
        return -1;
    if (p->layer_tmpfs && setup_layer_tmpfs(p, e) < 0)
        return -1;
    /* The image is the read-only lower layer; writes land in the per-run
     * upper dir (a tmpfs of this namespace, or a host dir the monitor
     * deletes afterwards). */
    if (mount_overlay(p, e) < 0)
        return -1;
    if (root_clone) {
        /* Taken before anything is mounted on top: the clone has no
         * submounts, so the host's file operations (which never cross a
         * mount point) reach /home/sandbox/work in the overlay itself. */
        for (int i = 0; i < LCS_NATIVE_VIEWS; i++)
            root_clone[i] = -1;
        root_clone[0] = (int)syscall(SYS_open_tree, AT_FDCWD, p->root,
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (root_clone[0] < 0)
            return lcs_child_fail(e, errno, "open_tree the sandbox root");
    }
    if (!p->writable_root) {
        /* /home/sandbox gets its own mount so it stays writable when the
         * root is made read-only below. */
        if (path_in_root(p, LCS_SANDBOX_HOME, buf, sizeof buf, e) < 0 ||
            do_mount(buf, buf, NULL, MS_BIND, NULL, e) < 0)
            return -1;
    }
    if (p->input_dir[0] && bind_host_dir(p, p->input_dir, LCS_SANDBOX_INPUT, 1, e) < 0)
        return -1;
    if (p->output_dir[0] && bind_host_dir(p, p->output_dir, LCS_SANDBOX_OUTPUT, 0, e) < 0)
        return -1;
    if (path_in_root(p, "/tmp", buf, sizeof buf, e) < 0 ||
        do_mount("tmpfs", buf, "tmpfs", MS_NOSUID | MS_NODEV, p->tmp_opts, e) < 0)
        return -1;
    if (root_clone) {
        /* The other places the host's file operations serve, each its own
         * mount (fsops never crosses one): /tmp, input, output. */
        static const char *const rel[LCS_NATIVE_VIEWS] = {NULL, "/tmp", LCS_SANDBOX_INPUT,
                                                          LCS_SANDBOX_OUTPUT};
        for (int i = 1; i < LCS_NATIVE_VIEWS; i++) {
            if ((i == 2 && !p->input_dir[0]) || (i == 3 && !p->output_dir[0]))
                continue;
            if (path_in_root(p, rel[i], buf, sizeof buf, e) < 0)
                return -1;
            root_clone[i] = (int)syscall(SYS_open_tree, AT_FDCWD, buf,
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
            if (root_clone[i] < 0)
                return lcs_child_fail(e, errno, "open_tree %s", buf);
        }
    }
    if (setup_dev(p, e) < 0)
        return -1;
    /* A proc for the new pid namespace: it shows only sandbox processes.
     * It must be mounted while the host's /proc is still visible (the
     * kernel refuses proc in a user namespace that has no full view of one). */
    if (path_in_root(p, "/proc", buf, sizeof buf, e) < 0 ||
        do_mount("proc", buf, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, e) < 0)
        return -1;
    /* /proc/sys read-only: the kernel already refuses most writes from a
     * user namespace; this makes the rest (per-netns/ipc knobs) constant. */
    if (path_in_root(p, "/proc/sys", buf, sizeof buf, e) < 0 ||
        do_mount(buf, buf, NULL, MS_BIND | MS_REC, NULL, e) < 0 ||
        do_mount(NULL, buf, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 NULL, e) < 0)
        return -1;

    /* FULL network: a detached bind of the generated resolv.conf, taken
     * while the host path is still reachable, attached after pivot_root so
     * that /etc/resolv.conf is resolved inside the sandbox (an image
     * symlink can never point the bind at a host file). */
    int resolv_fd = -1;
    if (p->resolv[0]) {
        resolv_fd = (int)syscall(SYS_open_tree, AT_FDCWD, p->resolv,
                                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (resolv_fd < 0)
            return lcs_child_fail(e, errno, "open_tree %s", p->resolv);
    }

    /* Enter the new root and detach the host's: after this no host path is
     * reachable by name from inside. pivot_root(".", ".") stacks the old
     * root on top of the new one; the lazy unmount then drops it. */
    if (chdir(p->root) < 0)
        return lcs_child_fail(e, errno, "chdir %s", p->root);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return lcs_child_fail(e, errno, "pivot_root into %s", p->root);
    if (umount2(".", MNT_DETACH) < 0)
        return lcs_child_fail(e, errno, "detach the host root");
    if (chdir("/") < 0)
        return lcs_child_fail(e, errno, "chdir /");
    if (resolv_fd >= 0) {
        int rc = (int)syscall(SYS_move_mount, resolv_fd, "", AT_FDCWD, "/etc/resolv.conf",
                              MOVE_MOUNT_F_EMPTY_PATH);
        int saved = errno;
        close(resolv_fd);
        if (rc < 0)
            return lcs_child_fail(e, saved, "bind the generated /etc/resolv.conf");
        if (do_mount(NULL, "/etc/resolv.conf", NULL,
                     MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                     e) < 0)
            return -1;
    }
    if (!p->writable_root &&
        do_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL, e) <
            0)
        return -1;
    return 0;
}
