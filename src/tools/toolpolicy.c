/*
 * toolpolicy.c - which agent tools may run in which access mode.
 *
 * Upstream returned "allowed" for every tool in FULL mode (bypassing the
 * deny list its own configuration documents as absolute) and never checked
 * the state and info tools. Here a policy has, per mode, an allow list and a
 * deny list of fnmatch patterns, plus a deny list for every mode; a tool runs
 * only if no deny pattern matches and an allow pattern does, whatever the
 * mode. The tool layer (tools.c) calls lcs_tool_policy_check for every tool.
 */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/io.h"
#include "tools/common.h"
#include "tools/internal.h"

typedef struct patlist {
    char **v;
    size_t n;
} patlist;

struct lcs_tool_policy {
    patlist denied;     /* every mode */
    patlist allowed[2]; /* per lcs_access_mode */
    patlist mode_denied[2];
};

static const char *const default_denied[] = {"install_system_package", "sudo_execute",
                                             "network_request", "raw_socket"};

static void pl_clear(patlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int pl_set(patlist *l, const char *const *names, size_t n, lcs_error *err)
{
    patlist nl = {calloc(n ? n : 1, sizeof(char *)), 0};
    if (!nl.v)
        return lcs_fail_nomem(err);
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i]) {
            pl_clear(&nl);
            return lcs_fail(err, LCS_E_INVALID,
                            "tool policy: an empty tool name in a list; use a name or a "
                            "pattern such as \"*\"");
        }
        if (!(nl.v[nl.n] = strdup(names[i]))) {
            pl_clear(&nl);
            return lcs_fail_nomem(err);
        }
        nl.n++;
    }
    pl_clear(l);
    *l = nl;
    return 0;
}

static const char *pl_match(const patlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], name, 0) == 0)
            return l->v[i];
    return NULL;
}

lcs_tool_policy *lcs_tool_policy_new(lcs_error *err)
{
    lcs_tool_policy *p = calloc(1, sizeof *p);
    if (!p) {
        lcs_fail_nomem(err);
        return NULL;
    }
    const char *names[LCS_TOOL_COUNT];
    for (size_t i = 0; i < LCS_TOOL_COUNT; i++)
        names[i] = lcs_tool_name(i);
    const char *all[] = {"*"};
    if (pl_set(&p->denied, default_denied, sizeof default_denied / sizeof *default_denied, err) ||
        pl_set(&p->allowed[LCS_ACCESS_RESTRICTED], names, LCS_TOOL_COUNT, err) ||
        pl_set(&p->allowed[LCS_ACCESS_FULL], all, 1, err) ||
        pl_set(&p->mode_denied[0], NULL, 0, err) || pl_set(&p->mode_denied[1], NULL, 0, err)) {
        lcs_tool_policy_free(p);
        return NULL;
    }
    return p;
}

void lcs_tool_policy_free(lcs_tool_policy *p)
{
    if (!p)
        return;
    pl_clear(&p->denied);
    for (int m = 0; m < 2; m++) {
        pl_clear(&p->allowed[m]);
        pl_clear(&p->mode_denied[m]);
    }
    free(p);
}

lcs_tool_policy *lcs_tool_policy_copy(const lcs_tool_policy *p, lcs_error *err)
{
    if (!p)
        return lcs_tool_policy_new(err);
    lcs_tool_policy *c = calloc(1, sizeof *c);
    if (!c) {
        lcs_fail_nomem(err);
        return NULL;
    }
    int rc = pl_set(&c->denied, (const char *const *)p->denied.v, p->denied.n, err);
    for (int m = 0; m < 2 && !rc; m++)
        rc = pl_set(&c->allowed[m], (const char *const *)p->allowed[m].v, p->allowed[m].n, err) ||
             pl_set(&c->mode_denied[m], (const char *const *)p->mode_denied[m].v,
                    p->mode_denied[m].n, err);
    if (rc) {
        lcs_tool_policy_free(c);
        return NULL;
    }
    return c;
}

static int check_mode(lcs_access_mode m, lcs_error *err)
{
    if ((unsigned)m > 1)
        return lcs_fail(err, LCS_E_INVALID, "tool policy: unknown access mode %d", (int)m);
    return 0;
}

int lcs_tool_policy_set_allowed(lcs_tool_policy *p, lcs_access_mode m, const char *const *names,
                                size_t n, lcs_error *err)
{
    if (!p || check_mode(m, err))
        return p ? -1 : lcs_fail(err, LCS_E_INVALID, "tool policy: no policy given");
    return pl_set(&p->allowed[m], names, n, err);
}

int lcs_tool_policy_set_denied(lcs_tool_policy *p, lcs_access_mode m, const char *const *names,
                               size_t n, lcs_error *err)
{
    if (!p || check_mode(m, err))
        return p ? -1 : lcs_fail(err, LCS_E_INVALID, "tool policy: no policy given");
    return pl_set(&p->mode_denied[m], names, n, err);
}

bool lcs_tool_policy_allows(const lcs_tool_policy *p, lcs_access_mode m, const char *tool)
{
    if (!p || (unsigned)m > 1 || !tool)
        return false;
    return !pl_match(&p->denied, tool) && !pl_match(&p->mode_denied[m], tool) &&
           pl_match(&p->allowed[m], tool);
}

int lcs_tool_policy_check(const lcs_tool_policy *p, lcs_access_mode m, const char *tool,
                          lcs_error *err)
{
    if (!p)
        return lcs_fail(err, LCS_E_INVALID, "tool policy: no policy given");
    if (check_mode(m, err))
        return -1;
    if (!tool)
        tool = "";
    const char *mode = lcs_access_mode_name(m);
    const char *pat;
    if ((pat = pl_match(&p->denied, tool)))
        return lcs_fail(err, LCS_E_DENIED,
                        "Tool '%s' is not allowed in %s sandbox mode. (It matches '%s' in the "
                        "deny list for every mode; remove it there in the tool policy to allow "
                        "it.)",
                        tool, mode, pat);
    if ((pat = pl_match(&p->mode_denied[m], tool)))
        return lcs_fail(err, LCS_E_DENIED,
                        "Tool '%s' is not allowed in %s sandbox mode. (It matches '%s' in the "
                        "%s deny list; remove it there in the tool policy to allow it.)",
                        tool, mode, pat, mode);
    if (!pl_match(&p->allowed[m], tool))
        return lcs_fail(err, LCS_E_DENIED,
                        "Tool '%s' is not allowed in %s sandbox mode. (It is not in the %s allow "
                        "list; add it there in the tool policy to allow it.)",
                        tool, mode, mode);
    return 0;
}

/* ---- JSON */

static int list_from_json(const json_t *a, const char *where, patlist *out, lcs_error *err)
{
    if (!json_is_array(a))
        return lcs_fail(err, LCS_E_VALIDATION,
                        "tool policy: %s must be an array of tool names or patterns", where);
    size_t n = json_array_size(a);
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return lcs_fail_nomem(err);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || !*json_string_value(v)) {
            free(names);
            return lcs_fail(err, LCS_E_VALIDATION,
                            "tool policy: %s[%zu] must be a non-empty string (a tool name or an "
                            "fnmatch pattern)",
                            where, i);
        }
        names[i] = json_string_value(v);
    }
    int rc = pl_set(out, names, n, err);
    free(names);
    return rc;
}

static lcs_tool_policy *from_value(json_t *root, lcs_error *err)
{
    lcs_tool_policy *p = NULL;
    if (!json_is_object(root)) {
        lcs_fail(err, LCS_E_VALIDATION,
                 "tool policy: the document must be an object with \"denied\", \"restricted\" "
                 "and/or \"full\"");
        goto out;
    }
    if (!(p = lcs_tool_policy_new(err)))
        goto out;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "denied") == 0) {
            if (list_from_json(v, "\"denied\"", &p->denied, err))
                goto bad;
            continue;
        }
        lcs_access_mode m;
        if (strcmp(key, "restricted") == 0)
            m = LCS_ACCESS_RESTRICTED;
        else if (strcmp(key, "full") == 0)
            m = LCS_ACCESS_FULL;
        else {
            lcs_fail(err, LCS_E_VALIDATION,
                     "tool policy: unknown key \"%s\" (known: denied, restricted, full)", key);
            goto bad;
        }
        if (!json_is_object(v)) {
            lcs_fail(err, LCS_E_VALIDATION,
                     "tool policy: \"%s\" must be an object with \"allowed\" and/or \"denied\"",
                     key);
            goto bad;
        }
        const char *k2;
        json_t *v2;
        json_object_foreach(v, k2, v2)
        {
            char where[64];
            snprintf(where, sizeof where, "\"%s\".\"%s\"", key, k2);
            if (strcmp(k2, "allowed") == 0) {
                if (list_from_json(v2, where, &p->allowed[m], err))
                    goto bad;
            } else if (strcmp(k2, "denied") == 0) {
                if (list_from_json(v2, where, &p->mode_denied[m], err))
                    goto bad;
            } else {
                lcs_fail(err, LCS_E_VALIDATION,
                         "tool policy: unknown key \"%s\" in \"%s\" (known: allowed, denied)", k2,
                         key);
                goto bad;
            }
        }
    }
    goto out;
bad:
    lcs_tool_policy_free(p);
    p = NULL;
out:
    return p;
}

lcs_tool_policy *lcs_tool_policy_from_json(const char *text, lcs_error *err)
{
    json_error_t je;
    json_t *root = json_loads(text ? text : "", 0, &je);
    if (!root) {
        if (err) {
            lcs_fail(err, LCS_E_PARSE, "tool policy: JSON syntax error at line %d, column %d: %s",
                     je.line, je.column, je.text);
            err->line = je.line;
            err->column = je.column;
        }
        return NULL;
    }
    lcs_tool_policy *p = from_value(root, err);
    json_decref(root);
    return p;
}

lcs_tool_policy *lcs_tool_policy_load_file(const char *path, lcs_error *err)
{
    if (!path) {
        lcs_fail(err, LCS_E_INVALID, "tool policy: no file given");
        return NULL;
    }
    int fd = lcs_open_input_file(path, "tool policy", err);
    if (fd < 0)
        return NULL;
    json_error_t je;
    json_t *root = json_loadfd(fd, 0, &je);
    close(fd);
    if (!root) {
        if (err) {
            lcs_fail(err, LCS_E_PARSE,
                     "tool policy file %s: JSON syntax error at line %d, column %d: %s", path,
                     je.line, je.column, je.text);
            err->line = je.line;
            err->column = je.column;
        }
        return NULL;
    }
    lcs_tool_policy *p = from_value(root, err);
    json_decref(root);
    if (!p)
        lcs_error_prefix(err, "%s: ", path);
    return p;
}

static json_t *pl_json(const patlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

char *lcs_tool_policy_to_json(const lcs_tool_policy *p, lcs_error *err)
{
    if (!p) {
        lcs_fail(err, LCS_E_INVALID, "tool policy: no policy given");
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "denied", pl_json(&p->denied));
    for (int m = 0; m < 2; m++) {
        json_t *mo = json_object();
        json_object_set_new(mo, "allowed", pl_json(&p->allowed[m]));
        json_object_set_new(mo, "denied", pl_json(&p->mode_denied[m]));
        json_object_set_new(o, lcs_access_mode_name((lcs_access_mode)m), mo);
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}
