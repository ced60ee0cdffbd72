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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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
 * ...); no new device node is ever created, and the sandbox cannot mknod. */
static int bind_dev(const lcs_plan *p, const char *name, lcs_child_err *e)
{
    char src[64], dst[PATH_MAX + 64];
    snprintf(src, sizeof src, "/dev/%s", name);
    snprintf(dst, sizeof dst, "%s/dev/%s", p->root, name);
    int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0)
        return lcs_child_fail(e, errno, "create %s", dst);
    close(fd);
    if (do_mount(src, dst, NULL, MS_BIND, NULL, e) < 0)
        return -1;
    /* nosuid+noexec on top of the bind; nodev would break the node itself. */
    return do_mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, NULL, e);
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

int lcs_mounts_setup(const lcs_plan *p, lcs_child_err *e)
{
    char buf[PATH_MAX + 64];

    /* Nothing we mount or unmount from here on may propagate to the host. */
    if (do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, e) < 0)
        return -1;
    /* The image is the read-only lower layer; writes land in the per-run
     * upper dir that the monitor deletes afterwards. */
    if (do_mount("overlay", p->root, "overlay", MS_NOSUID | MS_NODEV, p->overlay_opts, e) < 0)
        return -1;
    if (!p->writable_root) {
        /* /home/sandbox gets its own mount so it stays writable when the
         * root is made read-only below. */
        if (path_in_root(p, "/home/sandbox", buf, sizeof buf, e) < 0 ||
            do_mount(buf, buf, NULL, MS_BIND, NULL, e) < 0)
            return -1;
    }
    if (p->input_dir[0] && bind_host_dir(p, p->input_dir, "/home/sandbox/input", 1, e) < 0)
        return -1;
    if (p->output_dir[0] && bind_host_dir(p, p->output_dir, "/home/sandbox/output", 0, e) < 0)
        return -1;
    if (path_in_root(p, "/tmp", buf, sizeof buf, e) < 0 ||
        do_mount("tmpfs", buf, "tmpfs", MS_NOSUID | MS_NODEV, p->tmp_opts, e) < 0)
        return -1;
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
    if (!p->writable_root &&
        do_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL, e) <
            0)
        return -1;
    return 0;
}
