/*
 * layer.c - apply one OCI image layer to a root filesystem being built.
 *
 * A layer is a tar (gzip, zstd or plain) of changes: entries to create or
 * replace, and whiteouts: ".wh.NAME" deletes NAME, ".wh..wh..opq" deletes
 * what the lower layers put in its directory. A layer comes from anyone,
 * so every entry is treated as hostile:
 *   - names are cleaned; one that climbs out with ".." fails the import;
 *   - an entry's directory is resolved inside the root (openat2 with
 *     RESOLVE_IN_ROOT): a symlink planted by an earlier entry ("etc -> /")
 *     resolves within the root, never to the host. The entry is then
 *     written through the canonical host path of that resolved directory,
 *     and libarchive's SECURE_SYMLINKS refuses any symlink still on the
 *     way, so nothing is written outside the root even if the tree moved;
 *   - a hard link's target is resolved the same way;
 *   - set-uid and set-gid bits are cleared; extended attributes (file
 *     capabilities among them) are not extracted; device nodes, fifos and
 *     sockets are not created;
 *   - owners are shifted into the sandbox's host id range (an id outside
 *     0..65535 becomes nobody), so no file belongs to a host user.
 * Whiteouts apply to the lower layers only, so each layer is read twice:
 * its whiteouts first, then its entries.
 */
#include "session/layer.h"

#include "session/fsops.h"
#include "util/archive_dl.h"
#include "util/error.h"
#include "util/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WH ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* "./a//b/" -> "a/b" ("" for the root itself); -1 for a name with a ".."
 * component or one too long. */
static int clean_name(const char *in, char *out, size_t len)
{
    size_t o = 0;
    while (*in) {
        while (*in == '/')
            in++;
        const char *c = in;
        while (*in && *in != '/')
            in++;
        size_t n = (size_t)(in - c);
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return -1;
        if (o + n + 2 > len)
            return -1;
        if (o)
            out[o++] = '/';
        memcpy(out + o, c, n);
        o += n;
    }
    out[o] = 0;
    return 0;
}

/* Split a clean name into its directory (may be "") and last component. */
static const char *split(char *clean)
{
    char *s = strrchr(clean, '/');
    if (!s)
        return NULL;
    *s = 0;
    return s + 1;
}

/* The directory dir of the root, resolved inside it: an O_PATH fd, or -1
 * (errno). create: make it (and its parents) when missing, owned by the
 * root's owner. */
static int open_dir(int root_fd, const char *dir, uint32_t id_base, bool create, lcs_error *err)
{
    int fd = lcs_fs_open_in_root(root_fd, dir[0] ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT || !create) {
        if (fd < 0 && err)
            lcs_fail(err, LCS_E_INVALID, "layer entry directory /%s: %s", dir, strerror(errno));
        return fd;
    }
    char abs[PATH_MAX + 2];
    snprintf(abs, sizeof abs, "/%s", dir);
    if (lcs_fs_mkdir(root_fd, abs, true, 0755, id_base, id_base, err) < 0)
        return -1;
    fd = lcs_fs_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        lcs_fail(err, LCS_E_IO, "layer entry directory /%s: %s", dir, strerror(errno));
    return fd;
}

/* The host path of what fd names (canonical: no symlink in it). */
static int host_path(int fd, char *out, size_t len)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, out, len - 1);
    if (n < 0 || (size_t)n >= len - 1)
        return -1;
    out[n] = 0;
    return 0;
}

/* Apply one whiteout entry (name clean, last component starting ".wh."). */
static int whiteout(int root_fd, char *name, lcs_layer_stats *st, lcs_error *err)
{
    const char *base = split(name);
    const char *dir = base ? name : "";
    if (!base)
        base = name;
    int dfd = open_dir(root_fd, dir, 0, false, NULL);
    if (dfd < 0)
        return 0; /* nothing below to delete */
    int rc = 0;
    if (!strcmp(base, WH_OPAQUE)) {
        int rfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;
        if (!d) {
            if (rfd >= 0)
                close(rfd);
            rc = lcs_fail(err, LCS_E_IO, "opaque whiteout in /%s: %s", dir, strerror(errno));
        }
        /* names first, removal after: no removal while the listing runs */
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char **nn = realloc(names, (n + 1) * sizeof *nn);
            if (!nn) {
                rc = lcs_fail_nomem(err);
                break;
            }
            names = nn;
            if (!(names[n] = strdup(de->d_name))) {
                rc = lcs_fail_nomem(err);
                break;
            }
            n++;
        }
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && lcs_rm_tree_at(dirfd(d), names[i]) < 0)
                rc = lcs_fail(err, LCS_E_IO, "opaque whiteout: cannot remove /%s/%s", dir,
                              names[i]);
            free(names[i]);
        }
        free(names);
        if (d)
            closedir(d);
    } else {
        const char *victim = base + strlen(WH);
        if (!victim[0] || !strcmp(victim, ".") || !strcmp(victim, ".."))
            rc = lcs_fail(err, LCS_E_INVALID, "layer whiteout /%s/%s names no entry", dir, base);
        else if (lcs_rm_tree_at(dfd, victim) < 0)
            rc = lcs_fail(err, LCS_E_IO, "whiteout: cannot remove /%s/%s", dir, victim);
    }
    close(dfd);
    if (rc == 0)
        st->removed++;
    return rc;
}

/* Where entry name (clean, not "") is to be written: the host path of its
 * directory resolved in the root, plus its last component (*base_out,
 * pointing into clean); and that directory's fd (caller closes). */
static int place(int root_fd, const char *clean, uint32_t id_base, char *out, size_t len,
                 int *dfd_out, const char **base_out, lcs_error *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", clean);
    const char *base = split(tmp);
    const char *dir = base ? tmp : "";
    if (!base)
        base = tmp;
    int dfd = open_dir(root_fd, dir, id_base, true, err);
    if (dfd < 0)
        return -1;
    char hp[PATH_MAX];
    if (host_path(dfd, hp, sizeof hp) < 0 ||
        (size_t)snprintf(out, len, "%s/%s", hp, base) >= len) {
        close(dfd);
        return lcs_fail(err, LCS_E_INVALID, "layer entry /%s: path too long", clean);
    }
    *dfd_out = dfd;
    *base_out = clean + (base - tmp);
    return 0;
}

static struct archive *open_layer(lcs_archive_lib *al, int fd, lcs_error *err)
{
    if (lseek(fd, 0, SEEK_SET) < 0) {
        lcs_fail_errno(err, "layer: rewind");
        return NULL;
    }
    struct archive *a = al->read_new();
    if (!a) {
        lcs_fail_nomem(err);
        return NULL;
    }
    al->read_support_filter_all(a);
    al->read_support_format_tar(a);
    if (al->read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK) {
        lcs_fail(err, LCS_E_PARSE, "not a tar archive: %s", al->error_string(a));
        al->read_free(a);
        return NULL;
    }
    return a;
}

/* ARCHIVE_WARN is not a failure: libarchive says so when a name is not
 * valid in the process's locale (the C locale of a helper), which changes
 * nothing for names handled as bytes. */
static int ok(int r)
{
    return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

static int is_whiteout(const char *clean)
{
    const char *b = strrchr(clean, '/');
    return !strncmp(b ? b + 1 : clean, WH, strlen(WH));
}

static int bad_name(const char *name, lcs_error *err)
{
    return lcs_fail(err, LCS_E_INVALID, "layer entry %s escapes the image root", name);
}

/* One pass over a layer: fn gets every entry with its cleaned name (not
 * "", in the walk's own buffer, which fn may edit); a name that escapes
 * the root stops the walk. */
typedef int (*entry_fn)(void *ctx, struct archive *a, struct archive_entry *e, char *clean,
                        lcs_error *err);

static int walk_layer(lcs_archive_lib *al, int fd, entry_fn fn, void *ctx, lcs_error *err)
{
    struct archive *a = open_layer(al, fd, err);
    if (!a)
        return -1;
    struct archive_entry *e;
    int r, rc = 0;
    char clean[PATH_MAX];
    while (rc == 0 && ok(r = al->read_next_header(a, &e))) {
        const char *name = al->entry_pathname(e);
        if (!name || clean_name(name, clean, sizeof clean) < 0)
            rc = bad_name(name ? name : "?", err);
        else if (clean[0])
            rc = fn(ctx, a, e, clean, err);
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = lcs_fail(err, LCS_E_PARSE, "%s", al->error_string(a));
    al->read_free(a);
    return rc;
}

typedef struct {
    lcs_archive_lib *al;
    struct archive *w; /* the second pass's disk writer */
    int root_fd;
    uint32_t id_base;
    lcs_layer_stats *st;
} pass_ctx;

/* The first pass: the layer's whiteouts. */
static int whiteout_entry(void *ctx, struct archive *a, struct archive_entry *e, char *clean,
                          lcs_error *err)
{
    (void)a;
    (void)e;
    pass_ctx *c = ctx;
    return is_whiteout(clean) ? whiteout(c->root_fd, clean, c->st, err) : 0;
}

static int copy_entry(lcs_archive_lib *al, struct archive *a, struct archive *w, const char *name,
                      lcs_error *err)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    int r;
    while (ok(r = al->read_data_block(a, &buf, &size, &off)))
        if (!ok((int)al->write_data_block(w, buf, size, off)))
            return lcs_fail(err, LCS_E_IO, "layer entry /%s: %s", name, al->error_string(w));
    if (r != ARCHIVE_EOF)
        return lcs_fail(err, LCS_E_PARSE, "layer entry /%s: %s", name, al->error_string(a));
    if (!ok(al->write_finish_entry(w)))
        return lcs_fail(err, LCS_E_IO, "layer entry /%s: %s", name, al->error_string(w));
    return 0;
}

static la_int64_t shift_id(la_int64_t id, uint32_t base, lcs_layer_stats *st)
{
    if (id < 0 || id > 65535) {
        st->ids_clamped++;
        id = 65534;
    }
    return (la_int64_t)base + id;
}

/* One entry of the second pass (clean: its cleaned name, not ""). */
static int put_entry(lcs_archive_lib *al, struct archive *a, struct archive *w, int root_fd,
                     struct archive_entry *e, const char *clean, uint32_t id_base,
                     lcs_layer_stats *st, lcs_error *err)
{
    unsigned type = al->entry_filetype(e);
    const char *link = al->entry_hardlink(e);
    if (!link && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
        st->skipped++; /* devices, fifos, sockets: the runtime makes /dev */
        return 0;
    }
    char path[PATH_MAX * 2];
    int dfd;
    const char *base;
    if (place(root_fd, clean, id_base, path, sizeof path, &dfd, &base, err) < 0)
        return -1;
    /* what the entry replaces: a directory by a non-directory, or the
     * reverse, is removed first (libarchive only unlinks files) */
    struct stat old;
    if (fstatat(dfd, base, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
        (S_ISDIR(old.st_mode) != (type == AE_IFDIR && !link)) && lcs_rm_tree_at(dfd, base) < 0) {
        close(dfd);
        return lcs_fail(err, LCS_E_IO, "layer entry /%s: cannot replace what is there", clean);
    }
    close(dfd);
    char target[PATH_MAX * 2];
    if (link) {
        char lc[PATH_MAX];
        int tfd;
        const char *tb;
        if (clean_name(link, lc, sizeof lc) < 0 || !lc[0])
            return bad_name(link, err);
        if (place(root_fd, lc, id_base, target, sizeof target, &tfd, &tb, err) < 0)
            return -1;
        struct stat ts;
        int there = fstatat(tfd, tb, &ts, AT_SYMLINK_NOFOLLOW) == 0;
        close(tfd);
        if (!there || S_ISDIR(ts.st_mode)) {
            st->skipped++; /* a link to something not created (a device) */
            return 0;
        }
        al->entry_set_hardlink(e, target);
    }
    al->entry_set_pathname(e, path);
    al->entry_set_uid(e, shift_id(al->entry_uid(e), id_base, st));
    al->entry_set_gid(e, shift_id(al->entry_gid(e), id_base, st));
    mode_t perm = al->entry_perm(e);
    if (perm & (S_ISUID | S_ISGID)) {
        if (!st->setid_cleared)
            snprintf(st->first_setid, sizeof st->first_setid, "/%.*s",
                     (int)sizeof st->first_setid - 2, clean);
        st->setid_cleared++;
        al->entry_set_perm(e, perm & ~(mode_t)(S_ISUID | S_ISGID));
    }
    if (!ok(al->write_header(w, e)))
        return lcs_fail(err, LCS_E_IO, "layer entry /%s: %s", clean, al->error_string(w));
    st->entries++;
    return copy_entry(al, a, w, clean, err);
}

/* The second pass: everything but the whiteouts. */
static int content_entry(void *ctx, struct archive *a, struct archive_entry *e, char *clean,
                         lcs_error *err)
{
    pass_ctx *c = ctx;
    if (is_whiteout(clean))
        return 0;
    return put_entry(c->al, a, c->w, c->root_fd, e, clean, c->id_base, c->st, err);
}

static int pass_entries(pass_ctx *c, int fd, lcs_error *err)
{
    lcs_archive_lib *al = c->al;
    struct archive *w = al->write_disk_new();
    if (!w)
        return lcs_fail_nomem(err);
    /* No XATTR, ACL or FFLAGS: file capabilities and immutable flags stay
     * out. OWNER with the shifted ids; PERM after the set-id bits went. */
    al->write_disk_set_options(w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
                                      ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK |
                                      ARCHIVE_EXTRACT_SPARSE | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                      ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    c->w = w;
    int rc = walk_layer(al, fd, content_entry, c, err);
    /* close applies the deferred directory modes and times */
    if (al->write_close(w) != ARCHIVE_OK && rc == 0)
        rc = lcs_fail(err, LCS_E_IO, "%s", al->error_string(w));
    al->write_free(w);
    c->w = NULL;
    return rc;
}

/* The static CLI: the helper applies the layer and prints its stats. */
static int apply_in_helper(int root_fd, int layer_fd, uint32_t id_base, lcs_layer_stats *st,
                           lcs_error *err)
{
    FILE *out = tmpfile();
    if (!out)
        return lcs_fail_errno(err, "layer: temporary file");
    char arg[16];
    snprintf(arg, sizeof arg, "%u", id_base);
    int rc = lcs_archive_helper("layer", arg, 0, layer_fd, fileno(out), root_fd, err);
    if (rc == 0) {
        rewind(out);
        json_error_t je;
        json_t *j = json_loadf(out, 0, &je);
        json_int_t n[5];
        const char *first = NULL;
        if (!j || json_unpack(j, "{s:I,s:I,s:I,s:I,s:I,s?s}", "entries", &n[0], "removed", &n[1],
                              "setid_cleared", &n[2], "skipped", &n[3], "ids_clamped", &n[4],
                              "first_setid", &first) != 0)
            rc = lcs_fail(err, LCS_E_PARSE, "layer: the archive helper's report: %s", je.text);
        else {
            if (!st->setid_cleared && first)
                snprintf(st->first_setid, sizeof st->first_setid, "%s", first);
            st->entries += (uint64_t)n[0];
            st->removed += (uint64_t)n[1];
            st->setid_cleared += (uint64_t)n[2];
            st->skipped += (uint64_t)n[3];
            st->ids_clamped += (uint64_t)n[4];
        }
        json_decref(j);
    }
    fclose(out);
    return rc;
}

int lcs_layer_apply(int root_fd, int layer_fd, uint32_t id_base, lcs_layer_stats *st,
                    lcs_error *err)
{
    if (lcs_archive_use_helper())
        return apply_in_helper(root_fd, layer_fd, id_base, st, err);
    lcs_archive_lib al;
    if (lcs_archive_open(&al, err) < 0)
        return -1;
    pass_ctx c = {&al, NULL, root_fd, id_base, st};
    int rc = walk_layer(&al, layer_fd, whiteout_entry, &c, err);
    if (rc == 0)
        rc = pass_entries(&c, layer_fd, err);
    lcs_archive_close(&al);
    return rc;
}
