/*
 * selector.c - picks the image (and access mode) for a task type, a
 * runtime, or a set of required capabilities. The rules are documented in
 * docs/selection.md; in short:
 *
 *   1. a task mapping (builtin table, or a caller's override), if the
 *      builtin table's image really has what the task requires;
 *   2. a runtime mapping, under the same condition;
 *   3. the best image having every required capability: never a FULL
 *      (network) image when the requirement has no network in it if any
 *      other image qualifies, then locally available first (prefer_local),
 *      then the least capable, then by tier, name and newest version;
 *   4. the configured default image.
 *
 * The access mode is the image's default, except that a selection whose
 * requirements are known and include no network is always RESTRICTED: a
 * task that did not ask for network never receives it.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/error.h"
#include "util/str.h"

#define C(x) LCS_CAPSET(LCS_CAP_##x)

/* Capabilities that only make sense with outbound network. */
#define NETWORK_CAPS (C(NETWORK) | C(WEBSEARCH))

static const struct {
    const char *task;
    lcs_capset caps;
} task_caps[] = {
    {"research", C(PYTHON) | C(RESEARCH) | C(NETWORK)},
    {"literature_review", C(PYTHON) | C(RESEARCH)},
    {"document_analysis", C(PYTHON) | C(PDF_TOOLS)},
    {"websearch", C(PYTHON) | C(WEBSEARCH) | C(BROWSER)},
    {"web_scraping", C(PYTHON) | C(NETWORK) | C(BROWSER)},
    {"api_testing", C(PYTHON) | C(NETWORK) | C(CURL)},
    {"python_dev", C(PYTHON) | C(GIT)},
    {"nodejs_dev", C(NODEJS) | C(GIT)},
    {"frontend", C(NODEJS)},
    {"backend", C(PYTHON)},
    {"fullstack", C(PYTHON) | C(NODEJS)},
    {"data_analysis", C(PYTHON) | C(DATA_ANALYSIS)},
    {"visualization", C(PYTHON) | C(VISUALIZATION)},
    {"data_processing", C(PYTHON)},
    {"docgen", C(PYTHON) | C(PANDOC)},
    {"pdf_generation", C(PYTHON) | C(PDF_TOOLS)},
    {"markdown", C(SHELL) | C(PANDOC)},
    {"testing", C(PYTHON) | C(TESTING)},
    {"integration_testing", C(PYTHON) | C(TESTING) | C(NETWORK)},
    {"code_review", C(PYTHON) | C(CODE_ANALYSIS)},
    {"shell", C(SHELL)},
    {"scripting", C(SHELL) | C(JQ)},
    {"automation", C(SHELL) | C(CURL)},
    {"file_processing", C(SHELL)},
};

static const lcs_mapping task_images[] = {
    {"research", "llmcore-sandbox-research:1.0.0"},
    {"literature_review", "llmcore-sandbox-research:1.0.0"},
    {"document_analysis", "llmcore-sandbox-research:1.0.0"},
    {"websearch", "llmcore-sandbox-websearch:1.0.0"},
    {"web_scraping", "llmcore-sandbox-websearch:1.0.0"},
    {"python_dev", "llmcore-sandbox-python:1.0.0"},
    {"backend", "llmcore-sandbox-python:1.0.0"},
    {"fullstack", "llmcore-sandbox-python:1.0.0"},
    {"data_analysis", "llmcore-sandbox-python:1.0.0"},
    {"visualization", "llmcore-sandbox-python:1.0.0"},
    {"nodejs_dev", "llmcore-sandbox-nodejs:1.0.0"},
    {"frontend", "llmcore-sandbox-nodejs:1.0.0"},
    {"shell", "llmcore-sandbox-shell:1.0.0"},
    {"scripting", "llmcore-sandbox-shell:1.0.0"},
    {"automation", "llmcore-sandbox-shell:1.0.0"},
};

static const lcs_mapping runtime_images[] = {
    {"python", "llmcore-sandbox-python:1.0.0"}, {"python3", "llmcore-sandbox-python:1.0.0"},
    {"python3.12", "llmcore-sandbox-python:1.0.0"}, {"node", "llmcore-sandbox-nodejs:1.0.0"},
    {"nodejs", "llmcore-sandbox-nodejs:1.0.0"},   {"npm", "llmcore-sandbox-nodejs:1.0.0"},
    {"bash", "llmcore-sandbox-shell:1.0.0"},      {"sh", "llmcore-sandbox-shell:1.0.0"},
    {"shell", "llmcore-sandbox-shell:1.0.0"},     {"zsh", "llmcore-sandbox-shell:1.0.0"},
};

/* The capability a runtime name implies, used when no mapping applies. */
static const struct {
    const char *runtime;
    lcs_capability cap;
} runtime_caps[] = {
    {"python", LCS_CAP_PYTHON}, {"python3", LCS_CAP_PYTHON}, {"python3.12", LCS_CAP_PYTHON},
    {"node", LCS_CAP_NODEJS},   {"nodejs", LCS_CAP_NODEJS},  {"npm", LCS_CAP_NODEJS},
    {"bash", LCS_CAP_SHELL},    {"sh", LCS_CAP_SHELL},       {"shell", LCS_CAP_SHELL},
    {"zsh", LCS_CAP_SHELL},     {"rust", LCS_CAP_RUST},      {"cargo", LCS_CAP_RUST},
};

static const char *const default_restricted[] = {"*-slim", "llmcore-sandbox-base:*",
                                                 "llmcore-sandbox-shell:*"};
static const char *const default_full[] = {"*-full", "llmcore-sandbox-websearch:*",
                                           "llmcore-sandbox-research:*"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct map_entry {
    char *key;
    char *image;
    bool trusted; /* set by the caller: used as given */
} map_entry;

typedef struct map {
    map_entry *v;
    size_t n;
} map;

struct lcs_selector {
    const lcs_registry *reg;
    char *default_image;
    bool prefer_local;
    bool prefer_task_images;
    map tasks, runtimes;
    char **restricted;
    size_t n_restricted;
    char **full;
    size_t n_full;
};

void lcs_selection_config_init(lcs_selection_config *c)
{
    memset(c, 0, sizeof *c);
    c->default_image = "llmcore-sandbox-python:1.0.0";
    c->prefer_local = true;
    c->prefer_task_images = true;
}

bool lcs_task_required_capabilities(const char *task, lcs_capset *out)
{
    char *k = lcs_normalize_key(task);
    bool found = false;
    for (size_t i = 0; k && i < N(task_caps); i++)
        if (strcmp(task_caps[i].task, k) == 0) {
            if (out)
                *out = task_caps[i].caps;
            found = true;
            break;
        }
    free(k);
    return found;
}

static map_entry *map_find(const map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].key, key) == 0)
            return &m->v[i];
    return NULL;
}

/* Insert or replace; key is normalised; image must parse. */
static int map_set(map *m, const char *key, const char *image, bool trusted, lcs_error *err)
{
    char *k = lcs_normalize_key(key);
    if (!k)
        return lcs_fail_nomem(err);
    if (!*k) {
        free(k);
        return lcs_fail(err, LCS_E_INVALID, "mapping key must not be empty");
    }
    lcs_image_ref r;
    if (lcs_image_ref_parse(image, &r, err) != 0) {
        free(k);
        lcs_error_prefix(err, "mapping '%s': ", key);
        return -1;
    }
    lcs_image_ref_clear(&r);
    char *img = strdup(image);
    if (!img) {
        free(k);
        return lcs_fail_nomem(err);
    }
    map_entry *e = map_find(m, k);
    if (e) {
        free(k);
        free(e->image);
        e->image = img;
        e->trusted = trusted;
        return 0;
    }
    map_entry *v = realloc(m->v, (m->n + 1) * sizeof *v);
    if (!v) {
        free(k);
        free(img);
        return lcs_fail_nomem(err);
    }
    m->v = v;
    m->v[m->n++] = (map_entry){k, img, trusted};
    return 0;
}

static void map_free(map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].image);
    }
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

static int copy_patterns(const char *const *src, size_t n, const char *const *def, size_t ndef,
                         char ***out, size_t *nout, lcs_error *err)
{
    if (!src) {
        src = def;
        n = ndef;
    }
    *out = calloc(n + 1, sizeof **out);
    if (!*out)
        return lcs_fail_nomem(err);
    for (size_t i = 0; i < n; i++) {
        if (!src[i])
            return lcs_fail(err, LCS_E_INVALID, "access pattern #%zu is NULL", i);
        if (!((*out)[i] = strdup(src[i])))
            return lcs_fail_nomem(err);
        (*nout)++;
    }
    return 0;
}

void lcs_selector_free(lcs_selector *s)
{
    if (!s)
        return;
    free(s->default_image);
    map_free(&s->tasks);
    map_free(&s->runtimes);
    for (size_t i = 0; i < s->n_restricted; i++)
        free(s->restricted[i]);
    free(s->restricted);
    for (size_t i = 0; i < s->n_full; i++)
        free(s->full[i]);
    free(s->full);
    free(s);
}

lcs_selector *lcs_selector_new(const lcs_registry *reg, const lcs_selection_config *cfg,
                               lcs_error *err)
{
    if (!reg) {
        lcs_fail(err, LCS_E_INVALID, "a selector needs a registry");
        return NULL;
    }
    lcs_selection_config def;
    if (!cfg) {
        lcs_selection_config_init(&def);
        cfg = &def;
    }
    lcs_selector *s = calloc(1, sizeof *s);
    if (!s) {
        lcs_fail_nomem(err);
        return NULL;
    }
    s->reg = reg;
    s->prefer_local = cfg->prefer_local;
    s->prefer_task_images = cfg->prefer_task_images;
    const char *dflt = cfg->default_image ? cfg->default_image : "llmcore-sandbox-python:1.0.0";
    lcs_image_ref r;
    if (lcs_image_ref_parse(dflt, &r, err) != 0) {
        lcs_error_prefix(err, "default_image: ");
        goto fail;
    }
    lcs_image_ref_clear(&r);
    if (!(s->default_image = strdup(dflt))) {
        lcs_fail_nomem(err);
        goto fail;
    }
    for (size_t i = 0; i < N(task_images); i++)
        if (map_set(&s->tasks, task_images[i].key, task_images[i].image, false, err) != 0)
            goto fail;
    for (size_t i = 0; i < N(runtime_images); i++)
        if (map_set(&s->runtimes, runtime_images[i].key, runtime_images[i].image, false, err) != 0)
            goto fail;
    for (size_t i = 0; i < cfg->n_task_overrides; i++)
        if (map_set(&s->tasks, cfg->task_overrides[i].key, cfg->task_overrides[i].image, true,
                    err) != 0)
            goto fail;
    for (size_t i = 0; i < cfg->n_runtime_overrides; i++)
        if (map_set(&s->runtimes, cfg->runtime_overrides[i].key, cfg->runtime_overrides[i].image,
                    true, err) != 0)
            goto fail;
    if (copy_patterns(cfg->restricted_patterns, cfg->n_restricted_patterns, default_restricted,
                      N(default_restricted), &s->restricted, &s->n_restricted, err) != 0 ||
        copy_patterns(cfg->full_access_patterns, cfg->n_full_access_patterns, default_full,
                      N(default_full), &s->full, &s->n_full, err) != 0)
        goto fail;
    return s;
fail:
    lcs_selector_free(s);
    return NULL;
}

int lcs_selector_add_task_mapping(lcs_selector *s, const char *task, const char *image,
                                  lcs_error *err)
{
    if (!s || !task || !image)
        return lcs_fail(err, LCS_E_INVALID, "add_task_mapping needs a task and an image");
    return map_set(&s->tasks, task, image, true, err);
}

int lcs_selector_add_runtime_mapping(lcs_selector *s, const char *runtime, const char *image,
                                     lcs_error *err)
{
    if (!s || !runtime || !image)
        return lcs_fail(err, LCS_E_INVALID, "add_runtime_mapping needs a runtime and an image");
    return map_set(&s->runtimes, runtime, image, true, err);
}

static const char *map_image(const map *m, const char *key)
{
    char *k = lcs_normalize_key(key);
    const map_entry *e = k ? map_find(m, k) : NULL;
    free(k);
    return e ? e->image : NULL;
}

const char *lcs_selector_image_for_task(const lcs_selector *s, const char *task)
{
    return s && task ? map_image(&s->tasks, task) : NULL;
}

const char *lcs_selector_image_for_runtime(const lcs_selector *s, const char *runtime)
{
    return s && runtime ? map_image(&s->runtimes, runtime) : NULL;
}

void lcs_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted unique copy of the given keys. */
static char **sorted_keys(const char *const *keys, size_t n)
{
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < m; j++)
            if (strcmp(v[j], keys[i]) == 0)
                dup = true;
        if (dup)
            continue;
        if (!(v[m++] = strdup(keys[i]))) {
            lcs_strv_free(v);
            return NULL;
        }
    }
    qsort(v, m, sizeof *v, cmp_str);
    return v;
}

char **lcs_selector_task_types(const lcs_selector *s)
{
    if (!s)
        return NULL;
    size_t n = s->tasks.n + N(task_caps);
    const char **keys = calloc(n + 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < s->tasks.n; i++)
        keys[k++] = s->tasks.v[i].key;
    for (size_t i = 0; i < N(task_caps); i++)
        keys[k++] = task_caps[i].task;
    char **v = sorted_keys(keys, k);
    free(keys);
    return v;
}

char **lcs_selector_runtimes(const lcs_selector *s)
{
    if (!s)
        return NULL;
    const char **keys = calloc(s->runtimes.n + 1, sizeof *keys);
    if (!keys)
        return NULL;
    for (size_t i = 0; i < s->runtimes.n; i++)
        keys[i] = s->runtimes.v[i].key;
    char **v = sorted_keys(keys, s->runtimes.n);
    free(keys);
    return v;
}

void lcs_selection_clear(lcs_selection *sel)
{
    if (!sel)
        return;
    free(sel->image);
    lcs_manifest_free(sel->manifest);
    free(sel->reason);
    for (size_t i = 0; i < sel->n_alternatives; i++)
        free(sel->alternatives[i]);
    free(sel->alternatives);
    memset(sel, 0, sizeof *sel);
}

/* ------------------------------------------------------------- ranking */

typedef struct cand {
    const lcs_image_info *info;
    unsigned penalty; /* FULL image for a requirement without network */
    unsigned local;   /* 0 if preferred for locality */
    unsigned extras;  /* capabilities beyond the requirement */
    unsigned tier;    /* tier rank */
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->penalty != y->penalty)
        return x->penalty < y->penalty ? -1 : 1;
    if (x->local != y->local)
        return x->local < y->local ? -1 : 1;
    if (x->extras != y->extras)
        return x->extras < y->extras ? -1 : 1;
    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    int c = strcmp(x->info->manifest->name, y->info->manifest->name);
    if (c)
        return c;
    return -lcs_version_compare(x->info->manifest->version, y->info->manifest->version);
}

/* Images satisfying `required`, best first. *out is freed by the caller
 * with lcs_image_list_clear (order[] indexes into it). */
static int rank(const lcs_selector *s, lcs_capset required, lcs_image_list *list, cand **order,
                lcs_error *err)
{
    *order = NULL;
    if (lcs_registry_find(s->reg, required, false, list, err) != 0)
        return -1;
    *order = calloc(list->count + 1, sizeof **order);
    if (!*order) {
        lcs_image_list_clear(list);
        return lcs_fail_nomem(err);
    }
    bool needs_network = (required & NETWORK_CAPS) != 0;
    for (size_t i = 0; i < list->count; i++) {
        const lcs_manifest *m = list->items[i].manifest;
        cand *c = &(*order)[i];
        c->info = &list->items[i];
        c->penalty = !needs_network && m->default_access_mode == LCS_ACCESS_FULL;
        c->local = s->prefer_local && !list->items[i].available_locally;
        c->extras = lcs_capset_count(m->capabilities & ~required);
        c->tier = s->prefer_task_images ? (unsigned)(LCS_TIER_TASK - m->tier) : (unsigned)m->tier;
    }
    qsort(*order, list->count, sizeof **order, cmp_cand);
    return 0;
}

/* Does the registry's image `image` have every capability of `required`? */
static bool image_satisfies(const lcs_selector *s, const char *image, lcs_capset required)
{
    lcs_image_info info;
    if (lcs_registry_get(s->reg, image, &info, NULL) != 0)
        return false;
    bool ok = lcs_manifest_has_all(info.manifest, required);
    lcs_image_info_clear(&info);
    return ok;
}

/* A pattern matches the whole reference or the reference without its tag
 * ("*-full" matches "team/crawler-full:2.0"). */
static bool pattern_match(const char *pattern, const char *image)
{
    if (fnmatch(pattern, image, 0) == 0)
        return true;
    lcs_image_ref r;
    if (lcs_image_ref_parse(image, &r, NULL) != 0)
        return false;
    char *bare = NULL;
    bool hit = false;
    if (asprintf(&bare, "%s%s%s", r.host ? r.host : "", r.host ? "/" : "", r.repository) >= 0) {
        hit = fnmatch(pattern, bare, 0) == 0 || fnmatch(pattern, r.repository, 0) == 0;
        free(bare);
    }
    lcs_image_ref_clear(&r);
    return hit;
}

static lcs_access_mode pattern_access(const lcs_selector *s, const char *image)
{
    for (size_t i = 0; i < s->n_full; i++)
        if (pattern_match(s->full[i], image))
            return LCS_ACCESS_FULL;
    for (size_t i = 0; i < s->n_restricted; i++)
        if (pattern_match(s->restricted[i], image))
            return LCS_ACCESS_RESTRICTED;
    return LCS_ACCESS_RESTRICTED;
}

/* Fill `out` for the chosen image. constrained: the requirement is known,
 * so a requirement without network yields RESTRICTED. */
static int build(const lcs_selector *s, const char *image, const char *reason,
                 lcs_capset required, bool constrained, lcs_selection *out, lcs_error *err)
{
    memset(out, 0, sizeof *out);
    out->required = required;
    out->image = strdup(image);
    out->reason = strdup(reason);
    if (!out->image || !out->reason) {
        lcs_selection_clear(out);
        return lcs_fail_nomem(err);
    }
    lcs_image_info info;
    lcs_error e;
    lcs_error_clear(&e);
    if (lcs_registry_get(s->reg, image, &info, &e) == 0) {
        out->manifest = info.manifest;
        info.manifest = NULL;
        out->access_mode = out->manifest->default_access_mode;
        lcs_image_info_clear(&info);
    } else if (e.code == LCS_E_NOMEM) {
        lcs_selection_clear(out);
        return lcs_fail_nomem(err);
    } else
        out->access_mode = pattern_access(s, image);
    if (constrained && !(required & NETWORK_CAPS))
        out->access_mode = LCS_ACCESS_RESTRICTED;

    /* Alternatives: every other image meeting the requirement, best first. */
    if (required) {
        lcs_image_list list;
        cand *order;
        if (rank(s, required, &list, &order, err) != 0) {
            lcs_selection_clear(out);
            return -1;
        }
        out->alternatives = calloc(list.count + 1, sizeof *out->alternatives);
        if (!out->alternatives) {
            free(order);
            lcs_image_list_clear(&list);
            lcs_selection_clear(out);
            return lcs_fail_nomem(err);
        }
        const char *chosen = out->manifest ? NULL : image;
        char *chosen_full = out->manifest ? lcs_manifest_full_name(out->manifest) : NULL;
        for (size_t i = 0; i < list.count; i++) {
            const char *ref = order[i].info->ref;
            if ((chosen_full && strcmp(ref, chosen_full) == 0) ||
                (chosen && strcmp(ref, chosen) == 0))
                continue;
            if (!(out->alternatives[out->n_alternatives] = strdup(ref)))
                break;
            out->n_alternatives++;
        }
        free(chosen_full);
        free(order);
        lcs_image_list_clear(&list);
    }
    return 0;
}

static lcs_capset runtime_capability(const char *rkey)
{
    for (size_t i = 0; rkey && i < N(runtime_caps); i++)
        if (strcmp(runtime_caps[i].runtime, rkey) == 0)
            return LCS_CAPSET(runtime_caps[i].cap);
    return 0;
}

/* Step 3: best image for `required`; returns 1 if chosen, 0 if none. */
static int by_capabilities(const lcs_selector *s, lcs_capset required, bool constrained,
                           lcs_selection *out, lcs_error *err)
{
    lcs_image_list list;
    cand *order;
    if (rank(s, required, &list, &order, err) != 0)
        return -1;
    int rc = 0;
    if (list.count > 0) {
        char *names = lcs_capset_format(required);
        char reason[512];
        snprintf(reason, sizeof reason, "capability_match:%s", names ? names : "");
        free(names);
        rc = build(s, order[0].info->ref, reason, required, constrained, out, err) == 0 ? 1 : -1;
    }
    free(order);
    lcs_image_list_clear(&list);
    return rc;
}

static int check_caps_arg(lcs_capset caps, lcs_error *err)
{
    if (caps & ~((1u << LCS_CAP_COUNT) - 1))
        return lcs_fail(err, LCS_E_INVALID, "unknown capability bits 0x%x",
                        (unsigned)(caps & ~((1u << LCS_CAP_COUNT) - 1)));
    return 0;
}

int lcs_select_for_task(const lcs_selector *s, const char *task, const char *runtime,
                        lcs_capset capabilities, lcs_selection *out, lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no output given");
    memset(out, 0, sizeof *out);
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "no selector given");
    if (check_caps_arg(capabilities, err) != 0)
        return -1;
    char *tkey = lcs_normalize_key(task ? task : "");
    char *rkey = runtime ? lcs_normalize_key(runtime) : NULL;
    if (!tkey || (runtime && !rkey)) {
        free(tkey);
        free(rkey);
        return lcs_fail_nomem(err);
    }
    int rc = -1;
    if (!*tkey) {
        lcs_fail(err, LCS_E_INVALID, "task type must not be empty");
        goto out;
    }
    lcs_capset task_req = 0;
    bool known = lcs_task_required_capabilities(tkey, &task_req);
    lcs_capset required = capabilities | task_req;
    bool constrained = known || capabilities != 0;
    char reason[512];

    const map_entry *te = map_find(&s->tasks, tkey);
    if (te && (te->trusted || image_satisfies(s, te->image, required))) {
        snprintf(reason, sizeof reason, "task_mapping:%s", tkey);
        rc = build(s, te->image, reason, required, constrained, out, err);
        goto out;
    }
    if (rkey && *rkey) {
        const map_entry *re = map_find(&s->runtimes, rkey);
        if (re && (re->trusted || image_satisfies(s, re->image, required))) {
            snprintf(reason, sizeof reason, "runtime_mapping:%s", rkey);
            rc = build(s, re->image, reason, required | runtime_capability(rkey), constrained,
                       out, err);
            goto out;
        }
        required |= runtime_capability(rkey);
    }
    if (required) {
        int got = by_capabilities(s, required, constrained, out, err);
        if (got != 0) {
            rc = got < 0 ? -1 : 0;
            goto out;
        }
    }
    rc = build(s, s->default_image, "default", required, constrained, out, err);
out:
    free(tkey);
    free(rkey);
    return rc;
}

int lcs_select_for_runtime(const lcs_selector *s, const char *runtime, lcs_selection *out,
                           lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no output given");
    memset(out, 0, sizeof *out);
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "no selector given");
    char *rkey = lcs_normalize_key(runtime ? runtime : "");
    if (!rkey)
        return lcs_fail_nomem(err);
    int rc = -1;
    if (!*rkey) {
        lcs_fail(err, LCS_E_INVALID, "runtime must not be empty");
        goto out;
    }
    lcs_capset req = runtime_capability(rkey);
    const map_entry *re = map_find(&s->runtimes, rkey);
    char reason[512];
    if (re) {
        snprintf(reason, sizeof reason, "runtime_mapping:%s", rkey);
        rc = build(s, re->image, reason, req, false, out, err);
        goto out;
    }
    if (req) {
        int got = by_capabilities(s, req, false, out, err);
        if (got != 0) {
            rc = got < 0 ? -1 : 0;
            goto out;
        }
    }
    rc = build(s, s->default_image, "default", req, false, out, err);
out:
    free(rkey);
    return rc;
}

int lcs_select_for_capabilities(const lcs_selector *s, lcs_capset capabilities,
                                lcs_selection *out, lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no output given");
    memset(out, 0, sizeof *out);
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "no selector given");
    if (check_caps_arg(capabilities, err) != 0)
        return -1;
    if (capabilities) {
        int got = by_capabilities(s, capabilities, true, out, err);
        if (got != 0)
            return got < 0 ? -1 : 0;
    }
    return build(s, s->default_image, "default", capabilities, capabilities != 0, out, err);
}

/* ---------------------------------------------------------------- JSON */

static int json_map(json_t *obj, const char *what, lcs_mapping **out, size_t *n, lcs_error *err)
{
    *out = NULL;
    *n = 0;
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return lcs_fail(err, LCS_E_INVALID, "selection config: %s must be an object", what);
    *out = calloc(json_object_size(obj) + 1, sizeof **out);
    if (!*out)
        return lcs_fail_nomem(err);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!json_is_string(v))
            return lcs_fail(err, LCS_E_INVALID, "selection config: %s.%s must be a string", what,
                            k);
        (*out)[*n].key = k;
        (*out)[(*n)++].image = json_string_value(v);
    }
    return 0;
}

static int json_strs(json_t *arr, const char *what, const char ***out, size_t *n, lcs_error *err)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return lcs_fail(err, LCS_E_INVALID, "selection config: %s must be an array", what);
    *out = calloc(json_array_size(arr) + 1, sizeof **out);
    if (!*out)
        return lcs_fail_nomem(err);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return lcs_fail(err, LCS_E_INVALID, "selection config: %s[%zu] must be a string",
                            what, i);
        (*out)[(*n)++] = json_string_value(v);
    }
    return 0;
}

lcs_selector *lcs_selector_new_json(const lcs_registry *reg, const char *config_json,
                                    lcs_error *err)
{
    if (!config_json || !*config_json)
        return lcs_selector_new(reg, NULL, err);
    json_error_t je;
    json_t *root = json_loads(config_json, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        lcs_fail(err, LCS_E_PARSE, "selection config: JSON syntax error at line %d, column %d: %s",
                 je.line, je.column, je.text);
        if (err) {
            err->line = je.line;
            err->column = je.column;
        }
        return NULL;
    }
    lcs_selector *s = NULL;
    lcs_selection_config c;
    lcs_selection_config_init(&c);
    lcs_mapping *tasks = NULL, *rts = NULL;
    const char **restricted = NULL, **full = NULL;
    static const char *const keys[] = {"default_image",       "prefer_local",
                                       "prefer_task_images",  "task_overrides",
                                       "runtime_overrides",   "restricted_patterns",
                                       "full_access_patterns", NULL};
    if (!json_is_object(root)) {
        lcs_fail(err, LCS_E_INVALID, "selection config must be a JSON object");
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        bool ok = false;
        for (const char *const *p = keys; *p; p++)
            ok = ok || strcmp(*p, k) == 0;
        if (!ok) {
            lcs_fail(err, LCS_E_INVALID, "selection config: unknown key '%s'", k);
            goto out;
        }
    }
    v = json_object_get(root, "default_image");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            lcs_fail(err, LCS_E_INVALID, "selection config: default_image must be a string");
            goto out;
        }
        c.default_image = json_string_value(v);
    }
    static const char *const bools[] = {"prefer_local", "prefer_task_images"};
    bool *targets[] = {&c.prefer_local, &c.prefer_task_images};
    for (int i = 0; i < 2; i++) {
        v = json_object_get(root, bools[i]);
        if (!v)
            continue;
        if (!json_is_boolean(v)) {
            lcs_fail(err, LCS_E_INVALID, "selection config: %s must be true or false", bools[i]);
            goto out;
        }
        *targets[i] = json_is_true(v);
    }
    if (json_map(json_object_get(root, "task_overrides"), "task_overrides", &tasks,
                 &c.n_task_overrides, err) != 0 ||
        json_map(json_object_get(root, "runtime_overrides"), "runtime_overrides", &rts,
                 &c.n_runtime_overrides, err) != 0 ||
        json_strs(json_object_get(root, "restricted_patterns"), "restricted_patterns",
                  &restricted, &c.n_restricted_patterns, err) != 0 ||
        json_strs(json_object_get(root, "full_access_patterns"), "full_access_patterns", &full,
                  &c.n_full_access_patterns, err) != 0)
        goto out;
    c.task_overrides = tasks;
    c.runtime_overrides = rts;
    c.restricted_patterns = restricted;
    c.full_access_patterns = full;
    s = lcs_selector_new(reg, &c, err);
out:
    free(tasks);
    free(rts);
    free(restricted);
    free(full);
    json_decref(root);
    return s;
}

char *lcs_selector_config_json(const lcs_selector *s, lcs_error *err)
{
    if (!s) {
        lcs_fail(err, LCS_E_INVALID, "no selector given");
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "default_image", json_string(s->default_image));
    json_object_set_new(o, "prefer_local", json_boolean(s->prefer_local));
    json_object_set_new(o, "prefer_task_images", json_boolean(s->prefer_task_images));
    json_t *t = json_object(), *r = json_object(), *rp = json_array(), *fp = json_array();
    for (size_t i = 0; i < s->tasks.n; i++)
        if (s->tasks.v[i].trusted)
            json_object_set_new(t, s->tasks.v[i].key, json_string(s->tasks.v[i].image));
    for (size_t i = 0; i < s->runtimes.n; i++)
        if (s->runtimes.v[i].trusted)
            json_object_set_new(r, s->runtimes.v[i].key, json_string(s->runtimes.v[i].image));
    for (size_t i = 0; i < s->n_restricted; i++)
        json_array_append_new(rp, json_string(s->restricted[i]));
    for (size_t i = 0; i < s->n_full; i++)
        json_array_append_new(fp, json_string(s->full[i]));
    json_object_set_new(o, "task_overrides", t);
    json_object_set_new(o, "runtime_overrides", r);
    json_object_set_new(o, "restricted_patterns", rp);
    json_object_set_new(o, "full_access_patterns", fp);
    char *out = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    if (!out)
        lcs_fail_nomem(err);
    return out;
}

char *lcs_selection_tables_json(lcs_error *err)
{
    json_t *o = json_object(), *tc = json_object(), *ti = json_object(), *ri = json_object();
    for (size_t i = 0; tc && i < N(task_caps); i++)
        json_object_set_new(tc, task_caps[i].task, lcs_capset_to_jansson(task_caps[i].caps));
    for (size_t i = 0; ti && i < N(task_images); i++)
        json_object_set_new(ti, task_images[i].key, json_string(task_images[i].image));
    for (size_t i = 0; ri && i < N(runtime_images); i++)
        json_object_set_new(ri, runtime_images[i].key, json_string(runtime_images[i].image));
    json_object_set_new(o, "task_capabilities", tc);
    json_object_set_new(o, "task_images", ti);
    json_object_set_new(o, "runtime_images", ri);
    char *out = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    if (!out)
        lcs_fail_nomem(err);
    return out;
}
