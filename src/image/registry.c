/*
 * registry.c - the images a process knows about: the builtin manifests
 * (parsed fresh for each registry, so no two registries share state) and
 * the images found in the local image store.
 *
 * Store layout (shared with the image builder):
 *   <store>/images/<name>/<tag>/capabilities.json   the image's manifest
 *   <store>/images/<name>/<tag>/rootfs/             unpacked root filesystem
 * An image is "available locally" when its rootfs directory exists.
 *
 * Lookups use exact tags: asking for name:9.9 never returns name:1.0.0.
 * Every object handed out is a copy; the caller cannot alter the registry
 * (and builtins cannot be altered at all).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "util/error.h"
#include "util/str.h"

typedef struct entry {
    lcs_manifest *manifest;
    char *ref; /* name:version */
    bool builtin;
    bool available_locally;
    bool from_store;
    char *source;
    char *rootfs;
} entry;

struct lcs_registry {
    char *store_dir;
    bool scan_store;
    entry *entries;
    size_t n, cap;
    char **warnings;
    size_t n_warnings;
};

static void entry_clear(entry *e)
{
    lcs_manifest_free(e->manifest);
    free(e->ref);
    free(e->source);
    free(e->rootfs);
    memset(e, 0, sizeof *e);
}

void lcs_registry_options_init(lcs_registry_options *o)
{
    memset(o, 0, sizeof *o);
    o->include_builtins = true;
    o->scan_store = true;
}

static char *default_store_dir(void)
{
    const char *env = getenv("LLMCORE_SANDBOX_STORE");
    if (env && *env)
        return strdup(env);
    if (geteuid() == 0)
        return strdup("/var/lib/llmcore-sandbox");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char buf[4096];
    if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/llmcore-sandbox", xdg);
    else if (home && *home)
        snprintf(buf, sizeof buf, "%s/.local/share/llmcore-sandbox", home);
    else
        snprintf(buf, sizeof buf, "/tmp/llmcore-sandbox-%ld", (long)geteuid());
    return strdup(buf);
}

char *lcs_store_image_dir(const char *store_dir, const char *name, const char *tag)
{
    if (!store_dir || !name || !tag)
        return NULL;
    size_t n = strlen(store_dir) + strlen(name) + strlen(tag) + 16;
    char *p = malloc(n);
    if (!p)
        return NULL;
    int off = snprintf(p, n, "%s/images/", store_dir);
    for (const char *c = name; *c; c++)
        p[off++] = *c == '/' ? '+' : *c;
    snprintf(p + off, n - (size_t)off, "/%s", tag);
    return p;
}

static int add_warning(lcs_registry *r, const char *msg)
{
    if (!msg)
        return -1;
    char **w = realloc(r->warnings, (r->n_warnings + 1) * sizeof *w);
    if (!w)
        return -1;
    r->warnings = w;
    if (!(w[r->n_warnings] = strdup(msg)))
        return -1;
    r->n_warnings++;
    return 0;
}

static void clear_warnings(lcs_registry *r)
{
    for (size_t i = 0; i < r->n_warnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    r->warnings = NULL;
    r->n_warnings = 0;
}

static entry *find_exact(const lcs_registry *r, const char *name, const char *version)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->entries[i].manifest->name, name) == 0 &&
            strcmp(r->entries[i].manifest->version, version) == 0)
            return &r->entries[i];
    return NULL;
}

/* Takes ownership of m on success. */
static entry *push(lcs_registry *r, lcs_manifest *m, const char *source, lcs_error *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        entry *e = realloc(r->entries, cap * sizeof *e);
        if (!e) {
            lcs_fail_nomem(err);
            return NULL;
        }
        r->entries = e;
        r->cap = cap;
    }
    entry *e = &r->entries[r->n];
    memset(e, 0, sizeof *e);
    e->ref = lcs_manifest_full_name(m);
    e->source = strdup(source);
    if (!e->ref || !e->source) {
        free(e->ref);
        free(e->source);
        lcs_fail_nomem(err);
        return NULL;
    }
    e->manifest = m;
    r->n++;
    return e;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Forget what an earlier scan found, keeping builtins and registrations. */
static void drop_store_state(lcs_registry *r)
{
    size_t w = 0;
    for (size_t i = 0; i < r->n; i++) {
        entry *e = &r->entries[i];
        if (e->from_store && !e->builtin) {
            entry_clear(e);
            continue;
        }
        if (e->from_store) { /* a builtin that the store provided */
            e->from_store = false;
            e->available_locally = false;
            free(e->rootfs);
            e->rootfs = NULL;
        }
        r->entries[w++] = *e;
    }
    r->n = w;
}

static int scan_tag_dir(lcs_registry *r, const char *name, const char *tag, const char *dir,
                        int *found, lcs_error *err)
{
    char *path = NULL, *rootfs = NULL, *msg = NULL;
    int rc = -1;
    if (asprintf(&path, "%s/capabilities.json", dir) < 0) {
        path = NULL;
        goto nomem;
    }
    if (asprintf(&rootfs, "%s/rootfs", dir) < 0) {
        rootfs = NULL;
        goto nomem;
    }
    lcs_error e;
    lcs_error_clear(&e);
    lcs_manifest *m = lcs_manifest_load_file(path, &e);
    if (!m) {
        if (e.code == LCS_E_NOMEM)
            goto nomem;
        if (asprintf(&msg, "skipped store image %s:%s: %s", name, tag, e.message) < 0) {
            msg = NULL;
            goto nomem;
        }
        rc = add_warning(r, msg) == 0 ? 0 : lcs_fail_nomem(err);
        goto out;
    }
    if (strcmp(m->name, name) != 0 || strcmp(m->version, tag) != 0) {
        int n = asprintf(&msg, "skipped store image in %s: its manifest names %s:%s, not %s:%s",
                         dir, m->name, m->version, name, tag);
        lcs_manifest_free(m);
        if (n < 0) {
            msg = NULL;
            goto nomem;
        }
        rc = add_warning(r, msg) == 0 ? 0 : lcs_fail_nomem(err);
        goto out;
    }
    bool avail = is_dir(rootfs);
    entry *ex = find_exact(r, m->name, m->version);
    if (ex && (ex->builtin || !ex->from_store)) {
        /* The store holds a built copy of a builtin (or of an image the
         * caller registered): keep the known manifest, record that the
         * image is here. */
        char *a = lcs_manifest_to_json(ex->manifest, NULL);
        char *b = lcs_manifest_to_json(m, NULL);
        if (a && b && strcmp(a, b) != 0 && ex->builtin &&
            asprintf(&msg,
                     "store image %s:%s was built from a different manifest than the builtin "
                     "one; rebuild it",
                     name, tag) >= 0)
            add_warning(r, msg);
        free(a);
        free(b);
        lcs_manifest_free(m);
        ex->from_store = true;
        ex->available_locally = avail;
        free(ex->rootfs);
        ex->rootfs = avail ? rootfs : NULL;
        if (avail)
            rootfs = NULL;
    } else {
        entry *ne = push(r, m, path, err);
        if (!ne) {
            lcs_manifest_free(m);
            goto out;
        }
        ne->from_store = true;
        ne->available_locally = avail;
        ne->rootfs = avail ? rootfs : NULL;
        if (avail)
            rootfs = NULL;
    }
    (*found)++;
    rc = 0;
    goto out;
nomem:
    rc = lcs_fail_nomem(err);
out:
    free(path);
    free(rootfs);
    free(msg);
    return rc;
}

int lcs_registry_refresh(lcs_registry *r, lcs_error *err)
{
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "no registry given");
    drop_store_state(r);
    clear_warnings(r);
    if (!r->scan_store)
        return 0;
    char *images = NULL;
    if (asprintf(&images, "%s/images", r->store_dir) < 0)
        return lcs_fail_nomem(err);
    DIR *d = opendir(images);
    if (!d) {
        int rc = (errno == ENOENT || errno == ENOTDIR)
                     ? 0 /* nothing built yet */
                     : lcs_fail_errno(err, "cannot read image store %s", images);
        free(images);
        return rc;
    }
    int found = 0, rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *name = strdup(de->d_name), *ndir = NULL;
        if (!name || asprintf(&ndir, "%s/%s", images, de->d_name) < 0) {
            free(name);
            rc = lcs_fail_nomem(err);
            break;
        }
        for (char *c = name; *c; c++)
            if (*c == '+')
                *c = '/';
        DIR *td = opendir(ndir);
        struct dirent *te;
        while (td && rc == 0 && (te = readdir(td))) {
            char *tdir = NULL;
            if (te->d_name[0] == '.')
                continue;
            if (asprintf(&tdir, "%s/%s", ndir, te->d_name) < 0) {
                rc = lcs_fail_nomem(err);
                break;
            }
            if (is_dir(tdir))
                rc = scan_tag_dir(r, name, te->d_name, tdir, &found, err);
            free(tdir);
        }
        if (td)
            closedir(td);
        free(name);
        free(ndir);
    }
    closedir(d);
    free(images);
    return rc == 0 ? found : -1;
}

lcs_registry *lcs_registry_new(const lcs_registry_options *opts, lcs_error *err)
{
    lcs_registry_options def;
    if (!opts) {
        lcs_registry_options_init(&def);
        opts = &def;
    }
    lcs_registry *r = calloc(1, sizeof *r);
    if (!r) {
        lcs_fail_nomem(err);
        return NULL;
    }
    r->scan_store = opts->scan_store;
    r->store_dir = opts->store_dir ? strdup(opts->store_dir) : default_store_dir();
    if (!r->store_dir) {
        lcs_fail_nomem(err);
        goto fail;
    }
    if (opts->include_builtins) {
        for (size_t i = 0; i < lcs_builtin_count(); i++) {
            lcs_manifest *m = lcs_builtin_manifest(i, err);
            if (!m)
                goto fail;
            entry *e = push(r, m, "builtin", err);
            if (!e) {
                lcs_manifest_free(m);
                goto fail;
            }
            e->builtin = true;
        }
    }
    if (lcs_registry_refresh(r, err) < 0)
        goto fail;
    return r;
fail:
    lcs_registry_free(r);
    return NULL;
}

void lcs_registry_free(lcs_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        entry_clear(&r->entries[i]);
    free(r->entries);
    clear_warnings(r);
    free(r->store_dir);
    free(r);
}

const char *lcs_registry_store_dir(const lcs_registry *r)
{
    return r ? r->store_dir : NULL;
}

size_t lcs_registry_count(const lcs_registry *r)
{
    return r ? r->n : 0;
}

size_t lcs_registry_warning_count(const lcs_registry *r)
{
    return r ? r->n_warnings : 0;
}

const char *lcs_registry_warning(const lcs_registry *r, size_t i)
{
    return r && i < r->n_warnings ? r->warnings[i] : NULL;
}

void lcs_image_info_clear(lcs_image_info *i)
{
    if (!i)
        return;
    lcs_manifest_free(i->manifest);
    free(i->ref);
    free(i->source);
    free(i->rootfs);
    memset(i, 0, sizeof *i);
}

void lcs_image_list_clear(lcs_image_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        lcs_image_info_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int copy_entry(const entry *e, lcs_image_info *out, lcs_error *err)
{
    memset(out, 0, sizeof *out);
    bool oom = false;
    out->manifest = lcs_manifest_copy(e->manifest, err);
    out->ref = lcs_strdup_or_null(e->ref, &oom);
    out->source = lcs_strdup_or_null(e->source, &oom);
    out->rootfs = lcs_strdup_or_null(e->rootfs, &oom);
    out->builtin = e->builtin;
    out->available_locally = e->available_locally;
    if (!out->manifest || oom) {
        lcs_image_info_clear(out);
        return lcs_fail_nomem(err);
    }
    return 0;
}

/* All "name:version" of the registry, sorted, comma-separated. */
static void format_available(const lcs_registry *r, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    const entry **v = malloc(r->n * sizeof *v + 1);
    if (!v)
        return;
    for (size_t i = 0; i < r->n; i++)
        v[i] = &r->entries[i];
    for (size_t i = 1; i < r->n; i++) /* small n: insertion sort */
        for (size_t j = i; j > 0 && strcmp(v[j - 1]->ref, v[j]->ref) > 0; j--) {
            const entry *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    for (size_t i = 0; i < r->n && off + 1 < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", v[i]->ref);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    free(v);
    if (r->n == 0)
        snprintf(buf, len, "(none)");
}

static const entry *lookup(const lcs_registry *r, const char *ref, lcs_error *err)
{
    if (!r) {
        lcs_fail(err, LCS_E_INVALID, "no registry given");
        return NULL;
    }
    lcs_image_ref pr;
    if (lcs_image_ref_parse(ref, &pr, err) != 0)
        return NULL;
    if (pr.digest) {
        lcs_fail(err, LCS_E_INVALID,
                 "image reference '%s': the local registry knows images by name and tag, not by "
                 "digest; drop the @%s part",
                 ref, pr.digest);
        lcs_image_ref_clear(&pr);
        return NULL;
    }
    const entry *best = NULL;
    char versions[600];
    size_t voff = 0;
    versions[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        const entry *e = &r->entries[i];
        if (strcmp(e->manifest->name, pr.repository) != 0)
            continue;
        if (voff + 1 < sizeof versions) {
            int n = snprintf(versions + voff, sizeof versions - voff, "%s%s", voff ? ", " : "",
                             e->manifest->version);
            if (n > 0)
                voff += (size_t)n;
        }
        if (pr.tag) {
            if (strcmp(e->manifest->version, pr.tag) == 0)
                best = e;
        } else if (!best || lcs_version_compare(e->manifest->version, best->manifest->version) > 0)
            best = e;
    }
    if (!best) {
        char avail[1200];
        format_available(r, avail, sizeof avail);
        if (voff)
            lcs_fail(err, LCS_E_NOT_FOUND,
                     "image '%s' not found: %s exists only as version %s (available: %s)", ref,
                     pr.repository, versions, avail);
        else
            lcs_fail(err, LCS_E_NOT_FOUND, "image '%s' not found (available: %s)", ref, avail);
    }
    lcs_image_ref_clear(&pr);
    return best;
}

int lcs_registry_get(const lcs_registry *r, const char *ref, lcs_image_info *out, lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no output given");
    memset(out, 0, sizeof *out);
    const entry *e = lookup(r, ref, err);
    if (!e)
        return -1;
    return copy_entry(e, out, err);
}

bool lcs_registry_has(const lcs_registry *r, const char *ref)
{
    return lookup(r, ref, NULL) != NULL;
}

typedef struct rank_ctx {
    const entry *e;
    lcs_capset required;
    bool prefer_local;
} ranked;

static int cmp_listing(const void *a, const void *b)
{
    const entry *x = ((const ranked *)a)->e, *y = ((const ranked *)b)->e;
    if (x->manifest->tier != y->manifest->tier)
        return x->manifest->tier < y->manifest->tier ? -1 : 1;
    int c = strcmp(x->manifest->name, y->manifest->name);
    if (c)
        return c;
    return -lcs_version_compare(x->manifest->version, y->manifest->version);
}

static int cmp_find(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->prefer_local && x->e->available_locally != y->e->available_locally)
        return x->e->available_locally ? -1 : 1;
    unsigned ex = lcs_capset_count(x->e->manifest->capabilities & ~x->required);
    unsigned ey = lcs_capset_count(y->e->manifest->capabilities & ~y->required);
    if (ex != ey)
        return ex < ey ? -1 : 1;
    return cmp_listing(a, b);
}

static int collect(const lcs_registry *r, const lcs_image_filter *f, lcs_capset required,
                   bool prefer_local, int (*cmp)(const void *, const void *), lcs_image_list *out,
                   lcs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "no registry given");
    ranked *v = calloc(r->n + 1, sizeof *v);
    if (!v)
        return lcs_fail_nomem(err);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        const entry *e = &r->entries[i];
        if (f && f->tier >= 0 && (int)e->manifest->tier != f->tier)
            continue;
        if (f && !lcs_manifest_has_all(e->manifest, f->capabilities))
            continue;
        if (f && f->available_only && !e->available_locally)
            continue;
        if (!lcs_manifest_has_all(e->manifest, required))
            continue;
        v[n++] = (ranked){e, required, prefer_local};
    }
    qsort(v, n, sizeof *v, cmp);
    out->items = calloc(n + 1, sizeof *out->items);
    if (!out->items) {
        free(v);
        return lcs_fail_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (copy_entry(v[i].e, &out->items[i], err) != 0) {
            lcs_image_list_clear(out);
            free(v);
            return -1;
        }
        out->count++;
    }
    free(v);
    return 0;
}

int lcs_registry_list(const lcs_registry *r, const lcs_image_filter *filter, lcs_image_list *out,
                      lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no output given");
    if (filter && filter->tier >= 0 && filter->tier > LCS_TIER_TASK)
        return lcs_fail(err, LCS_E_INVALID, "unknown tier %d in filter", filter->tier);
    return collect(r, filter, 0, false, cmp_listing, out, err);
}

int lcs_registry_find(const lcs_registry *r, lcs_capset required, bool prefer_local,
                      lcs_image_list *out, lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no output given");
    return collect(r, NULL, required, prefer_local, cmp_find, out, err);
}

int lcs_registry_register(lcs_registry *r, const lcs_manifest *m, bool available_locally,
                          lcs_error *err)
{
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "no registry given");
    if (lcs_manifest_validate(m, err) != 0)
        return -1;
    entry *ex = find_exact(r, m->name, m->version);
    /* Checked against the compiled-in list, not this registry's entries: a
     * builtin that was unregistered still cannot be replaced. */
    char *full = lcs_manifest_full_name(m);
    if (!full)
        return lcs_fail_nomem(err);
    lcs_manifest *b = lcs_builtin_manifest_get(full, NULL);
    free(full);
    bool is_builtin = b != NULL;
    lcs_manifest_free(b);
    if (is_builtin || (ex && ex->builtin))
        return lcs_fail(err, LCS_E_EXISTS,
                        "cannot register %s:%s: a builtin image has that name and version; "
                        "builtin manifests are immutable (use another name or version)",
                        m->name, m->version);
    lcs_manifest *copy = lcs_manifest_copy(m, err);
    if (!copy)
        return -1;
    if (ex) {
        lcs_manifest_free(ex->manifest);
        ex->manifest = copy;
        ex->available_locally = available_locally;
        ex->from_store = false;
        free(ex->source);
        ex->source = strdup("registered");
        return ex->source ? 0 : lcs_fail_nomem(err);
    }
    entry *e = push(r, copy, "registered", err);
    if (!e) {
        lcs_manifest_free(copy);
        return -1;
    }
    e->available_locally = available_locally;
    return 0;
}

int lcs_registry_unregister(lcs_registry *r, const char *ref, lcs_error *err)
{
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "no registry given");
    lcs_image_ref pr;
    if (lcs_image_ref_parse(ref, &pr, err) != 0)
        return -1;
    size_t w = 0;
    int removed = 0;
    for (size_t i = 0; i < r->n; i++) {
        entry *e = &r->entries[i];
        if (strcmp(e->manifest->name, pr.repository) == 0 &&
            (!pr.tag || strcmp(e->manifest->version, pr.tag) == 0)) {
            entry_clear(e);
            removed = 1;
            continue;
        }
        r->entries[w++] = *e;
    }
    r->n = w;
    lcs_image_ref_clear(&pr);
    return removed;
}
