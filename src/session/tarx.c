/*
 * tarx.c - export a directory tree of a sandbox as a pax tar stream, and
 * unpack such a stream into a host directory (keeping a workspace).
 *
 * The walk is fsops.c's (one name at a time below directory fds, no
 * symlink followed, no mount crossed); libarchive only formats headers and
 * never touches the filesystem itself: we hand it metadata from fstatat and
 * file contents from fds we opened. Member names are relative to the
 * exported directory, so extracting never writes outside the target
 * directory on account of an absolute name.
 */
#include "session/fsops.h"
#include "util/archive_dl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAR_CHUNK (128u * 1024u)

typedef struct tar_ctx {
    lcs_archive_lib al; /* loaded for this export only */
    struct archive *a;
    const char *top; /* the exported directory, clean sandbox-absolute */
    char *buf;
} tar_ctx;

static int fail_archive(tar_ctx *t, lcs_error *err, const char *path)
{
    return lcs_fail(err, LCS_E_IO, "cannot export %s: writing the tar stream failed at %s: %s",
                    t->top, path, t->al.error_string(t->a) ? t->al.error_string(t->a) : "?");
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
        if (t->al.write_data(t->a, t->buf, (size_t)r) < 0)
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
    struct archive_entry *e = t->al.entry_new();
    if (!e) {
        if (fd >= 0)
            close(fd);
        return lcs_fail_nomem(err);
    }
    t->al.entry_copy_stat(e, &st);
    /* No set-id bits leave the sandbox. */
    t->al.entry_set_perm(e, st.st_mode & 0777 & ~(mode_t)(S_ISUID | S_ISGID));
    t->al.entry_set_pathname(e, rel);
    t->al.entry_set_nlink(e, 1); /* hard links are exported as copies */
    if (S_ISLNK(st.st_mode))
        t->al.entry_set_symlink(e, target);
    if (!S_ISREG(st.st_mode))
        t->al.entry_set_size(e, 0);
    int rc = 0;
    if (t->al.write_header(t->a, e) < ARCHIVE_WARN)
        rc = fail_archive(t, err, path);
    else if (fd >= 0)
        rc = copy_data(t, fd, (int64_t)st.st_size, path, err);
    if (rc == 0 && t->al.write_finish_entry(t->a) < ARCHIVE_WARN)
        rc = fail_archive(t, err, path);
    t->al.entry_free(e);
    if (fd >= 0)
        close(fd);
    return rc;
}

int lcs_fs_export_tar(int root_fd, const char *path, int tar_fd, lcs_error *err)
{
    if (lcs_archive_use_helper())
        return lcs_archive_helper("export", path ? path : LCS_FS_WORKSPACE, -1, tar_fd, root_fd,
                                  err);
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
    tar_ctx t = {.top = top};
    if (lcs_archive_open(&t.al, err) < 0) {
        lcs_error_prefix(err, "cannot export %s: ", top);
        close(dfd);
        free(top);
        return -1;
    }
    t.a = t.al.write_new();
    t.buf = malloc(TAR_CHUNK);
    int rc = 0;
    if (!t.a || !t.buf)
        rc = lcs_fail_nomem(err);
    else if (t.al.write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
             t.al.write_open_fd(t.a, tar_fd) != ARCHIVE_OK)
        rc = fail_archive(&t, err, top);
    if (rc == 0) {
        lcs_fs_walk w = {.recursive = true, .fn = tar_add, .ctx = &t};
        rc = lcs_fs_walk_dir(&w, dfd, top, 0, err);
    }
    /* close writes the end-of-archive blocks; it never closes tar_fd. */
    if (rc == 0 && t.al.write_close(t.a) != ARCHIVE_OK)
        rc = fail_archive(&t, err, top);
    if (t.a)
        t.al.write_free(t.a);
    lcs_archive_close(&t.al);
    free(t.buf);
    close(dfd);
    free(top);
    return rc;
}

/* Unpack a tar stream (our own export) into dir, refusing anything that
 * could land outside it. */
int lcs_tar_extract(int fd, const char *dir, lcs_error *err)
{
    if (lcs_archive_use_helper())
        return lcs_archive_helper("extract", dir, fd, -1, -1, err);
    lcs_archive_lib al;
    if (lcs_archive_open(&al, err) < 0)
        return -1;
    struct archive *a = al.read_new();
    struct archive *w = al.write_disk_new();
    int rc = -1;
    if (!a || !w) {
        lcs_fail_nomem(err);
        goto out;
    }
    al.read_support_format_tar(a);
    /* Member names are checked here (relative, no ".."), then prefixed
     * with dir; libarchive refuses to write through symlinks. */
    al.write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                     ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    if (al.read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK) {
        lcs_fail(err, LCS_E_IO, "read the workspace archive: %s", al.error_string(a));
        goto out;
    }
    struct archive_entry *e;
    int r;
    while ((r = al.read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = al.entry_pathname(e);
        if (!name || name[0] == '/' || !strcmp(name, "..") || !strncmp(name, "../", 3) ||
            strstr(name, "/../") ||
            (strlen(name) >= 3 && !strcmp(name + strlen(name) - 3, "/.."))) {
            lcs_fail(err, LCS_E_INVALID, "workspace archive member %s escapes", name ? name : "?");
            goto out;
        }
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        al.entry_set_pathname(e, p);
        if (al.write_header(w, e) != ARCHIVE_OK) {
            lcs_fail(err, LCS_E_IO, "keep the workspace: %s", al.error_string(w));
            goto out;
        }
        const void *buf;
        size_t size;
        la_int64_t off;
        int dr;
        while ((dr = al.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
            if (al.write_data_block(w, buf, size, off) != ARCHIVE_OK) {
                lcs_fail(err, LCS_E_IO, "keep the workspace: %s", al.error_string(w));
                goto out;
            }
        al.write_finish_entry(w);
    }
    if (r != ARCHIVE_EOF) {
        lcs_fail(err, LCS_E_IO, "read the workspace archive: %s", al.error_string(a));
        goto out;
    }
    rc = 0;
out:
    if (a)
        al.read_free(a);
    if (w)
        al.write_free(w);
    lcs_archive_close(&al);
    return rc;
}
