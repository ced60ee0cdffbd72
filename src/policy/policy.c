/*
 * policy.c - the one value that says what a sandbox may do.
 *
 * Inputs: an image's manifest (limits, environment, user, working
 * directory, default access mode) and the caller's overrides. Output: an
 * lcs_policy that every backend renders. All defaults that are not in the
 * manifest live here. Overrides may lower any limit; raising one above the
 * image's manifest needs allow_above_limits, so a typo cannot hand a sandbox
 * ten times what its image was sized for.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image.h"
#include "policy/policy_json.h"
#include "util/error.h"
#include "util/str.h"
#include "util/sandbox_paths.h"

#define SANDBOX_UID 1000u

/* The environment every sandbox starts from; the manifest and the caller
 * add to it. Nothing is taken from the host. */
static const char *const base_env[] = {
    "HOME=" LCS_SANDBOX_HOME,
    "LOGNAME=sandbox",
    "PATH=" LCS_SANDBOX_HOME "/.local/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
    "SHELL=/bin/sh",
    "TMPDIR=/tmp",
    "USER=sandbox",
};

void lcs_policy_overrides_init(lcs_policy_overrides *o)
{
    memset(o, 0, sizeof *o);
    o->access_mode = -1;
    o->network = -1;
}

void lcs_policy_clear(lcs_policy *p)
{
    if (!p)
        return;
    free(p->image);
    if (p->env)
        for (char **e = p->env; *e; e++)
            free(*e);
    free(p->env);
    free(p->cwd);
    free(p->user);
    free(p->input_dir);
    free(p->output_dir);
    memset(p, 0, sizeof *p);
}

static bool valid_env_entry(const char *e)
{
    const char *eq = strchr(e, '=');
    if (!eq || eq == e)
        return false;
    if (!(isalpha((unsigned char)e[0]) || e[0] == '_'))
        return false;
    for (const char *c = e; c < eq; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return false;
    return true;
}

/* Set NAME=VALUE in a NULL-terminated vector, replacing an existing NAME. */
static int env_set(char ***env, size_t *n, const char *entry, lcs_error *err)
{
    size_t name_len = (size_t)(strchr(entry, '=') - entry);
    char *copy = strdup(entry);
    if (!copy)
        return lcs_fail_nomem(err);
    for (size_t i = 0; i < *n; i++)
        if (strncmp((*env)[i], entry, name_len + 1) == 0) {
            free((*env)[i]);
            (*env)[i] = copy;
            return 0;
        }
    char **v = realloc(*env, (*n + 2) * sizeof *v);
    if (!v) {
        free(copy);
        return lcs_fail_nomem(err);
    }
    v[(*n)++] = copy;
    v[*n] = NULL;
    *env = v;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool clean_abs_path(const char *p)
{
    if (p[0] != '/')
        return false;
    for (const char *c = p; *c; c++)
        if (c[0] == '/' && c[1] == '.' && (c[2] == '/' || c[2] == '\0' ||
                                           (c[2] == '.' && (c[3] == '/' || c[3] == '\0'))))
            return false;
    return true;
}

static int host_dir(const char *what, const char *path, char **out, lcs_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return lcs_fail(err, LCS_E_INVALID, "%s directory %s does not exist", what, path);
        return lcs_fail_errno(err, "%s directory %s", what, path);
    }
    if (!S_ISDIR(st.st_mode))
        return lcs_fail(err, LCS_E_INVALID, "%s %s is not a directory", what, path);
    char *real = realpath(path, NULL);
    if (!real)
        return lcs_fail_errno(err, "cannot resolve %s directory %s", what, path);
    *out = real;
    return 0;
}

/* A limit the caller may lower freely but raise only explicitly. */
static int check_limit(const char *what, double requested, double image_limit,
                       const char *unit, bool allow_above, const char *image, lcs_error *err)
{
    if (requested > image_limit && !allow_above)
        return lcs_fail(err, LCS_E_DENIED,
                        "%s %g%s is above the limit of image %s (%g%s); raising a limit must be "
                        "explicit: pass allow_above_limits (CLI: --allow-above-limits)",
                        what, requested, unit, image, image_limit, unit);
    return 0;
}

int lcs_policy_compute(const lcs_manifest *m, const lcs_policy_overrides *o, lcs_policy *out,
                       lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no policy output given");
    memset(out, 0, sizeof *out);
    if (!m)
        return lcs_fail(err, LCS_E_INVALID, "a policy needs the image's manifest");
    if (lcs_manifest_validate(m, err) != 0)
        return -1;
    lcs_policy_overrides none;
    if (!o) {
        lcs_policy_overrides_init(&none);
        o = &none;
    }
    lcs_policy *p = out;
    if (!(p->image = lcs_manifest_full_name(m)))
        return lcs_fail_nomem(err);
    const char *img = p->image;

    if (o->access_mode < -1 || o->access_mode > LCS_ACCESS_FULL)
        goto bad_mode;
    p->access_mode = o->access_mode >= 0 ? (lcs_access_mode)o->access_mode
                                         : m->default_access_mode;
    if (o->network < -1 || o->network > LCS_NETWORK_FULL) {
        lcs_fail(err, LCS_E_INVALID, "unknown network mode %d (none or full)", o->network);
        goto fail;
    }
    p->network = o->network >= 0 ? (lcs_network)o->network
                                 : (p->access_mode == LCS_ACCESS_FULL ? LCS_NETWORK_FULL
                                                                      : LCS_NETWORK_NONE);
    p->writable_root = p->access_mode == LCS_ACCESS_FULL;

    /* Limits: nonsense is an error, above the image needs consent. */
    const lcs_resource_limits *l = &m->limits;
    if (!(o->cpus >= 0) || !isfinite(o->cpus) || !(o->timeout_seconds >= 0) ||
        !isfinite(o->timeout_seconds)) {
        lcs_fail(err, LCS_E_INVALID, "cpus and timeout must be positive numbers");
        goto fail;
    }
    if (o->memory_mb && (o->memory_mb < 16 || o->memory_mb > 1024ULL * 1024)) {
        lcs_fail(err, LCS_E_INVALID, "memory %llu MiB is outside 16 MiB..1 TiB",
                 (unsigned long long)o->memory_mb);
        goto fail;
    }
    if (o->cpus && (o->cpus < 0.01 || o->cpus > 1024)) {
        lcs_fail(err, LCS_E_INVALID, "cpus %g is outside 0.01..1024", o->cpus);
        goto fail;
    }
    if (o->pids && o->pids > 65536) {
        lcs_fail(err, LCS_E_INVALID, "pids limit %u is above 65536", o->pids);
        goto fail;
    }
    if (o->timeout_seconds && (o->timeout_seconds < 0.01 || o->timeout_seconds > 7 * 86400)) {
        lcs_fail(err, LCS_E_INVALID, "timeout %g s is outside 0.01 s..7 days", o->timeout_seconds);
        goto fail;
    }
    if (o->output_bytes && (o->output_bytes < 1024 || o->output_bytes > (1ULL << 30))) {
        lcs_fail(err, LCS_E_INVALID, "output limit %llu bytes is outside 1 KiB..1 GiB",
                 (unsigned long long)o->output_bytes);
        goto fail;
    }
    if (o->file_size_mb > 1024ULL * 1024 || o->tmp_mb > 1024ULL * 1024 || o->open_files > 1048576) {
        lcs_fail(err, LCS_E_INVALID, "file size, /tmp size or open files limit is absurd");
        goto fail;
    }
    if (o->disk_mb && (o->disk_mb < 4 || o->disk_mb > 1024ULL * 1024)) {
        lcs_fail(err, LCS_E_INVALID, "disk (writable layer) size %llu MiB is outside 4 MiB..1 TiB",
                 (unsigned long long)o->disk_mb);
        goto fail;
    }
    if (check_limit("memory", (double)o->memory_mb, (double)l->memory_mb, " MiB",
                    o->allow_above_limits, img, err) ||
        check_limit("cpus", o->cpus, l->cpu_cores, "", o->allow_above_limits, img, err) ||
        check_limit("pids", o->pids, l->max_processes, "", o->allow_above_limits, img, err) ||
        check_limit("timeout", o->timeout_seconds, l->timeout_seconds, " s",
                    o->allow_above_limits, img, err))
        goto fail;
    p->memory_mb = o->memory_mb ? o->memory_mb : l->memory_mb;
    p->cpus = o->cpus ? o->cpus : l->cpu_cores;
    p->pids = o->pids ? o->pids : l->max_processes;
    p->timeout_seconds = o->timeout_seconds ? o->timeout_seconds : l->timeout_seconds;
    p->output_bytes = o->output_bytes ? o->output_bytes : LCS_POLICY_DEFAULT_OUTPUT_BYTES;
    p->file_size_mb = o->file_size_mb ? o->file_size_mb : LCS_POLICY_DEFAULT_FILE_SIZE_MB;
    p->open_files = o->open_files ? o->open_files : LCS_POLICY_DEFAULT_OPEN_FILES;
    p->tmp_mb = o->tmp_mb ? o->tmp_mb : LCS_POLICY_DEFAULT_TMP_MB;
    p->disk_mb = o->disk_mb ? o->disk_mb : LCS_POLICY_DEFAULT_DISK_MB;

    /* Identity: the native runtime maps exactly one sandbox user. */
    if (strcmp(m->user, "sandbox") != 0 && strcmp(m->user, "1000") != 0) {
        lcs_fail(err, LCS_E_UNSUPPORTED,
                 "image %s asks to run as user '%s'; sandboxes run as user sandbox (uid 1000)",
                 img, m->user);
        goto fail;
    }
    p->uid = p->gid = SANDBOX_UID;
    if (!(p->user = strdup("sandbox")))
        goto nomem;

    const char *cwd = o->cwd ? o->cwd : m->working_directory;
    if (!clean_abs_path(cwd)) {
        lcs_fail(err, LCS_E_INVALID,
                 "working directory '%s' must be an absolute path without '.' or '..'", cwd);
        goto fail;
    }
    if (!(p->cwd = strdup(cwd)))
        goto nomem;

    /* Environment: base, then the manifest, then the caller. */
    size_t n = 0;
    for (size_t i = 0; i < sizeof base_env / sizeof base_env[0]; i++)
        if (env_set(&p->env, &n, base_env[i], err))
            goto fail;
    for (size_t i = 0; i < m->n_environment; i++) {
        char *e = NULL;
        if (asprintf(&e, "%s=%s", m->environment[i].name, m->environment[i].value) < 0)
            goto nomem;
        int rc = env_set(&p->env, &n, e, err);
        free(e);
        if (rc)
            goto fail;
    }
    for (const char *const *e = o->env; e && *e; e++) {
        if (!valid_env_entry(*e)) {
            lcs_fail(err, LCS_E_INVALID,
                     "environment entry '%s' is not NAME=VALUE with a valid NAME", *e);
            goto fail;
        }
        if (env_set(&p->env, &n, *e, err))
            goto fail;
    }
    qsort(p->env, n, sizeof *p->env, cmp_str);

    if (o->input_dir && host_dir("input", o->input_dir, &p->input_dir, err))
        goto fail;
    if (o->output_dir && host_dir("output", o->output_dir, &p->output_dir, err))
        goto fail;
    p->allow_degraded = o->allow_degraded;
    return 0;

bad_mode:
    lcs_fail(err, LCS_E_INVALID, "unknown access mode %d (restricted or full)", o->access_mode);
    goto fail;
nomem:
    lcs_fail_nomem(err);
fail:
    lcs_policy_clear(p);
    return -1;
}

json_t *lcs_policy_json(const lcs_policy *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "image", json_string(p->image));
    json_object_set_new(o, "access_mode", json_string(lcs_access_mode_name(p->access_mode)));
    json_object_set_new(o, "network", json_string(p->network == LCS_NETWORK_FULL ? "full" : "none"));
    json_object_set_new(o, "writable_root", json_boolean(p->writable_root));
    json_object_set_new(o, "memory_mb", json_integer((json_int_t)p->memory_mb));
    json_object_set_new(o, "cpus", json_real(p->cpus));
    json_object_set_new(o, "pids", json_integer(p->pids));
    json_object_set_new(o, "timeout_seconds", json_real(p->timeout_seconds));
    json_object_set_new(o, "output_bytes", json_integer((json_int_t)p->output_bytes));
    json_object_set_new(o, "file_size_mb", json_integer((json_int_t)p->file_size_mb));
    json_object_set_new(o, "open_files", json_integer(p->open_files));
    json_object_set_new(o, "tmp_mb", json_integer((json_int_t)p->tmp_mb));
    json_object_set_new(o, "disk_mb", json_integer((json_int_t)p->disk_mb));
    json_t *env = json_array();
    for (char **e = p->env; e && *e; e++)
        json_array_append_new(env, json_string(*e));
    json_object_set_new(o, "env", env);
    json_object_set_new(o, "cwd", json_string(p->cwd));
    json_object_set_new(o, "user", json_string(p->user));
    json_object_set_new(o, "uid", json_integer(p->uid));
    json_object_set_new(o, "input_dir", p->input_dir ? json_string(p->input_dir) : json_null());
    json_object_set_new(o, "output_dir", p->output_dir ? json_string(p->output_dir) : json_null());
    json_object_set_new(o, "allow_degraded", json_boolean(p->allow_degraded));
    return o;
}

char *lcs_policy_to_json(const lcs_policy *p, lcs_error *err)
{
    if (!p || !p->image) {
        lcs_fail(err, LCS_E_INVALID, "no policy given");
        return NULL;
    }
    json_t *o = lcs_policy_json(p);
    char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}
