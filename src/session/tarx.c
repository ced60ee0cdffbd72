/*
 * tarx.c - export a directory tree of a sandbox as a pax tar stream.
 *
 * The walk is fsops.c's (one name at a time below directory fds, no
 * symlink followed, no mount crossed); libarchive only formats headers and
 * never touches the filesystem itself: we hand it metadata from fstatat and
 * file contents from fds we opened. Member names are relative to the
 * exported directory, so extracting never writes outside the target
 * directory on account of an absolute name.
 */
#include "session/fsops.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAR_CHUNK (128u * 1024u)

typedef struct tar_ctx {
    struct archive *a;
    const char *top; /* the exported directory, clean sandbox-absolute */
    char *buf;
} tar_ctx;

static int fail_archive(tar_ctx *t, lcs_error *err, const char *path)
{
    return lcs_fail(err, LCS_E_IO, "cannot export %s: writing the tar stream failed at %s: %s",
                    t->top, path, archive_error_string(t->a) ? archive_error_string(t->a) : "?");
}

/* Copy exactly the size written in the header. If the sandbox shrinks the
 * file meanwhile, libarchive pads the member with zeros; if it grows it,
 * the excess is not read. Either way the stream stays well-formed. */
static int copy_data(tar_ctx *t, int fd, int64_t size, const char *path, lcs_error *err)
{
    while (size > 0) {
        size_t want = size < (int64_t)TAR_CHUNK ? (size_t)size : TAR_CHUNK;
        ssize_t r = read(fd, t->buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return lcs_fail_errno(err, "cannot export %s: reading %s", t->top, path);
        if (r == 0)
            break;
        if (archive_write_data(t->a, t->buf, (size_t)r) < 0)
            return fail_archive(t, err, path);
        size -= r;
    }
    return 0;
}

static int tar_add(void *ctx, int dirfd, const char *name, const char *path, const struct stat *lst,
                   lcs_error *err)
{
    tar_ctx *t = ctx;
    /* Devices, fifos and sockets are never opened, and not exported. */
    if (!S_ISREG(lst->st_mode) && !S_ISDIR(lst->st_mode) && !S_ISLNK(lst->st_mode))
        return 0;
    const char *rel = path + strlen(t->top) + (strcmp(t->top, "/") ? 1 : 0);
    struct stat st = *lst;
    int fd = -1;
    char target[PATH_MAX];
    if (S_ISREG(st.st_mode)) {
        /* Opened beneath dirfd, O_PATH first: a file swapped for a symlink,
         * a fifo or a device after the walk's lstat is skipped, not read. */
        fd = lcs_fs_open_regular_at(dirfd, name, true, &st);
        if (fd < 0)
            return 0;
    } else if (S_ISLNK(st.st_mode)) {
        /* The link's own text, stored as is: never resolved here. */
        ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
        if (n < 0)
            return errno == ENOENT || errno == EINVAL
                       ? 0
                       : lcs_fail_errno(err, "cannot export %s: readlink %s", t->top, path);
        target[n] = '\0';
    }
    struct archive_entry *e = archive_entry_new();
    if (!e) {
        if (fd >= 0)
            close(fd);
        return lcs_fail_nomem(err);
    }
    archive_entry_copy_stat(e, &st);
    /* No set-id bits leave the sandbox. */
    archive_entry_set_perm(e, st.st_mode & 0777 & ~(mode_t)(S_ISUID | S_ISGID));
    archive_entry_set_pathname(e, rel);
    archive_entry_set_nlink(e, 1); /* hard links are exported as copies */
    if (S_ISLNK(st.st_mode))
        archive_entry_set_symlink(e, target);
    if (!S_ISREG(st.st_mode))
        archive_entry_set_size(e, 0);
    int rc = 0;
    if (archive_write_header(t->a, e) < ARCHIVE_WARN)
        rc = fail_archive(t, err, path);
    else if (fd >= 0)
        rc = copy_data(t, fd, (int64_t)st.st_size, path, err);
    if (rc == 0 && archive_write_finish_entry(t->a) < ARCHIVE_WARN)
        rc = fail_archive(t, err, path);
    archive_entry_free(e);
    if (fd >= 0)
        close(fd);
    return rc;
}

int lcs_fs_export_tar(int root_fd, const char *path, int tar_fd, lcs_error *err)
{
    char *top = lcs_fs_clean_path(path ? path : LCS_FS_WORKSPACE, err);
    if (!top)
        return -1;
    /* The directory named is resolved within the root (a symlink to a
     * directory is followed, confined); nothing below it is followed. */
    int dfd = lcs_fs_open_in_root(root_fd, top, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        int rc = errno == ENOTDIR
                     ? lcs_fail(err, LCS_E_INVALID, "cannot export %s: not a directory", top)
                     : lcs_fs_fail_resolve(err, errno, "export", top);
        free(top);
        return rc;
    }
    tar_ctx t = {.top = top, .a = archive_write_new(), .buf = malloc(TAR_CHUNK)};
    int rc = 0;
    if (!t.a || !t.buf)
        rc = lcs_fail_nomem(err);
    else if (archive_write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
             archive_write_open_fd(t.a, tar_fd) != ARCHIVE_OK)
        rc = fail_archive(&t, err, top);
    if (rc == 0) {
        lcs_fs_walk w = {.recursive = true, .fn = tar_add, .ctx = &t};
        rc = lcs_fs_walk_dir(&w, dfd, top, 0, err);
    }
    /* close writes the end-of-archive blocks; it never closes tar_fd. */
    if (rc == 0 && archive_write_close(t.a) != ARCHIVE_OK)
        rc = fail_archive(&t, err, top);
    if (t.a)
        archive_write_free(t.a);
    free(t.buf);
    close(dfd);
    free(top);
    return rc;
}
