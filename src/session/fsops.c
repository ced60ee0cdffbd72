/*
 * fsops.c - host-side file operations confined to a sandbox's root.
 *
 * The rules (resolution, symlinks, "..", mounts) are stated once in
 * fsops.h. This file keeps every step short and says why it is safe; the
 * tar export lives in tarx.c and shares the resolver and the walker.
 */
#include "session/fsops.h"
#include "util/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture */
#endif

/* From the sandbox root: "/" and ".." stop at root_fd and /proc magic links
 * (which jump anywhere, e.g. /proc/self/root) are refused. Mount points
 * are crossed, because a sandbox's root is several mounts (the overlay,
 * the /home/sandbox bind, /tmp, input and output); what must never be
 * reached is a kernel pseudo filesystem, which open_confined() refuses. */
#define RESOLVE_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
/* One name below a directory fd during a walk: no symlink at all, no
 * mount crossing, nothing outside the directory. */
#define RESOLVE_STEP                                                                               \
    (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

#define COPY_CHUNK (1024u * 1024u)

/* ------------------------------------------------------------ resolution */

static int openat2_raw(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);

/* Kernel pseudo filesystems a sandbox's root has mounted (its own /proc,
 * /dev/pts) or could reach: opened from the monitor, /proc/self would be
 * the *monitor's* process (its environment, memory maps, fds), so nothing
 * on these is ever opened. */
static bool pseudo_fs(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return true; /* cannot tell: refuse */
    switch ((unsigned long)sf.f_type) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case DEVPTS_SUPER_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
    case DEBUGFS_MAGIC:
    case SECURITYFS_MAGIC:
    case TRACEFS_MAGIC:
    case BPF_FS_MAGIC:
    case SELINUX_MAGIC:
    case SMACK_MAGIC:
    case EFIVARFS_MAGIC:
    case PSTOREFS_MAGIC:
    case NSFS_MAGIC:
        return true;
    default:
        return false;
    }
}

static int openat2_retry(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    int fd = openat2_raw(dirfd, path, flags, mode, resolve);
    if (fd >= 0 && pseudo_fs(fd)) {
        close(fd);
        errno = EXDEV; /* reported as "crosses into a kernel filesystem" */
        return -1;
    }
    return fd;
}

static int openat2_raw(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve};
    if (flags & O_CREAT)
        how.mode = mode;
    /* EAGAIN: RESOLVE_IN_ROOT saw a concurrent rename and refused to trust
     * "..": retrying is safe (each try is checked afresh), and bounded. */
    for (int i = 0; i < 64; i++) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
    }
    return -1;
}

int lcs_fs_open_in_root(int root_fd, const char *path, int flags)
{
    return openat2_retry(root_fd, path, flags, 0, RESOLVE_ROOT);
}

static int open_step(int dirfd, const char *name, int flags)
{
    return openat2_retry(dirfd, name, flags, 0, RESOLVE_STEP);
}

const char *lcs_fs_type_name(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFIFO: return "a fifo";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    default: return "a special file";
    }
}

int lcs_fs_fail_resolve(lcs_error *err, int errnum, const char *op, const char *path)
{
    switch (errnum) {
    case ENOSYS:
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "cannot %s %s: openat2(2) is unavailable; confined access to a sandbox's "
                        "files needs Linux 5.6 or newer",
                        op, path);
    case ENOENT:
        return lcs_fail(err, LCS_E_NOT_FOUND, "cannot %s %s: no such file or directory", op, path);
    case ENOTDIR:
        return lcs_fail(err, LCS_E_INVALID,
                        "cannot %s %s: a component of the path is not a directory", op, path);
    case ELOOP:
        return lcs_fail(err, LCS_E_INVALID,
                        "cannot %s %s: too many symbolic links, or a /proc magic link, on the way",
                        op, path);
    case EXDEV:
        return lcs_fail(err, LCS_E_DENIED,
                        "cannot %s %s: the path leads into a kernel filesystem (such as the "
                        "sandbox's /proc) or, in a recursive walk, across a mount point; file "
                        "operations only touch the sandbox's own files",
                        op, path);
    case ENAMETOOLONG: return lcs_fail(err, LCS_E_INVALID, "cannot %s %s: name too long", op, path);
    case EACCES:
    case EPERM:
        errno = errnum;
        lcs_fail_errno(err, "cannot %s %s", op, path);
        if (err)
            err->code = LCS_E_DENIED;
        return -1;
    default: errno = errnum; return lcs_fail_errno(err, "cannot %s %s", op, path);
    }
}

char *lcs_fs_clean_path(const char *path, lcs_error *err)
{
    if (!path || !*path) {
        lcs_fail(err, LCS_E_INVALID, "empty path: name a file inside the sandbox");
        return NULL;
    }
    size_t plen = strlen(path);
    if (plen >= PATH_MAX) {
        lcs_fail(err, LCS_E_INVALID, "path too long (%zu bytes, the limit is %d)", plen,
                 PATH_MAX - 1);
        return NULL;
    }
    /* Relative paths start at the workspace. */
    size_t cap = plen + sizeof LCS_FS_WORKSPACE + 2;
    char *in = malloc(cap), *out = malloc(cap);
    if (!in || !out) {
        free(in), free(out);
        lcs_fail_nomem(err);
        return NULL;
    }
    snprintf(in, cap, "%s%s%s", path[0] == '/' ? "" : LCS_FS_WORKSPACE, path[0] == '/' ? "" : "/",
             path);
    /* Lexical clean: "" and "." vanish, ".." pops one component and never
     * goes above "/" (the same clamp RESOLVE_IN_ROOT applies). */
    size_t o = 0;
    for (char *s = in; *s;) {
        while (*s == '/')
            s++;
        char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* skip */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the slash before the popped component */
        } else {
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(in);
    return out;
}

/* Split a clean path into its parent (a new string) and last name (points
 * into p). p must not be "/". */
static char *split_parent(const char *p, const char **name)
{
    const char *slash = strrchr(p, '/');
    *name = slash + 1;
    size_t n = slash == p ? 1 : (size_t)(slash - p);
    char *parent = strndup(p, n);
    return parent;
}

/* Explain why the parent directory of `p` cannot be opened. For ENOENT,
 * name the first missing directory: the caller creates it with mkdir. */
static int fail_parent(lcs_error *err, int root_fd, int errnum, const char *op, const char *p,
                       const char *parent)
{
    if (errnum != ENOENT)
        return lcs_fs_fail_resolve(err, errnum, op, p);
    char *pre = strcmp(parent, "/") ? strdup(parent) : NULL;
    if (!pre)
        return strcmp(parent, "/") ? lcs_fail_nomem(err) : lcs_fs_fail_resolve(err, errnum, op, p);
    /* Probe "/a", "/a/b", ... in turn; the first that does not resolve is
     * the one to report (each probe is itself confined to the root). */
    for (char *s = pre + 1;; s++) {
        char c = *s;
        if (c == '/' || c == '\0') {
            *s = '\0';
            int fd = lcs_fs_open_in_root(root_fd, pre, O_PATH | O_DIRECTORY);
            if (fd < 0 && errno == ENOENT) {
                lcs_fail(err, LCS_E_NOT_FOUND,
                         "cannot %s %s: directory %s does not exist (create it first with mkdir)",
                         op, p, pre);
                free(pre);
                return -1;
            }
            if (fd >= 0)
                close(fd);
            *s = c;
        }
        if (c == '\0')
            break;
    }
    free(pre);
    return lcs_fail(err, LCS_E_NOT_FOUND, "cannot %s %s: directory %s does not exist", op, p,
                    parent);
}

/* Resolve the parent directory of p as an O_PATH fd. Everything after this
 * works on (dirfd, name), where name is a single component: the kernel
 * never gets to resolve a symlink in it unless we ask. */
static int open_parent(int root_fd, const char *p, const char *op, const char **name,
                       lcs_error *err)
{
    if (strcmp(p, "/") == 0)
        return lcs_fail(err, LCS_E_INVALID, "cannot %s /: it is the sandbox's root directory", op);
    char *parent = split_parent(p, name);
    if (!parent)
        return lcs_fail_nomem(err);
    int dfd = lcs_fs_open_in_root(root_fd, parent, O_PATH | O_DIRECTORY);
    if (dfd < 0)
        fail_parent(err, root_fd, errno, op, p, parent);
    free(parent);
    return dfd;
}

int lcs_fs_open_regular_at(int dirfd, const char *name, bool beneath_only, struct stat *st)
{
    /* O_PATH opens nothing for I/O: a fifo cannot block us, a device's open
     * handler does not run. The type is checked on this fd. */
    int pfd = beneath_only ? open_step(dirfd, name, O_PATH | O_NOFOLLOW)
                           : lcs_fs_open_in_root(dirfd, name, O_PATH);
    if (pfd < 0)
        return -1;
    if (fstat(pfd, st) < 0) {
        int e = errno;
        close(pfd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(pfd);
        return -2; /* the caller reports the type from *st */
    }
    /* Reopen the very inode the O_PATH fd pins, through our own fd table:
     * no second resolution of the sandbox path, so a rename race cannot
     * substitute a fifo or a device between the check and the open. */
    char buf[64];
    snprintf(buf, sizeof buf, "/proc/self/fd/%d", pfd);
    int fd = open(buf, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        /* No /proc on the host: resolve again, confined as before, and
         * insist on the same inode. O_NONBLOCK keeps a swapped-in fifo
         * from blocking; the sandbox's mounts are nodev. */
        fd = beneath_only ? open_step(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
                          : lcs_fs_open_in_root(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    }
    int e = errno;
    close(pfd);
    if (fd < 0) {
        errno = e;
        return -1;
    }
    struct stat st2;
    if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino ||
        !S_ISREG(st2.st_mode)) {
        close(fd);
        errno = ESTALE;
        return -1;
    }
    *st = st2;
    return fd;
}

/* ----------------------------------------------------------------- copy */

typedef struct src {
    int fd;           /* >= 0: read from here */
    const char *data; /* else: this buffer */
    size_t len, off;
} src;

static ssize_t src_read(src *s, char *buf, size_t n)
{
    if (s->fd >= 0) {
        for (;;) {
            ssize_t r = read(s->fd, buf, n);
            if (r >= 0 || errno != EINTR)
                return r;
        }
    }
    size_t k = s->len - s->off < n ? s->len - s->off : n;
    memcpy(buf, s->data + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

/* In-kernel copy of up to len bytes from in (at *in_off, or its file
 * offset when NULL) to out at its file offset: copy_file_range where both
 * files allow it, else sendfile (any file to any file or socket). No page
 * passes through our memory, which halves the work of a large copy.
 * Returns bytes copied (0 at the end of in), or -1 with errno; ENOSYS,
 * EXDEV, EINVAL or EOPNOTSUPP before any byte means: copy it yourself. */
static ssize_t kernel_copy(int in, off_t *in_off, int out, size_t len)
{
    ssize_t r = copy_file_range(in, in_off, out, NULL, len, 0);
    if (r >= 0 || (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
                   errno != EBADF))
        return r;
    return sendfile(out, in, in_off, len);
}

static bool kernel_copy_declined(void)
{
    return errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
           errno == EBADF;
}

/* Copy src into fd. On failure *which says whose fault ('r' or 'w'). */
static int copy_src(src *s, int fd, char *which)
{
    if (s->fd < 0) {
        *which = 'w';
        return lcs_write_all(fd, s->data, s->len);
    }
    /* A regular source goes through the kernel; a pipe (or a source the
     * kernel will not copy from) is read below, from where it stopped. */
    struct stat sst;
    if (fstat(s->fd, &sst) == 0 && S_ISREG(sst.st_mode)) {
        for (;;) {
            ssize_t r = kernel_copy(s->fd, NULL, fd, 1u << 30);
            if (r == 0)
                return 0;
            if (r > 0)
                continue;
            if (errno == EINTR)
                continue;
            if (kernel_copy_declined())
                break;
            /* the kernel does not say which side failed: these are the
             * destination's */
            *which = errno == ENOSPC || errno == EDQUOT || errno == EFBIG || errno == EPIPE ||
                             errno == EROFS || errno == EPERM
                         ? 'w'
                         : 'r';
            return -1;
        }
    }
    char *buf = malloc(COPY_CHUNK);
    if (!buf) {
        *which = 'm';
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t r = src_read(s, buf, COPY_CHUNK);
        if (r == 0)
            break;
        if (r < 0) {
            *which = 'r';
            rc = -1;
            break;
        }
        if (lcs_write_all(fd, buf, (size_t)r) < 0) {
            *which = 'w';
            rc = -1;
            break;
        }
    }
    free(buf);
    return rc;
}

static int fail_copy(lcs_error *err, char which, const char *p)
{
    if (which == 'm')
        return lcs_fail_nomem(err);
    if (which == 'r')
        return lcs_fail_errno(err, "cannot write %s: reading the source failed", p);
    return lcs_fail_errno(err, "cannot write %s", p);
}

/* -------------------------------------------------------------- writing */

static mode_t file_mode(uint32_t mode, mode_t dflt)
{
    /* Permission bits only: the host never plants set-id files. */
    return mode ? (mode_t)(mode & 0777u) : dflt;
}

static int set_owner_mode(int fd, uid_t owner, gid_t group, mode_t mode)
{
    /* fchown/fchmod act on the fd we created: no path, no symlink. chown
     * first, since it may clear mode bits. */
    if ((owner != (uid_t)-1 || group != (gid_t)-1) && fchown(fd, owner, group) < 0)
        return -1;
    return fchmod(fd, mode);
}

/* Create a temporary file next to the destination. O_CREAT|O_EXCL never
 * follows or reuses anything planted under that name. */
static int create_temp(int dfd, char *name, size_t cap)
{
    for (int i = 0; i < 32; i++) {
        uint64_t r = 0;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
            r = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ ((uint64_t)i << 20) ^
                (uint64_t)(uintptr_t)name;
        snprintf(name, cap, ".lcs-write-%016llx", (unsigned long long)r);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static int replace_file(int dfd, const char *name, const char *p, src *s, mode_t mode, uid_t owner,
                        gid_t group, lcs_error *err)
{
    char tmp[64];
    int fd = create_temp(dfd, tmp, sizeof tmp);
    if (fd < 0)
        return lcs_fs_fail_resolve(err, errno, "write", p);
    char which = 0;
    int rc = -1;
    if (set_owner_mode(fd, owner, group, 0600) < 0)
        lcs_fail_errno(err, "cannot write %s: cannot give the new file to %d:%d", p, (int)owner,
                       (int)group);
    else if (copy_src(s, fd, &which) < 0)
        fail_copy(err, which, p);
    else if (fchmod(fd, mode) < 0)
        lcs_fail_errno(err, "cannot write %s: chmod", p);
    else
        rc = 0;
    if (close(fd) < 0 && rc == 0)
        rc = lcs_fail_errno(err, "cannot write %s", p);
    /* rename(2) replaces the directory entry `name` whatever it is (file,
     * symlink, hard link to anything): the old inode is never opened, so
     * nothing planted there is written through. It refuses to replace a
     * directory (EISDIR), which closes the race with the check above. The
     * sandbox may swap our temporary file meanwhile, but then it only
     * moves its own file within its own directory. */
    if (rc == 0 && renameat(dfd, tmp, dfd, name) < 0) {
        if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
            rc = lcs_fail(err, LCS_E_INVALID, "cannot write %s: it is a directory", p);
        else
            rc = lcs_fail_errno(err, "cannot write %s: rename into place", p);
    }
    if (rc < 0)
        unlinkat(dfd, tmp, 0);
    return rc;
}

static int append_file(int dfd, const char *name, const char *p, src *s, mode_t mode, uid_t owner,
                       gid_t group, lcs_error *err)
{
    /* New file: O_EXCL creates it or fails; nothing planted is reused. */
    int fd =
        openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool created = fd >= 0;
    if (fd >= 0 && set_owner_mode(fd, owner, group, mode) < 0) {
        lcs_fail_errno(err, "cannot write %s: cannot give the new file to %d:%d", p, (int)owner,
                       (int)group);
        close(fd);
        unlinkat(dfd, name, 0);
        return -1;
    }
    if (fd < 0 && errno == EEXIST) {
        /* Existing: O_NOFOLLOW refuses a symlink (ELOOP), O_NONBLOCK keeps
         * a fifo from blocking (ENXIO without a reader), O_NOCTTY a tty
         * from becoming ours. The type is then checked on the fd itself. */
        fd =
            openat(dfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && (errno == ELOOP || errno == ENXIO)) {
            struct stat st;
            if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return lcs_fail(err, LCS_E_INVALID,
                                "cannot append to %s: it is %s; only regular files are written", p,
                                lcs_fs_type_name(st.st_mode));
        }
    }
    if (fd < 0)
        return lcs_fs_fail_resolve(err, errno, "append to", p);
    struct stat st;
    if (!created) {
        if (fstat(fd, &st) < 0) {
            close(fd);
            return lcs_fail_errno(err, "cannot append to %s", p);
        }
        if (!S_ISREG(st.st_mode)) {
            close(fd);
            return lcs_fail(err, LCS_E_INVALID, "cannot append to %s: it is %s", p,
                            lcs_fs_type_name(st.st_mode));
        }
        /* Appending writes into an existing inode: refuse one that another
         * name shares, whatever that name is. */
        if (st.st_nlink > 1) {
            close(fd);
            return lcs_fail(err, LCS_E_DENIED,
                            "cannot append to %s: it has %lu hard links; write it without append "
                            "to replace it",
                            p, (unsigned long)st.st_nlink);
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    char which = 0;
    int rc = copy_src(s, fd, &which) < 0 ? fail_copy(err, which, p) : 0;
    if (close(fd) < 0 && rc == 0)
        rc = lcs_fail_errno(err, "cannot write %s", p);
    return rc;
}

static int write_common(int root_fd, const char *path, src *s, uint32_t mode, bool append,
                        uid_t owner, gid_t group, lcs_error *err)
{
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    const char *name;
    int rc = -1;
    int dfd = open_parent(root_fd, p, "write", &name, err);
    if (dfd >= 0) {
        /* A friendly refusal; rename's EISDIR is the race-free one. */
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
            rc = lcs_fail(err, LCS_E_INVALID, "cannot write %s: it is a directory", p);
        else if (append)
            rc = append_file(dfd, name, p, s, file_mode(mode, LCS_FS_DEFAULT_FILE_MODE), owner,
                             group, err);
        else
            rc = replace_file(dfd, name, p, s, file_mode(mode, LCS_FS_DEFAULT_FILE_MODE), owner,
                              group, err);
        close(dfd);
    }
    free(p);
    return rc;
}

int lcs_fs_write(int root_fd, const char *path, int src_fd, uint32_t mode, bool append, uid_t owner,
                 gid_t group, lcs_error *err)
{
    if (src_fd < 0)
        return lcs_fail(err, LCS_E_INVALID, "cannot write %s: no source file descriptor",
                        path ? path : "(null)");
    src s = {.fd = src_fd};
    return write_common(root_fd, path, &s, mode, append, owner, group, err);
}

int lcs_fs_write_data(int root_fd, const char *path, const void *data, size_t len, uint32_t mode,
                      bool append, uid_t owner, gid_t group, lcs_error *err)
{
    if (!data && len)
        return lcs_fail(err, LCS_E_INVALID, "cannot write %s: no data", path ? path : "(null)");
    src s = {.fd = -1, .data = data ? data : "", .len = len};
    return write_common(root_fd, path, &s, mode, append, owner, group, err);
}

/* -------------------------------------------------------------- reading */

/* Resolve p (following symlinks within the root) to an open regular file. */
static int open_for_read(int root_fd, const char *p, struct stat *st, lcs_error *err)
{
    int fd = lcs_fs_open_regular_at(root_fd, p, false, st);
    if (fd >= 0)
        return fd;
    if (fd == -2)
        return lcs_fail(err, LCS_E_INVALID, "cannot read %s: it is %s; only regular files are read",
                        p, lcs_fs_type_name(st->st_mode));
    if (errno == ESTALE)
        return lcs_fail(err, LCS_E_INVALID, "cannot read %s: it changed while being opened", p);
    return lcs_fs_fail_resolve(err, errno, "read", p);
}

/* ------------------------------------------------------- sparse copies */

int lcs_fs_next_data(int fd, uint64_t off, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (off >= size)
        return 0;
    /* SEEK_DATA/SEEK_HOLE ask the filesystem where data is: a hole costs
     * nothing to skip, however large the sandbox made it. A filesystem
     * without them (EINVAL) is read densely, as one data region. */
    off_t d = lseek(fd, (off_t)off, SEEK_DATA);
    if (d < 0 && errno == ENXIO)
        return 0; /* only a hole from here to the end */
    if (d < 0) {
        if (errno != EINVAL)
            return -1;
        *start = off, *end = size;
        return 1;
    }
    if ((uint64_t)d >= size)
        return 0;
    off_t h = lseek(fd, d, SEEK_HOLE);
    *start = (uint64_t)d;
    *end = h < 0 || (uint64_t)h > size ? size : (uint64_t)h;
    return 1;
}

static bool all_zero(const char *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/* Write n zero bytes (a hole) to a destination that cannot seek. */
static int write_zeros(int dst_fd, uint64_t n, char *buf)
{
    memset(buf, 0, COPY_CHUNK);
    while (n) {
        size_t k = n < COPY_CHUNK ? (size_t)n : COPY_CHUNK;
        if (lcs_write_all(dst_fd, buf, k) < 0)
            return -1;
        n -= k;
    }
    return 0;
}

static int over_budget(lcs_error *err, const char *p, uint64_t max, uint64_t size)
{
    return lcs_fail(err, LCS_E_DENIED,
                    "cannot copy %s out of the sandbox: it needs more than the copy budget of "
                    "%llu bytes written on the host (the file is %llu bytes); nothing was kept, "
                    "raise the budget to copy it",
                    p, (unsigned long long)max, (unsigned long long)size);
}

int lcs_fs_copy_sparse(int fd, const char *p, uint64_t size, int dst_fd, uint64_t max_bytes,
                       uint64_t *written, lcs_error *err)
{
    /* A regular file we can seek in gets holes for the sandbox's holes (and
     * for all-zero chunks): the host stores only what the sandbox stored.
     * A pipe gets the zeros, and they count against the budget. */
    struct stat dst;
    off_t base = fstat(dst_fd, &dst) == 0 && S_ISREG(dst.st_mode) ? lseek(dst_fd, 0, SEEK_CUR) : -1;
    /* Seeking over a hole leaves what the file had there: only safe past
     * its end (then the gap reads as zeros), and never with O_APPEND
     * (writes would ignore the offset). Otherwise the zeros are written. */
    int fl = fcntl(dst_fd, F_GETFL);
    bool seekable = base >= 0 && dst.st_size <= base && fl >= 0 && !(fl & O_APPEND);
    char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return lcs_fail_nomem(err);
    uint64_t used = written ? *written : 0, off = 0, start = 0, end = 0;
    int rc = 0, more;
    /* `size` is from the open: a file the sandbox keeps growing is copied
     * up to the size it had, never without end. */
    while (rc == 0 && (more = lcs_fs_next_data(fd, off, size, &start, &end)) != 0) {
        if (more < 0) {
            rc = lcs_fail_errno(err, "cannot read %s", p);
            break;
        }
        if (!seekable && start > off) {
            if (max_bytes && start - off > max_bytes - used)
                rc = over_budget(err, p, max_bytes, size);
            else if (write_zeros(dst_fd, start - off, buf) < 0)
                rc = lcs_fail_errno(err, "cannot read %s: writing the destination failed", p);
            used += start - off;
        }
        /* Into a regular file and within the budget: the region goes
         * through the kernel (kernel_copy), never through our memory. */
        bool kcopy = seekable && (!max_bytes || end - start <= max_bytes - used);
        off = start;
        while (kcopy && rc == 0 && off < end) {
            off_t in_off = (off_t)off;
            if (lseek(dst_fd, base + (off_t)off, SEEK_SET) < 0) {
                rc = lcs_fail_errno(err, "cannot read %s: seeking in the destination", p);
                break;
            }
            ssize_t r = kernel_copy(fd, &in_off, dst_fd, end - off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && kernel_copy_declined()) {
                kcopy = false; /* the rest of the region below */
                break;
            }
            if (r < 0) {
                rc = lcs_fail_errno(err, "cannot read %s: copying to the destination", p);
                break;
            }
            if (r == 0) { /* shrunk meanwhile: copy what there is */
                end = size = off;
                break;
            }
            used += (uint64_t)r;
            off += (uint64_t)r;
        }
        for (; rc == 0 && off < end;) {
            size_t want = end - off < COPY_CHUNK ? (size_t)(end - off) : COPY_CHUNK;
            ssize_t r = pread(fd, buf, want, (off_t)off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = lcs_fail_errno(err, "cannot read %s", p);
                break;
            }
            if (r == 0) { /* shrunk meanwhile: copy what there is */
                end = size = off;
                break;
            }
            if (seekable && all_zero(buf, (size_t)r)) {
                off += (uint64_t)r;
                continue;
            }
            if (max_bytes && (uint64_t)r > max_bytes - used) {
                rc = over_budget(err, p, max_bytes, size);
                break;
            }
            if (seekable && lseek(dst_fd, base + (off_t)off, SEEK_SET) < 0)
                rc = lcs_fail_errno(err, "cannot read %s: seeking in the destination", p);
            else if (lcs_write_all(dst_fd, buf, (size_t)r) < 0)
                rc = lcs_fail_errno(err, "cannot read %s: writing the destination failed", p);
            used += (uint64_t)r;
            off += (uint64_t)r;
        }
        off = end;
    }
    if (rc == 0 && off < size && !seekable) {
        if (max_bytes && size - off > max_bytes - used)
            rc = over_budget(err, p, max_bytes, size);
        else if (write_zeros(dst_fd, size - off, buf) < 0)
            rc = lcs_fail_errno(err, "cannot read %s: writing the destination failed", p);
        used += size - off;
    }
    /* A trailing hole: extend the file without writing it. */
    if (rc == 0 && seekable &&
        (ftruncate(dst_fd, base + (off_t)size) < 0 || lseek(dst_fd, base + (off_t)size, SEEK_SET) < 0))
        rc = lcs_fail_errno(err, "cannot read %s: extending the destination", p);
    free(buf);
    if (written)
        *written = used;
    return rc;
}

int lcs_fs_read_max(int root_fd, const char *path, int dst_fd, uint64_t max_bytes,
                    uint64_t *written, lcs_error *err)
{
    if (written)
        *written = 0;
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    struct stat st;
    int fd = open_for_read(root_fd, p, &st, err);
    int rc = -1;
    if (fd >= 0) {
        rc = lcs_fs_copy_sparse(fd, p, (uint64_t)st.st_size, dst_fd, max_bytes, written, err);
        close(fd);
    }
    free(p);
    return rc;
}

int lcs_fs_read(int root_fd, const char *path, int dst_fd, lcs_error *err)
{
    return lcs_fs_read_max(root_fd, path, dst_fd, 0, NULL, err);
}

int lcs_fs_read_data(int root_fd, const char *path, void **data, size_t *len, lcs_error *err)
{
    *data = NULL;
    *len = 0;
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    struct stat st;
    int fd = open_for_read(root_fd, p, &st, err);
    if (fd < 0) {
        free(p);
        return -1;
    }
    /* The size is only a hint: the sandbox may grow the file while we read,
     * so the limit is enforced on the bytes actually read. */
    size_t cap = st.st_size > 0 && (uint64_t)st.st_size < LCS_FS_READ_DATA_MAX
                     ? (size_t)st.st_size + 1
                     : 4096;
    size_t n = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : lcs_fail_nomem(err);
    while (rc == 0) {
        if (n + 1 >= cap) {
            if (cap > LCS_FS_READ_DATA_MAX) {
                rc = lcs_fail(err, LCS_E_INVALID,
                              "cannot read %s into memory: it is larger than %zu MiB; stream it to "
                              "a file instead",
                              p, LCS_FS_READ_DATA_MAX >> 20);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = lcs_fail_nomem(err);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = lcs_fail_errno(err, "cannot read %s", p);
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    free(p);
    if (rc < 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int lcs_fs_read_prefix(int root_fd, const char *path, size_t max, void **data, size_t *len,
                       uint64_t *size, lcs_error *err)
{
    *data = NULL;
    *len = 0;
    *size = 0;
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    struct stat st;
    int fd = open_for_read(root_fd, p, &st, err);
    if (fd < 0) {
        free(p);
        return -1;
    }
    /* Never more than max bytes of memory, whatever size the sandbox gave
     * the file (a sparse file of any size reads as its first max bytes). */
    uint64_t want = (uint64_t)st.st_size < max ? (uint64_t)st.st_size : max;
    char *buf = malloc((size_t)want + 1);
    size_t n = 0;
    int rc = buf ? 0 : lcs_fail_nomem(err);
    while (rc == 0 && n < want) {
        ssize_t r = pread(fd, buf + n, (size_t)want - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = lcs_fail_errno(err, "cannot read %s", p);
        else if (r == 0)
            break; /* shrunk meanwhile */
        else
            n += (size_t)r;
    }
    close(fd);
    free(p);
    if (rc < 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    *size = (uint64_t)st.st_size > n ? (uint64_t)st.st_size : n;
    return 0;
}

/* ---------------------------------------------------------- stat / list */

static int fill_info(lcs_file_info *f, const char *path, const struct stat *st, lcs_error *err)
{
    memset(f, 0, sizeof *f);
    const char *slash = strrchr(path, '/');
    f->path = strdup(path);
    f->name = strdup(slash && slash[1] ? slash + 1 : path);
    if (!f->path || !f->name) {
        lcs_file_info_clear(f);
        return lcs_fail_nomem(err);
    }
    f->is_directory = S_ISDIR(st->st_mode);
    f->is_symlink = S_ISLNK(st->st_mode);
    f->size = (uint64_t)st->st_size;
    f->mtime = (int64_t)st->st_mtime;
    f->mode = (uint32_t)(st->st_mode & 07777);
    return 0;
}

int lcs_fs_stat(int root_fd, const char *path, lcs_file_info *out, lcs_error *err)
{
    memset(out, 0, sizeof *out);
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    /* O_PATH|O_NOFOLLOW: a final symlink is opened as itself (lstat). */
    int fd = lcs_fs_open_in_root(root_fd, p, O_PATH | O_NOFOLLOW);
    int rc;
    struct stat st;
    if (fd < 0)
        rc = lcs_fs_fail_resolve(err, errno, "stat", p);
    else if (fstat(fd, &st) < 0)
        rc = lcs_fail_errno(err, "cannot stat %s", p);
    else
        rc = fill_info(out, p, &st, err);
    if (fd >= 0)
        close(fd);
    free(p);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The names in a directory, sorted. Reads through a dup so dirfd stays
 * ours. Bounded by the walk's entry limit. */
static int read_names(int dirfd, const char *path, size_t already, char ***out, size_t *count,
                      lcs_error *err)
{
    *out = NULL;
    *count = 0;
    int dup_fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0)
        return lcs_fail_errno(err, "cannot list %s", path);
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        close(dup_fd);
        return lcs_fail_errno(err, "cannot list %s", path);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (already + n >= LCS_FS_MAX_ENTRIES) {
            rc = lcs_fail(err, LCS_E_INVALID, "cannot walk %s: more than %u entries", path,
                          LCS_FS_MAX_ENTRIES);
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = lcs_fail_nomem(err);
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = lcs_fail_nomem(err);
            break;
        }
        n++;
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = lcs_fail_errno(err, "cannot list %s", path);
    closedir(d);
    if (rc < 0) {
        free_names(names, n);
        return -1;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    /* readdir racing renames may repeat a name; each name is one entry (an
     * archive must never hold "x" twice, once as a link, once as a dir). */
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u && strcmp(names[u - 1], names[i]) == 0)
            free(names[i]);
        else
            names[u++] = names[i];
    }
    n = u;
    *out = names;
    *count = n;
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (s)
        snprintf(s, a + b + 2, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
    return s;
}

int lcs_fs_walk_dir(lcs_fs_walk *w, int dirfd, const char *path, int depth, lcs_error *err)
{
    if (depth >= LCS_FS_MAX_DEPTH)
        return lcs_fail(err, LCS_E_INVALID, "cannot walk %s: nested deeper than %d directories",
                        path, LCS_FS_MAX_DEPTH);
    char **names;
    size_t n;
    if (read_names(dirfd, path, w->entries, &names, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        /* lstat relative to the directory fd: describes the entry itself. */
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed meanwhile */
            rc = lcs_fail_errno(err, "cannot stat an entry of %s", path);
            break;
        }
        char *child = join(path, names[i]);
        if (!child) {
            rc = lcs_fail_nomem(err);
            break;
        }
        if (++w->entries > LCS_FS_MAX_ENTRIES)
            rc = lcs_fail(err, LCS_E_INVALID, "cannot walk %s: more than %u entries", path,
                          LCS_FS_MAX_ENTRIES);
        else
            rc = w->fn(w->ctx, dirfd, names[i], child, &st, err);
        if (rc == 0 && w->recursive && S_ISDIR(st.st_mode)) {
            /* Descend by one name, no symlinks, no mount crossing: if the
             * sandbox swapped the directory for a symlink, or it is a mount
             * point, we simply do not descend. */
            int cfd = open_step(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (cfd >= 0) {
                rc = lcs_fs_walk_dir(w, cfd, child, depth + 1, err);
                close(cfd);
            } else if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR && errno != EXDEV) {
                rc = lcs_fs_fail_resolve(err, errno, "list", child);
            }
        }
        free(child);
    }
    free_names(names, n);
    return rc;
}

typedef struct list_ctx {
    lcs_file_list *out;
    size_t cap;
} list_ctx;

static int list_add(void *ctx, int dirfd, const char *name, const char *path, const struct stat *st,
                    lcs_error *err)
{
    (void)dirfd, (void)name;
    list_ctx *c = ctx;
    if (c->out->count == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        lcs_file_info *ni = realloc(c->out->items, nc * sizeof *ni);
        if (!ni)
            return lcs_fail_nomem(err);
        c->out->items = ni;
        c->cap = nc;
    }
    if (fill_info(&c->out->items[c->out->count], path, st, err) < 0)
        return -1;
    c->out->count++;
    return 0;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const lcs_file_info *)a)->path, ((const lcs_file_info *)b)->path);
}

int lcs_fs_list(int root_fd, const char *path, bool recursive, lcs_file_list *out, lcs_error *err)
{
    out->items = NULL;
    out->count = 0;
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    int dfd = lcs_fs_open_in_root(root_fd, p, O_RDONLY | O_DIRECTORY);
    int rc;
    if (dfd < 0) {
        rc = errno == ENOTDIR ? lcs_fail(err, LCS_E_INVALID, "cannot list %s: not a directory", p)
                              : lcs_fs_fail_resolve(err, errno, "list", p);
    } else {
        list_ctx c = {.out = out};
        lcs_fs_walk w = {.recursive = recursive, .fn = list_add, .ctx = &c};
        rc = lcs_fs_walk_dir(&w, dfd, p, 0, err);
        close(dfd);
    }
    free(p);
    if (rc < 0) {
        lcs_file_list_clear(out);
        return -1;
    }
    if (out->count)
        qsort(out->items, out->count, sizeof *out->items, cmp_info);
    return 0;
}

void lcs_file_info_clear(lcs_file_info *f)
{
    if (!f)
        return;
    free(f->path);
    free(f->name);
    memset(f, 0, sizeof *f);
}

void lcs_file_list_clear(lcs_file_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        lcs_file_info_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* ------------------------------------------------------------- removing */

typedef struct rm_state {
    size_t entries;
} rm_state;

/* Remove entry `name` of dirfd (a tree if it is a directory). Only fds and
 * single names are used: a directory swapped for a symlink mid-way is
 * unlinked as a link, never entered. Vanished entries are fine. */
static int remove_entry(rm_state *rs, int dirfd, const char *name, const char *path, int depth,
                        lcs_error *err)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : lcs_fail_errno(err, "cannot remove %s", path);
        if (!S_ISDIR(st.st_mode)) {
            if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
            if (errno == EISDIR)
                continue; /* became a directory: look again */
            return lcs_fail_errno(err, "cannot remove %s", path);
        }
        if (depth >= LCS_FS_REMOVE_MAX_DEPTH)
            return lcs_fail(err, LCS_E_INVALID,
                            "cannot remove %s: nested deeper than %d directories", path,
                            LCS_FS_REMOVE_MAX_DEPTH);
        int cfd = open_step(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (cfd < 0) {
            if (errno == ENOENT)
                return 0;
            if (errno == ELOOP || errno == ENOTDIR)
                continue; /* swapped for a link or a file: look again */
            if (errno == EXDEV)
                return lcs_fail(err, LCS_E_DENIED,
                                "cannot remove %s: it is a mount point inside the sandbox", path);
            return lcs_fs_fail_resolve(err, errno, "remove", path);
        }
        char **names;
        size_t n;
        int rc = read_names(cfd, path, rs->entries, &names, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char *child = join(path, names[i]);
            rc = child ? remove_entry(rs, cfd, names[i], child, depth + 1, err)
                       : lcs_fail_nomem(err);
            free(child);
            if (rc == 0 && ++rs->entries > LCS_FS_MAX_ENTRIES)
                rc = lcs_fail(err, LCS_E_INVALID, "cannot remove %s: more than %u entries", path,
                              LCS_FS_MAX_ENTRIES);
        }
        free_names(names, n);
        close(cfd);
        if (rc < 0)
            return -1;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR)
            return lcs_fail_errno(err, "cannot remove %s", path);
        /* The sandbox added entries meanwhile: another pass, bounded. */
    }
    return lcs_fail(err, LCS_E_IO, "cannot remove %s: it kept changing while being removed", path);
}

bool lcs_fs_holds_workspace(const char *p)
{
    size_t pl = strlen(p);
    return !strcmp(p, "/") || (!strncmp(LCS_FS_WORKSPACE, p, pl) &&
                               (LCS_FS_WORKSPACE[pl] == '/' || LCS_FS_WORKSPACE[pl] == 0));
}

/* The workspace by identity: a directory that is the workspace whatever name
 * reached it (a bind or a second path to it). Only where this view has the
 * workspace at its usual place. */
static bool is_workspace_dir(int root_fd, const struct stat *st)
{
    struct stat ws;
    static const char ws_rel[] = LCS_FS_WORKSPACE;
    return fstatat(root_fd, &ws_rel[1], &ws, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(ws.st_mode) && ws.st_dev == st->st_dev && ws.st_ino == st->st_ino;
}

int lcs_fs_remove(int root_fd, const char *path, bool recursive, lcs_error *err)
{
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    const char *name;
    int rc = -1;
    int dfd = open_parent(root_fd, p, "remove", &name, err);
    if (dfd >= 0) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = lcs_fs_fail_resolve(err, errno, "remove", p);
        } else if (S_ISDIR(st.st_mode) && is_workspace_dir(root_fd, &st)) {
            rc = lcs_fail(err, LCS_E_DENIED, "refusing to remove %s: it is the workspace itself",
                          p);
        } else if (!S_ISDIR(st.st_mode)) {
            /* unlinkat on a symlink removes the link, never its target. */
            rc = unlinkat(dfd, name, 0) == 0 ? 0 : lcs_fs_fail_resolve(err, errno, "remove", p);
        } else if (!recursive) {
            if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
                rc = 0;
            else if (errno == ENOTEMPTY || errno == EEXIST)
                rc = lcs_fail(
                    err, LCS_E_INVALID,
                    "cannot remove %s: the directory is not empty (remove it recursively)", p);
            else
                rc = lcs_fs_fail_resolve(err, errno, "remove", p);
        } else {
            rm_state rs = {0};
            rc = remove_entry(&rs, dfd, name, p, 0, err);
        }
        close(dfd);
    }
    free(p);
    return rc;
}

/* ------------------------------------------------------------- mkdir */

/* Give a directory we just made its owner and exact mode. It is opened by
 * one name, O_NOFOLLOW|O_DIRECTORY: if the sandbox swapped it, we touch at
 * worst another directory it could already rename, in a directory it can
 * write, and give it to the sandbox's own user. */
static int fix_new_dir(int dfd, const char *name, const char *path, mode_t mode, uid_t owner,
                       gid_t group, lcs_error *err)
{
    int fd = open_step(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0)
        return lcs_fs_fail_resolve(err, errno, "mkdir", path);
    int rc = set_owner_mode(fd, owner, group, mode) < 0
                 ? lcs_fail_errno(err, "cannot set owner %d:%d and mode %o of %s", (int)owner,
                                  (int)group, (unsigned)mode, path)
                 : 0;
    close(fd);
    return rc;
}

static int mkdir_one(int root_fd, const char *p, mode_t mode, uid_t owner, gid_t group,
                     lcs_error *err)
{
    const char *name;
    int dfd = open_parent(root_fd, p, "mkdir", &name, err);
    if (dfd < 0)
        return -1;
    int rc;
    /* mkdirat never follows a symlink planted at `name`: EEXIST. */
    if (mkdirat(dfd, name, 0700) < 0)
        rc = errno == EEXIST ? lcs_fail(err, LCS_E_EXISTS, "cannot mkdir %s: it already exists", p)
                             : lcs_fs_fail_resolve(err, errno, "mkdir", p);
    else
        rc = fix_new_dir(dfd, name, p, mode, owner, group, err);
    close(dfd);
    return rc;
}

static int mkdir_parents(int root_fd, const char *p, mode_t mode, uid_t owner, gid_t group,
                         lcs_error *err)
{
    char *pre = strdup(p);
    if (!pre)
        return lcs_fail_nomem(err);
    /* prev: the resolved directory of the previous prefix. Each prefix is
     * resolved from root_fd with RESOLVE_IN_ROOT (existing symlinks are
     * followed, but only within the root); a missing component is made
     * with mkdirat relative to prev, one name, never a path. */
    int prev = lcs_fs_open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
    int rc = prev < 0 ? lcs_fs_fail_resolve(err, errno, "mkdir", p) : 0;
    size_t len = strlen(pre);
    for (size_t i = 1; rc == 0 && i <= len; i++) {
        if (pre[i] != '/' && pre[i] != '\0')
            continue;
        char c = pre[i];
        pre[i] = '\0';
        const char *name = strrchr(pre, '/') + 1;
        int fd = lcs_fs_open_in_root(root_fd, pre, O_PATH | O_DIRECTORY);
        if (fd < 0 && errno == ENOENT) {
            if (mkdirat(prev, name, 0700) == 0)
                rc = fix_new_dir(prev, name, pre, mode, owner, group, err);
            else if (errno != EEXIST)
                rc = lcs_fs_fail_resolve(err, errno, "mkdir", pre);
            if (rc == 0) {
                fd = lcs_fs_open_in_root(root_fd, pre, O_PATH | O_DIRECTORY);
                if (fd < 0 && errno == ENOENT)
                    rc = lcs_fail(err, LCS_E_EXISTS,
                                  "cannot mkdir %s: %s exists and is not a directory (a dangling "
                                  "symbolic link?)",
                                  p, pre);
            }
        }
        if (rc == 0 && fd < 0) {
            if (errno == ENOTDIR)
                rc = lcs_fail(err, LCS_E_EXISTS,
                              "cannot mkdir %s: %s exists and is not a directory", p, pre);
            else
                rc = lcs_fs_fail_resolve(err, errno, "mkdir", pre);
        }
        if (fd >= 0) {
            close(prev);
            prev = fd;
        }
        pre[i] = c;
    }
    if (prev >= 0)
        close(prev);
    free(pre);
    return rc;
}

int lcs_fs_mkdir(int root_fd, const char *path, bool parents, uint32_t mode, uid_t owner,
                 gid_t group, lcs_error *err)
{
    char *p = lcs_fs_clean_path(path, err);
    if (!p)
        return -1;
    mode_t m = file_mode(mode, LCS_FS_DEFAULT_DIR_MODE);
    int rc;
    if (!parents)
        rc = mkdir_one(root_fd, p, m, owner, group, err);
    else
        rc = mkdir_parents(root_fd, p, m, owner, group, err);
    free(p);
    return rc;
}
