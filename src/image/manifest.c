/*
 * manifest.c - capability manifests: parse, validate, serialise, copy.
 *
 * A manifest is the contract of an image (what it provides, how it may run).
 * Two JSON schemas are accepted and normalised into one lcs_manifest:
 *   - the shipped schema (container_images/.../capabilities.json):
 *     parent_image, resource_limits.{memory_mb,cpu_cores,timeout_seconds,
 *     max_processes};
 *   - the upstream Python schema: base_image, resource_limits.{memory_limit
 *     ("512m"), cpu_limit, pids_limit, timeout_seconds}, entrypoint,
 *     build_date, vcs_ref.
 * Nothing is silently dropped or defaulted away: an unknown key, an unknown
 * capability, a bad tier or access mode is an error, and every problem of a
 * manifest is reported at once. Optional fields that are absent take the
 * documented defaults (limits of the tier, user "sandbox", working directory
 * /home/sandbox/work), and serialisation shows them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/io.h"
#include "image/builtin.h"
#include "image/image.h"
#include "util/error.h"
#include "util/str.h"
#include "util/sandbox_paths.h"

#define DEFAULT_USER "sandbox"

/* Bounds beyond which a limit is a mistake rather than a choice. */
#define MEMORY_MB_MIN 16ULL
#define MEMORY_MB_MAX (1024ULL * 1024ULL) /* 1 TiB */
#define CPU_MIN 0.01
#define CPU_MAX 1024.0
#define TIMEOUT_MAX (7U * 24U * 3600U) /* one week */
#define PROCESSES_MAX 65536U

static const char *const known_keys[] = {
    "name",          "version", "tier",           "description", "parent_image",
    "base_image",    "capabilities", "tools",     "default_access_mode",
    "resource_limits", "environment", "user",     "working_directory",
    "entrypoint",    "build_date", "vcs_ref",     NULL,
};

static const char *const limit_keys[] = {
    "memory_mb", "memory_limit", "cpu_cores", "cpu_limit",
    "timeout_seconds", "max_processes", "pids_limit", NULL,
};

static bool in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(k, *list) == 0)
            return true;
    return false;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

void lcs_manifest_free(lcs_manifest *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->version);
    free(m->description);
    free(m->parent_image);
    for (size_t i = 0; i < m->n_tools; i++)
        free(m->tools[i]);
    free(m->tools);
    for (size_t i = 0; i < m->n_environment; i++) {
        free(m->environment[i].name);
        free(m->environment[i].value);
    }
    free(m->environment);
    free(m->user);
    free(m->working_directory);
    free(m->entrypoint);
    free(m->build_date);
    free(m->vcs_ref);
    free(m);
}

/* ------------------------------------------------------------ semantics */

/* "1.0", "1.0.0", "2.3.4-rc1": two or three numeric parts, optional
 * pre-release suffix. Also a valid image tag. */
bool lcs_valid_version(const char *v)
{
    int parts = 0;
    const char *p = v;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
        parts++;
        if (*p != '.')
            break;
        p++;
    }
    if (parts < 2 || parts > 3)
        return false;
    if (*p == '\0')
        return strlen(v) <= 128;
    if (*p != '-' || p[1] == '\0')
        return false;
    for (p++; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
            return false;
    return strlen(v) <= 128;
}

static bool valid_env_name(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static bool valid_user(const char *s)
{
    if (!*s || strlen(s) > 32)
        return false;
    bool numeric = true;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            numeric = false;
    if (numeric)
        return true;
    if (!(islower((unsigned char)*s) || *s == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

static bool is_root_user(const char *s)
{
    if (strcmp(s, "root") == 0)
        return true;
    /* Any all-digit spelling of uid 0 ("0", "00"). */
    for (const char *p = s; *p; p++)
        if (*p != '0')
            return false;
    return *s != '\0';
}

static bool valid_abs_path(const char *s)
{
    if (s[0] != '/' || strlen(s) > 1024)
        return false;
    /* Reject "..", "." and empty components: the path is used inside the
     * sandbox root and must name one place without resolution tricks. */
    const char *p = s + 1;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 && e)
            return false;
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!e)
            break;
        p = e + 1;
    }
    return true;
}

static bool valid_image_ref_with_tag(const char *ref)
{
    lcs_image_ref r;
    if (lcs_image_ref_parse(ref, &r, NULL) != 0)
        return false;
    bool ok = r.tag != NULL || r.digest != NULL;
    lcs_image_ref_clear(&r);
    return ok;
}

/* The rules a normalised manifest must satisfy; adds one problem per
 * broken rule. Fields that are NULL here were already reported by the
 * parser (or are optional). */
static void check_semantics(const lcs_manifest *m, lcs_problems *p)
{
    if (m->name) {
        if (!*m->name)
            lcs_problem(p, "name: must not be empty");
        else if (!lcs_valid_repository(m->name))
            lcs_problem(p, "name: '%s' is not a valid image name (lower-case letters, digits, "
                           "'.', '_', '-', components joined by '/')",
                        m->name);
    }
    if (m->version) {
        if (!*m->version)
            lcs_problem(p, "version: must not be empty");
        else if (!lcs_valid_version(m->version))
            lcs_problem(p, "version: '%s' is not a version like 1.0 or 1.0.0 (optionally -suffix)",
                        m->version);
    }
    if ((unsigned)m->tier > LCS_TIER_TASK)
        lcs_problem(p, "tier: out of range (%d)", (int)m->tier);
    if ((unsigned)m->default_access_mode > LCS_ACCESS_FULL)
        lcs_problem(p, "default_access_mode: out of range (%d)", (int)m->default_access_mode);
    if (m->capabilities & ~((1u << LCS_CAP_COUNT) - 1))
        lcs_problem(p, "capabilities: unknown capability bits 0x%x",
                    (unsigned)(m->capabilities & ~((1u << LCS_CAP_COUNT) - 1)));
    if (m->tier == LCS_TIER_BASE && m->parent_image)
        lcs_problem(p, "parent_image: a base-tier image has no parent (got '%s'); base images are "
                       "bootstrapped from a distribution",
                    m->parent_image);
    if (m->tier != LCS_TIER_BASE && (unsigned)m->tier <= LCS_TIER_TASK && !m->parent_image)
        lcs_problem(p, "parent_image: a %s-tier image must name its parent image",
                    lcs_tier_name(m->tier));
    if (m->parent_image && !valid_image_ref_with_tag(m->parent_image))
        lcs_problem(p, "parent_image: '%s' is not an image reference with a tag (name:tag)",
                    m->parent_image);
    if (m->name && m->version && m->parent_image) {
        lcs_image_ref r;
        if (lcs_image_ref_parse(m->parent_image, &r, NULL) == 0) {
            if (strcmp(r.repository, m->name) == 0 && r.tag && strcmp(r.tag, m->version) == 0)
                lcs_problem(p, "parent_image: an image cannot be its own parent");
            lcs_image_ref_clear(&r);
        }
    }
    const lcs_resource_limits *l = &m->limits;
    if (l->memory_mb < MEMORY_MB_MIN || l->memory_mb > MEMORY_MB_MAX)
        lcs_problem(p, "resource_limits.memory_mb: %llu MiB is outside %llu..%llu",
                    (unsigned long long)l->memory_mb, MEMORY_MB_MIN, MEMORY_MB_MAX);
    if (!(l->cpu_cores >= CPU_MIN && l->cpu_cores <= CPU_MAX))
        lcs_problem(p, "resource_limits.cpu_cores: %g is outside %g..%g", l->cpu_cores, CPU_MIN,
                    CPU_MAX);
    if (l->timeout_seconds < 1 || l->timeout_seconds > TIMEOUT_MAX)
        lcs_problem(p, "resource_limits.timeout_seconds: %u is outside 1..%u", l->timeout_seconds,
                    TIMEOUT_MAX);
    if (l->max_processes < 1 || l->max_processes > PROCESSES_MAX)
        lcs_problem(p, "resource_limits.max_processes: %u is outside 1..%u", l->max_processes,
                    PROCESSES_MAX);
    for (size_t i = 0; i < m->n_tools; i++) {
        if (!m->tools[i] || !*m->tools[i] || strchr(m->tools[i], '/') ||
            strlen(m->tools[i]) > 128)
            lcs_problem(p, "tools[%zu]: '%s' is not a command name", i,
                        m->tools[i] ? m->tools[i] : "");
        for (size_t j = 0; j < i; j++)
            if (m->tools[i] && m->tools[j] && strcmp(m->tools[i], m->tools[j]) == 0)
                lcs_problem(p, "tools[%zu]: '%s' is listed twice", i, m->tools[i]);
    }
    for (size_t i = 0; i < m->n_environment; i++) {
        const lcs_env_var *e = &m->environment[i];
        if (!e->name || !valid_env_name(e->name))
            lcs_problem(p, "environment: '%s' is not a valid variable name", e->name ? e->name : "");
        if (!e->value)
            lcs_problem(p, "environment.%s: missing value", e->name ? e->name : "?");
    }
    if (m->user) {
        if (!valid_user(m->user))
            lcs_problem(p, "user: '%s' is not a user name or numeric uid", m->user);
        else if (is_root_user(m->user))
            lcs_problem(p, "user: sandbox images must not run as root (got '%s')", m->user);
    }
    if (m->working_directory && !valid_abs_path(m->working_directory))
        lcs_problem(p, "working_directory: '%s' must be an absolute path without '.', '..' or "
                       "empty components",
                    m->working_directory);
    if (m->build_date) {
        const char *d = m->build_date;
        bool ok = strlen(d) >= 10 && isdigit((unsigned char)d[0]) && isdigit((unsigned char)d[1]) &&
                  isdigit((unsigned char)d[2]) && isdigit((unsigned char)d[3]) && d[4] == '-' &&
                  isdigit((unsigned char)d[5]) && isdigit((unsigned char)d[6]) && d[7] == '-' &&
                  isdigit((unsigned char)d[8]) && isdigit((unsigned char)d[9]);
        if (!ok)
            lcs_problem(p, "build_date: '%s' is not an ISO 8601 date (YYYY-MM-DD...)", d);
    }
}

int lcs_manifest_validate(const lcs_manifest *m, lcs_error *err)
{
    if (!m)
        return lcs_fail(err, LCS_E_INVALID, "no manifest given");
    lcs_problems p = {0};
    if (!m->name)
        lcs_problem(&p, "name: missing");
    if (!m->version)
        lcs_problem(&p, "version: missing");
    if (!m->user)
        lcs_problem(&p, "user: missing");
    if (!m->working_directory)
        lcs_problem(&p, "working_directory: missing");
    check_semantics(m, &p);
    char what[400];
    snprintf(what, sizeof what, "manifest '%s:%s' is invalid", m->name ? m->name : "?",
             m->version ? m->version : "?");
    return lcs_problems_finish(&p, err, what);
}

/* -------------------------------------------------------------- parsing */

/* A required or optional string field; reports wrong types. */
static char *get_string(json_t *root, const char *key, bool required, bool null_ok,
                        lcs_problems *p, bool *oom)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        if (required)
            lcs_problem(p, "%s: missing (required)", key);
        return NULL;
    }
    if (json_is_null(v) && null_ok)
        return NULL;
    if (!json_is_string(v)) {
        lcs_problem(p, "%s: must be a string%s, got %s", key, null_ok ? " or null" : "",
                    json_kind(v));
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        lcs_problem(p, "%s: contains a NUL character", key);
        return NULL;
    }
    return lcs_strdup_or_null(s, oom);
}

/* "512m", "1g", "1.5g", "2048k", "512MiB", or a plain number of bytes, as
 * container engines accept it. Only whole MiB are representable. */
static int parse_memory_string(const char *s, uint64_t *mb, char *why, size_t whylen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0) || !isfinite(v)) {
        snprintf(why, whylen, "'%s' is not a positive size like 512m or 1g", s);
        return -1;
    }
    double mult;
    switch (tolower((unsigned char)*end)) {
    case '\0': mult = 1.0; break;
    case 'b': mult = 1.0; end--; break;
    case 'k': mult = 1024.0; break;
    case 'm': mult = 1024.0 * 1024; break;
    case 'g': mult = 1024.0 * 1024 * 1024; break;
    case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
    default:
        snprintf(why, whylen, "'%s' has an unknown unit (use b, k, m, g or t)", s);
        return -1;
    }
    if (*end)
        end++;
    if (strcasecmp(end, "") != 0 && strcasecmp(end, "b") != 0 && strcasecmp(end, "ib") != 0) {
        snprintf(why, whylen, "'%s' has trailing characters after the unit", s);
        return -1;
    }
    double bytes = v * mult;
    double mib = bytes / (1024.0 * 1024.0);
    if (mib > (double)MEMORY_MB_MAX * 1024) {
        snprintf(why, whylen, "'%s' is absurdly large", s);
        return -1;
    }
    if (mib != floor(mib)) {
        snprintf(why, whylen, "'%s' is not a whole number of MiB", s);
        return -1;
    }
    *mb = (uint64_t)mib;
    return 0;
}

/* An integer limit; returns false (after reporting) when absent or bad. */
static bool get_uint(json_t *obj, const char *key, unsigned long long max_plausible,
                     unsigned long long *out, lcs_problems *p)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return false;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d) || d < 0 || d > 9e18) {
            lcs_problem(p, "resource_limits.%s: must be a whole number, got %g", key, d);
            return false;
        }
        *out = (unsigned long long)d;
    } else if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i <= 0) {
            lcs_problem(p, "resource_limits.%s: must be positive, got %lld", key, (long long)i);
            return false;
        }
        *out = (unsigned long long)i;
    } else {
        lcs_problem(p, "resource_limits.%s: must be a number, got %s", key, json_kind(v));
        return false;
    }
    if (*out == 0) {
        lcs_problem(p, "resource_limits.%s: must be positive, got 0", key);
        return false;
    }
    if (*out > max_plausible) {
        lcs_problem(p, "resource_limits.%s: %llu is absurd (at most %llu)", key, *out,
                    max_plausible);
        return false;
    }
    return true;
}

static bool get_cpu(json_t *obj, const char *key, double *out, lcs_problems *p)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return false;
    if (!json_is_number(v)) {
        lcs_problem(p, "resource_limits.%s: must be a number, got %s", key, json_kind(v));
        return false;
    }
    double d = json_number_value(v);
    if (!(d >= CPU_MIN && d <= CPU_MAX)) {
        lcs_problem(p, "resource_limits.%s: %g is outside %g..%g", key, d, CPU_MIN, CPU_MAX);
        return false;
    }
    *out = d;
    return true;
}

static void parse_limits(json_t *root, lcs_manifest *m, lcs_problems *p)
{
    lcs_tier_default_limits(m->tier, &m->limits);
    json_t *rl = json_object_get(root, "resource_limits");
    if (!rl)
        return;
    if (!json_is_object(rl)) {
        lcs_problem(p, "resource_limits: must be an object, got %s", json_kind(rl));
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(rl, k, v) {
        if (!in_list(k, limit_keys))
            lcs_problem(p, "resource_limits: unknown key '%s' (known: memory_mb, memory_limit, "
                           "cpu_cores, cpu_limit, timeout_seconds, max_processes, pids_limit)",
                        k);
    }
    unsigned long long u;
    bool have_mb = get_uint(rl, "memory_mb", MEMORY_MB_MAX * 1024, &u, p);
    uint64_t mb = have_mb ? u : 0;
    json_t *ml = json_object_get(rl, "memory_limit");
    if (ml) {
        uint64_t mb2 = 0;
        char why[256];
        bool ok = false;
        if (json_is_string(ml)) {
            if (parse_memory_string(json_string_value(ml), &mb2, why, sizeof why) == 0)
                ok = true;
            else
                lcs_problem(p, "resource_limits.memory_limit: %s", why);
        } else if (json_is_integer(ml) && json_integer_value(ml) > 0) {
            /* A bare number is bytes, as in container engines. */
            json_int_t bytes = json_integer_value(ml);
            if (bytes % (1024 * 1024) != 0)
                lcs_problem(p, "resource_limits.memory_limit: %lld bytes is not a whole number "
                               "of MiB",
                            (long long)bytes);
            else {
                mb2 = (uint64_t)bytes / (1024 * 1024);
                ok = true;
            }
        } else
            lcs_problem(p, "resource_limits.memory_limit: must be a size string like \"512m\", "
                           "got %s",
                        json_kind(ml));
        if (ok && have_mb && mb2 != mb)
            lcs_problem(p, "resource_limits: memory_mb (%llu) and memory_limit (%llu MiB) "
                           "disagree",
                        (unsigned long long)mb, (unsigned long long)mb2);
        if (ok) {
            mb = mb2;
            have_mb = true;
        }
    }
    if (have_mb)
        m->limits.memory_mb = mb;

    double c1 = 0, c2 = 0;
    bool h1 = get_cpu(rl, "cpu_cores", &c1, p), h2 = get_cpu(rl, "cpu_limit", &c2, p);
    if (h1 && h2 && c1 != c2)
        lcs_problem(p, "resource_limits: cpu_cores (%g) and cpu_limit (%g) disagree", c1, c2);
    if (h1 || h2)
        m->limits.cpu_cores = h1 ? c1 : c2;

    if (get_uint(rl, "timeout_seconds", TIMEOUT_MAX, &u, p))
        m->limits.timeout_seconds = (uint32_t)u;

    unsigned long long p1 = 0, p2 = 0;
    bool hp1 = get_uint(rl, "max_processes", PROCESSES_MAX, &p1, p);
    bool hp2 = get_uint(rl, "pids_limit", PROCESSES_MAX, &p2, p);
    if (hp1 && hp2 && p1 != p2)
        lcs_problem(p, "resource_limits: max_processes (%llu) and pids_limit (%llu) disagree", p1,
                    p2);
    if (hp1 || hp2)
        m->limits.max_processes = (uint32_t)(hp1 ? p1 : p2);
}

static int env_cmp(const void *a, const void *b)
{
    return strcmp(((const lcs_env_var *)a)->name, ((const lcs_env_var *)b)->name);
}

lcs_manifest *lcs_manifest_from_json(json_t *root, const char *source, lcs_error *err)
{
    char what[600];
    snprintf(what, sizeof what, "manifest %s is invalid", source);
    if (!json_is_object(root)) {
        lcs_fail(err, LCS_E_VALIDATION, "%s: the top level must be a JSON object, got %s", what,
                 json_kind(root));
        return NULL;
    }
    lcs_manifest *m = calloc(1, sizeof *m);
    if (!m) {
        lcs_fail_nomem(err);
        return NULL;
    }
    lcs_problems p = {0};
    bool oom = false;

    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (!in_list(k, known_keys) && strncmp(k, "x-", 2) != 0)
            lcs_problem(&p, "unknown key '%s' (extension keys must start with 'x-')", k);
    }

    m->name = get_string(root, "name", true, false, &p, &oom);
    m->version = get_string(root, "version", true, false, &p, &oom);

    char *tier = get_string(root, "tier", true, false, &p, &oom);
    if (tier && lcs_tier_parse(tier, &m->tier) != 0)
        lcs_problem(&p, "tier: unknown tier '%s' (expected base, specialized or task)", tier);
    free(tier);

    m->description = get_string(root, "description", false, true, &p, &oom);
    if (!m->description)
        m->description = lcs_strdup_or_null("", &oom);

    char *parent = get_string(root, "parent_image", false, true, &p, &oom);
    char *base = get_string(root, "base_image", false, true, &p, &oom);
    if (parent && base && strcmp(parent, base) != 0)
        lcs_problem(&p, "parent_image ('%s') and base_image ('%s') disagree", parent, base);
    m->parent_image = parent ? parent : base;
    if (parent)
        free(base);

    json_t *caps = json_object_get(root, "capabilities");
    if (!caps)
        lcs_problem(&p, "capabilities: missing (required; an array such as [\"shell\"])");
    else if (!json_is_array(caps))
        lcs_problem(&p, "capabilities: must be an array of names, got %s", json_kind(caps));
    else {
        size_t i;
        json_array_foreach(caps, i, v) {
            lcs_capability c;
            if (!json_is_string(v))
                lcs_problem(&p, "capabilities[%zu]: must be a string, got %s", i, json_kind(v));
            else if (lcs_capability_parse(json_string_value(v), &c) != 0)
                lcs_problem(&p, "capabilities[%zu]: unknown capability '%s'", i,
                            json_string_value(v));
            else if (m->capabilities & LCS_CAPSET(c))
                lcs_problem(&p, "capabilities[%zu]: '%s' is listed twice", i,
                            json_string_value(v));
            else
                m->capabilities |= LCS_CAPSET(c);
        }
    }

    json_t *tools = json_object_get(root, "tools");
    if (tools && !json_is_array(tools))
        lcs_problem(&p, "tools: must be an array of command names, got %s", json_kind(tools));
    else if (tools && json_array_size(tools) > 0) {
        m->tools = calloc(json_array_size(tools), sizeof *m->tools);
        if (!m->tools)
            oom = true;
        size_t i;
        json_array_foreach(tools, i, v) {
            if (!m->tools)
                break;
            if (!json_is_string(v))
                lcs_problem(&p, "tools[%zu]: must be a string, got %s", i, json_kind(v));
            else
                m->tools[m->n_tools++] = lcs_strdup_or_null(json_string_value(v), &oom);
        }
    }

    char *mode = get_string(root, "default_access_mode", true, false, &p, &oom);
    if (mode && lcs_access_mode_parse(mode, &m->default_access_mode) != 0)
        lcs_problem(&p, "default_access_mode: unknown access mode '%s' (expected restricted or "
                        "full)",
                    mode);
    free(mode);

    parse_limits(root, m, &p);

    json_t *env = json_object_get(root, "environment");
    if (env && !json_is_object(env))
        lcs_problem(&p, "environment: must be an object of strings, got %s", json_kind(env));
    else if (env && json_object_size(env) > 0) {
        m->environment = calloc(json_object_size(env), sizeof *m->environment);
        if (!m->environment)
            oom = true;
        json_object_foreach(env, k, v) {
            if (!m->environment)
                break;
            if (!json_is_string(v)) {
                lcs_problem(&p, "environment.%s: must be a string, got %s", k, json_kind(v));
                continue;
            }
            lcs_env_var *e = &m->environment[m->n_environment++];
            e->name = lcs_strdup_or_null(k, &oom);
            e->value = lcs_strdup_or_null(json_string_value(v), &oom);
        }
        if (!oom)
            qsort(m->environment, m->n_environment, sizeof *m->environment, env_cmp);
    }

    m->user = get_string(root, "user", false, false, &p, &oom);
    if (!m->user && !json_object_get(root, "user"))
        m->user = lcs_strdup_or_null(DEFAULT_USER, &oom);
    m->working_directory = get_string(root, "working_directory", false, false, &p, &oom);
    if (!m->working_directory && !json_object_get(root, "working_directory"))
        m->working_directory = lcs_strdup_or_null(LCS_SANDBOX_WORKSPACE, &oom);
    m->entrypoint = get_string(root, "entrypoint", false, true, &p, &oom);
    m->build_date = get_string(root, "build_date", false, true, &p, &oom);
    m->vcs_ref = get_string(root, "vcs_ref", false, true, &p, &oom);

    check_semantics(m, &p);

    if (oom) {
        lcs_buf_free(&p.text);
        lcs_manifest_free(m);
        lcs_fail_nomem(err);
        return NULL;
    }
    if (lcs_problems_finish(&p, err, what) != 0) {
        lcs_manifest_free(m);
        return NULL;
    }
    return m;
}

static lcs_manifest *parse_text(const char *text, size_t len, const char *source,
                                lcs_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        lcs_fail(err, LCS_E_PARSE, "manifest %s: JSON syntax error at line %d, column %d: %s",
                 source, je.line, je.column, je.text);
        if (err) {
            err->line = je.line;
            err->column = je.column;
        }
        return NULL;
    }
    lcs_manifest *m = lcs_manifest_from_json(root, source, err);
    json_decref(root);
    return m;
}

lcs_manifest *lcs_manifest_load_string(const char *json, lcs_error *err)
{
    if (!json) {
        lcs_fail(err, LCS_E_INVALID, "no manifest text given");
        return NULL;
    }
    return parse_text(json, strlen(json), "(string)", err);
}

#define MANIFEST_MAX_BYTES (1024 * 1024)

lcs_manifest *lcs_manifest_load_file(const char *path, lcs_error *err)
{
    if (!path || !*path) {
        lcs_fail(err, LCS_E_INVALID, "no manifest path given");
        return NULL;
    }
    int fd = lcs_open_input_file(path, "manifest", err);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lcs_fail_errno(err, "cannot stat manifest %s", path);
        close(fd);
        return NULL;
    }
    if (st.st_size > MANIFEST_MAX_BYTES) {
        lcs_fail(err, LCS_E_INVALID, "manifest %s is too large (%lld bytes; at most %d)", path,
                 (long long)st.st_size, MANIFEST_MAX_BYTES);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        lcs_fail_nomem(err);
        return NULL;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    lcs_manifest *m = parse_text(buf, got, path, err);
    free(buf);
    return m;
}

/* -------------------------------------------------------- serialisation */

json_t *lcs_capset_to_jansson(lcs_capset s)
{
    json_t *a = json_array();
    for (int c = 0; a && c < LCS_CAP_COUNT; c++)
        if (s & LCS_CAPSET(c))
            json_array_append_new(a, json_string(lcs_capability_name((lcs_capability)c)));
    return a;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *lcs_manifest_to_jansson(const lcs_manifest *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", str_or_null(m->name));
    json_object_set_new(o, "version", str_or_null(m->version));
    json_object_set_new(o, "tier", json_string(lcs_tier_name(m->tier)));
    json_object_set_new(o, "description", json_string(m->description ? m->description : ""));
    json_object_set_new(o, "parent_image", str_or_null(m->parent_image));
    json_object_set_new(o, "capabilities", lcs_capset_to_jansson(m->capabilities));
    json_t *tools = json_array();
    for (size_t i = 0; tools && i < m->n_tools; i++)
        json_array_append_new(tools, json_string(m->tools[i]));
    json_object_set_new(o, "tools", tools);
    json_object_set_new(o, "default_access_mode",
                        json_string(lcs_access_mode_name(m->default_access_mode)));
    json_t *rl = json_object();
    if (rl) {
        json_object_set_new(rl, "memory_mb", json_integer((json_int_t)m->limits.memory_mb));
        double c = m->limits.cpu_cores;
        json_object_set_new(rl, "cpu_cores",
                            c == floor(c) ? json_integer((json_int_t)c) : json_real(c));
        json_object_set_new(rl, "timeout_seconds", json_integer(m->limits.timeout_seconds));
        json_object_set_new(rl, "max_processes", json_integer(m->limits.max_processes));
    }
    json_object_set_new(o, "resource_limits", rl);
    json_t *env = json_object();
    for (size_t i = 0; env && i < m->n_environment; i++)
        json_object_set_new(env, m->environment[i].name, json_string(m->environment[i].value));
    json_object_set_new(o, "environment", env);
    json_object_set_new(o, "user", str_or_null(m->user));
    json_object_set_new(o, "working_directory", str_or_null(m->working_directory));
    if (m->entrypoint)
        json_object_set_new(o, "entrypoint", json_string(m->entrypoint));
    if (m->build_date)
        json_object_set_new(o, "build_date", json_string(m->build_date));
    if (m->vcs_ref)
        json_object_set_new(o, "vcs_ref", json_string(m->vcs_ref));
    return o;
}

char *lcs_manifest_to_json(const lcs_manifest *m, lcs_error *err)
{
    if (!m) {
        lcs_fail(err, LCS_E_INVALID, "no manifest given");
        return NULL;
    }
    json_t *o = lcs_manifest_to_jansson(m);
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s) {
        lcs_fail_nomem(err);
        return NULL;
    }
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        lcs_fail_nomem(err);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

static int mkdir_parents(char *path, lcs_error *err)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST) {
            errno = e;
            return lcs_fail_errno(err, "cannot create directory for %s", path);
        }
    }
    return 0;
}

int lcs_manifest_save_file(const lcs_manifest *m, const char *path, lcs_error *err)
{
    if (!path || !*path)
        return lcs_fail(err, LCS_E_INVALID, "no manifest path given");
    if (lcs_manifest_validate(m, err) != 0)
        return -1;
    char *text = lcs_manifest_to_json(m, err);
    if (!text)
        return -1;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    char *dir = strdup(path);
    int rc = -1, fd = -1;
    if (!tmp || !dir) {
        lcs_fail_nomem(err);
        goto out;
    }
    if (mkdir_parents(dir, err) != 0)
        goto out;
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        lcs_fail_errno(err, "cannot write manifest %s", tmp);
        goto out;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            lcs_fail_errno(err, "cannot write manifest %s", tmp);
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        lcs_fail_errno(err, "cannot write manifest %s", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        lcs_fail_errno(err, "cannot move manifest into place at %s", path);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(dir);
    free(text);
    return rc;
}

/* ------------------------------------------------------------- copying */

lcs_manifest *lcs_manifest_copy(const lcs_manifest *src, lcs_error *err)
{
    if (!src) {
        lcs_fail(err, LCS_E_INVALID, "no manifest given");
        return NULL;
    }
    lcs_manifest *m = calloc(1, sizeof *m);
    if (!m) {
        lcs_fail_nomem(err);
        return NULL;
    }
    bool oom = false;
    m->name = lcs_strdup_or_null(src->name, &oom);
    m->version = lcs_strdup_or_null(src->version, &oom);
    m->tier = src->tier;
    m->description = lcs_strdup_or_null(src->description, &oom);
    m->parent_image = lcs_strdup_or_null(src->parent_image, &oom);
    m->capabilities = src->capabilities;
    if (src->n_tools) {
        m->tools = calloc(src->n_tools, sizeof *m->tools);
        if (!m->tools)
            oom = true;
        for (size_t i = 0; m->tools && i < src->n_tools; i++, m->n_tools++)
            m->tools[i] = lcs_strdup_or_null(src->tools[i], &oom);
    }
    m->default_access_mode = src->default_access_mode;
    m->limits = src->limits;
    if (src->n_environment) {
        m->environment = calloc(src->n_environment, sizeof *m->environment);
        if (!m->environment)
            oom = true;
        for (size_t i = 0; m->environment && i < src->n_environment; i++, m->n_environment++) {
            m->environment[i].name = lcs_strdup_or_null(src->environment[i].name, &oom);
            m->environment[i].value = lcs_strdup_or_null(src->environment[i].value, &oom);
        }
    }
    m->user = lcs_strdup_or_null(src->user, &oom);
    m->working_directory = lcs_strdup_or_null(src->working_directory, &oom);
    m->entrypoint = lcs_strdup_or_null(src->entrypoint, &oom);
    m->build_date = lcs_strdup_or_null(src->build_date, &oom);
    m->vcs_ref = lcs_strdup_or_null(src->vcs_ref, &oom);
    if (oom) {
        lcs_manifest_free(m);
        lcs_fail_nomem(err);
        return NULL;
    }
    return m;
}

char *lcs_manifest_full_name(const lcs_manifest *m)
{
    if (!m || !m->name || !m->version)
        return NULL;
    size_t n = strlen(m->name) + strlen(m->version) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s:%s", m->name, m->version);
    return s;
}

bool lcs_manifest_has_capability(const lcs_manifest *m, lcs_capability c)
{
    return m && (unsigned)c < LCS_CAP_COUNT && (m->capabilities & LCS_CAPSET(c));
}

bool lcs_manifest_has_all(const lcs_manifest *m, lcs_capset required)
{
    return m && (m->capabilities & required) == required;
}

bool lcs_manifest_has_tool(const lcs_manifest *m, const char *tool)
{
    if (!m || !tool)
        return false;
    for (size_t i = 0; i < m->n_tools; i++)
        if (strcmp(m->tools[i], tool) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------- builtins */

size_t lcs_builtin_count(void)
{
    return lcs_builtin_manifests_count;
}

lcs_manifest *lcs_builtin_manifest(size_t i, lcs_error *err)
{
    if (i >= lcs_builtin_manifests_count) {
        lcs_fail(err, LCS_E_NOT_FOUND, "no builtin manifest #%zu (there are %zu)", i,
                 lcs_builtin_manifests_count);
        return NULL;
    }
    /* The shipped files are validated by the test suite; a failure here
     * means the build embedded a broken file. */
    return parse_text(lcs_builtin_manifests_sources[i], strlen(lcs_builtin_manifests_sources[i]),
                      lcs_builtin_manifests_paths[i], err);
}

lcs_manifest *lcs_builtin_manifest_get(const char *ref, lcs_error *err)
{
    lcs_image_ref r;
    if (lcs_image_ref_parse(ref, &r, err) != 0)
        return NULL;
    lcs_manifest *found = NULL;
    for (size_t i = 0; i < lcs_builtin_manifests_count && !found; i++) {
        lcs_manifest *m = lcs_builtin_manifest(i, err);
        if (!m) {
            lcs_image_ref_clear(&r);
            return NULL;
        }
        if (strcmp(m->name, r.repository) == 0 && (!r.tag || strcmp(m->version, r.tag) == 0))
            found = m;
        else
            lcs_manifest_free(m);
    }
    if (!found)
        lcs_fail(err, LCS_E_NOT_FOUND, "no builtin manifest for '%s'", ref);
    lcs_image_ref_clear(&r);
    return found;
}
