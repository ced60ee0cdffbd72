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
#include <sys/mman.h>
#include <unistd.h>

#define TAR_CHUNK (128u * 1024u)
/* A file's data map keeps at most this many regions; past them the rest
 * of the file is one region (stored densely, and counted in the budget). */
#define TAR_MAX_SEGS 65536
/* Holes are handed to libarchive in steps of at most this much (less if
 * the address space is limited). */
#define TAR_ZEROS ((size_t)1 << 40)

typedef struct tar_ctx {
    lcs_archive_lib al; /* loaded for this export only */
    struct archive *a;
    const char *top; /* the exported directory, clean sandbox-absolute */
    char *buf;
    const char *zeros; /* a long read-only run of zeros: what a hole "contains" */
    size_t zeros_len;  /* its length (mapped), or 0 when it is t->zbuf */
    char *zbuf;        /* the fallback: TAR_CHUNK zeros */
    uint64_t max_bytes, used; /* budget of file data in the stream (0: none) */
    struct seg *segs;
} tar_ctx;

/* A data region of a file; the rest is holes. */
typedef struct seg {
    uint64_t start, end;
} seg;

static int fail_archive(tar_ctx *t, lcs_error *err, const char *path)
{
    return lcs_fail(err, LCS_E_IO, "cannot export %s: writing the tar stream failed at %s: %s",
                    t->top, path, t->al.error_string(t->a) ? t->al.error_string(t->a) : "?");
}

static int over_budget(tar_ctx *t, lcs_error *err, const char *path)
{
    return lcs_fail(err, LCS_E_DENIED,
                    "cannot export %s: at %s the archive would carry more than the copy budget "
                    "of %llu bytes of file data; raise the budget to export it",
                    t->top, path, (unsigned long long)t->max_bytes);
}

/* The data regions of fd below size (SEEK_DATA/SEEK_HOLE). Returns the
 * count, or -1. */
static int map_file(tar_ctx *t, int fd, uint64_t size, const char *path, lcs_error *err)
{
    int n = 0;
    uint64_t off = 0, a, b;
    int more;
    while ((more = lcs_fs_next_data(fd, off, size, &a, &b)) == 1) {
        if (n == TAR_MAX_SEGS - 1)
            b = size; /* too fragmented: the rest as one region */
        t->segs[n++] = (seg){a, b};
        if (b >= size)
            break;
        off = b;
    }
    if (more < 0)
        return lcs_fail_errno(err, "cannot export %s: mapping %s", t->top, path);
    return n;
}

/* Feed one member's content: holes as zeros that the pax writer skips
 * (the sparse map in the header says where they are; the zeros come from
 * a read-only anonymous mapping, so even a hole of terabytes costs neither
 * memory nor time), data regions read with pread. If the sandbox shrinks
 * the file meanwhile, the missing data is zeros; the stream stays
 * well-formed and exactly as the header says. */
static int copy_data(tar_ctx *t, int fd, const seg *sg, int n, uint64_t size, const char *path,
                     lcs_error *err)
{
    uint64_t pos = 0;
    for (int i = 0; i <= n; i++) {
        uint64_t hole_end = i < n ? sg[i].start : size;
        size_t step = t->zeros_len ? t->zeros_len : TAR_CHUNK;
        while (pos < hole_end) {
            size_t k = hole_end - pos < step ? (size_t)(hole_end - pos) : step;
            if (t->al.write_data(t->a, t->zeros, k) < 0)
                return fail_archive(t, err, path);
            pos += k;
        }
        if (i == n)
            break;
        while (pos < sg[i].end) {
            size_t want = sg[i].end - pos < TAR_CHUNK ? (size_t)(sg[i].end - pos) : TAR_CHUNK;
            ssize_t r = pread(fd, t->buf, want, (off_t)pos);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return lcs_fail_errno(err, "cannot export %s: reading %s", t->top, path);
            const char *src = r ? t->buf : t->zeros;
            size_t k = r ? (size_t)r : want;
            if (t->al.write_data(t->a, src, k) < 0)
                return fail_archive(t, err, path);
            pos += k;
        }
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
    int rc = 0, n = 0;
    uint64_t size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    if (fd >= 0 && size > 0) {
        /* A file with holes becomes a sparse member (GNU sparse 1.0 in
         * pax): the archive carries only the data regions. */
        n = map_file(t, fd, size, path, err);
        if (n < 0)
            rc = -1;
        uint64_t data = 0;
        for (int i = 0; i < n; i++)
            data += t->segs[i].end - t->segs[i].start;
        if (rc == 0 && t->max_bytes && data > t->max_bytes - t->used)
            rc = over_budget(t, err, path);
        t->used += data;
        bool dense = n == 1 && t->segs[0].start == 0 && t->segs[0].end == size;
        if (rc == 0 && !dense) {
            for (int i = 0; i < n; i++)
                t->al.entry_sparse_add_entry(e, (la_int64_t)t->segs[i].start,
                                             (la_int64_t)(t->segs[i].end - t->segs[i].start));
            /* Only holes: one empty region at the end marks it sparse. */
            if (n == 0)
                t->al.entry_sparse_add_entry(e, (la_int64_t)size, 0);
        }
    }
    if (rc == 0 && t->al.write_header(t->a, e) < ARCHIVE_WARN)
        rc = fail_archive(t, err, path);
    else if (rc == 0 && fd >= 0)
        rc = copy_data(t, fd, t->segs, n, size, path, err);
    if (rc == 0 && t->al.write_finish_entry(t->a) < ARCHIVE_WARN)
        rc = fail_archive(t, err, path);
    t->al.entry_free(e);
    if (fd >= 0)
        close(fd);
    return rc;
}

int lcs_fs_export_tar(int root_fd, const char *path, int tar_fd, lcs_error *err)
{
    return lcs_fs_export_tar_max(root_fd, path, tar_fd, 0, err);
}

int lcs_fs_export_tar_max(int root_fd, const char *path, int tar_fd, uint64_t max_bytes,
                          lcs_error *err)
{
    if (lcs_archive_use_helper())
        return lcs_archive_helper("export", path ? path : LCS_FS_WORKSPACE, max_bytes, -1, tar_fd,
                                  root_fd, err);
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
    tar_ctx t = {.top = top, .max_bytes = max_bytes};
    if (lcs_archive_open(&t.al, err) < 0) {
        lcs_error_prefix(err, "cannot export %s: ", top);
        close(dfd);
        free(top);
        return -1;
    }
    t.a = t.al.write_new();
    t.buf = malloc(TAR_CHUNK);
    t.segs = malloc(TAR_MAX_SEGS * sizeof *t.segs);
    /* Never written, never touched: reads see the shared zero page. With a
     * limited address space, shorter runs (1 GiB), else a small buffer. */
    for (size_t len = TAR_ZEROS; len >= ((size_t)1 << 30) && !t.zeros; len >>= 10) {
        void *z = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (z != MAP_FAILED) {
            t.zeros = z;
            t.zeros_len = len;
        }
    }
    if (!t.zeros && (t.zbuf = calloc(1, TAR_CHUNK)))
        t.zeros = t.zbuf;
    int rc = 0;
    if (!t.a || !t.buf || !t.segs || !t.zeros)
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
    free(t.segs);
    if (t.zeros_len)
        munmap((void *)t.zeros, t.zeros_len);
    free(t.zbuf);
    close(dfd);
    free(top);
    return rc;
}

/* Unpack a tar stream (our own export) into dir, refusing anything that
 * could land outside it. */
int lcs_tar_extract(int fd, const char *dir, lcs_error *err)
{
    return lcs_tar_extract_max(fd, dir, 0, err);
}

int lcs_tar_extract_max(int fd, const char *dir, uint64_t max_bytes, lcs_error *err)
{
    if (lcs_archive_use_helper())
        return lcs_archive_helper("extract", dir, max_bytes, fd, -1, -1, err);
    uint64_t used = 0;
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
    /* EXTRACT_SPARSE: runs of zeros in dense data become holes too. */
    al.write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                     ARCHIVE_EXTRACT_SPARSE |
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
        /* Data blocks come with their offsets: write_data_block seeks over
         * the holes of a sparse member, and finishing the entry extends
         * the file to its size without writing the trailing hole. */
        while ((dr = al.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
            if (max_bytes && size > max_bytes - used) {
                lcs_fail(err, LCS_E_DENIED,
                         "keep the workspace: %s would take more than the copy budget of %llu "
                         "bytes on the host",
                         name, (unsigned long long)max_bytes);
                goto out;
            }
            used += size;
            if (al.write_data_block(w, buf, size, off) != ARCHIVE_OK) {
                lcs_fail(err, LCS_E_IO, "keep the workspace: %s", al.error_string(w));
                goto out;
            }
        }
        if (dr != ARCHIVE_EOF) {
            lcs_fail(err, LCS_E_IO, "read the workspace archive: %s", al.error_string(a));
            goto out;
        }
        if (al.write_finish_entry(w) < ARCHIVE_WARN) {
            lcs_fail(err, LCS_E_IO, "keep the workspace: %s", al.error_string(w));
            goto out;
        }
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
