/*
 * ref.c - image references: [host[:port]/]path[:tag][@digest].
 *
 * Splitting on the first ':' (as upstream did) turns "host:5000/repo:tag"
 * into name "host" and tag "5000/repo:tag". Here the host is recognised the
 * way container engines do it: the first '/'-separated component is a host
 * when it contains '.' or ':' or is "localhost"; the tag is whatever follows
 * the last ':' after the last '/'.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/error.h"

static bool valid_component(const char *s, size_t n)
{
    if (n == 0 || (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = islower(c) || isdigit(c);
        bool sep = c == '.' || c == '_' || c == '-';
        if (!alnum && !sep)
            return false;
        if (sep && (i + 1 == n))
            return false;
    }
    return true;
}

bool lcs_valid_repository(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 255)
        return false;
    const char *p = s;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!valid_component(p, n))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

bool lcs_valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    if (!isalnum((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-')
            return false;
    }
    return true;
}

static bool valid_host(const char *s, size_t n)
{
    size_t i = 0;
    for (; i < n && s[i] != ':'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '-')
            return false;
    }
    if (i == 0)
        return false;
    if (i == n)
        return true;
    /* A port: 1 to 65535. */
    size_t digits = n - i - 1;
    if (digits == 0 || digits > 5)
        return false;
    unsigned long port = 0;
    for (size_t j = i + 1; j < n; j++) {
        if (!isdigit((unsigned char)s[j]))
            return false;
        port = port * 10 + (unsigned long)(s[j] - '0');
    }
    return port >= 1 && port <= 65535;
}

static bool valid_digest(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return false;
    for (const char *p = s; p < colon; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
            return false;
    size_t hex = strlen(colon + 1);
    if (hex < 32)
        return false;
    for (const char *p = colon + 1; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    return true;
}

void lcs_image_ref_clear(lcs_image_ref *r)
{
    if (!r)
        return;
    free(r->host);
    free(r->repository);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof *r);
}

int lcs_image_ref_parse(const char *ref, lcs_image_ref *out, lcs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!ref || !*ref)
        return lcs_fail(err, LCS_E_INVALID, "empty image reference");
    size_t len = strlen(ref);
    if (len > 1024)
        return lcs_fail(err, LCS_E_INVALID, "image reference is too long (%zu characters)", len);
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)ref[i]) || iscntrl((unsigned char)ref[i]))
            return lcs_fail(err, LCS_E_INVALID,
                            "image reference '%s' contains whitespace or control characters", ref);

    char *work = strdup(ref);
    if (!work)
        return lcs_fail_nomem(err);
    char *at = strchr(work, '@');
    if (at) {
        *at = '\0';
        if (!valid_digest(at + 1)) {
            lcs_fail(err, LCS_E_INVALID,
                     "image reference '%s': '%s' is not a digest (expected algorithm:hex, "
                     "e.g. sha256:<64 hex digits>)",
                     ref, at + 1);
            free(work);
            return -1;
        }
        out->digest = strdup(at + 1);
    }
    char *path = work;
    char *slash = strchr(work, '/');
    if (slash) {
        size_t n = (size_t)(slash - work);
        bool is_host = memchr(work, '.', n) || memchr(work, ':', n) ||
                       (n == 9 && strncmp(work, "localhost", 9) == 0);
        if (is_host) {
            if (!valid_host(work, n)) {
                lcs_fail(err, LCS_E_INVALID,
                         "image reference '%s': '%.*s' is not a valid registry host[:port]", ref,
                         (int)n, work);
                free(work);
                lcs_image_ref_clear(out);
                return -1;
            }
            out->host = strndup(work, n);
            path = slash + 1;
        }
    }
    char *last_slash = strrchr(path, '/');
    char *colon = strrchr(last_slash ? last_slash : path, ':');
    if (colon) {
        *colon = '\0';
        if (!lcs_valid_tag(colon + 1)) {
            lcs_fail(err, LCS_E_INVALID,
                     "image reference '%s': '%s' is not a valid tag (letters, digits, '_', '.', "
                     "'-'; at most 128)",
                     ref, colon + 1);
            free(work);
            lcs_image_ref_clear(out);
            return -1;
        }
        out->tag = strdup(colon + 1);
    }
    if (!lcs_valid_repository(path)) {
        lcs_fail(err, LCS_E_INVALID,
                 "image reference '%s': '%s' is not a valid repository name (lower-case letters, "
                 "digits and '.', '_', '-' separators, components joined by '/')",
                 ref, path);
        free(work);
        lcs_image_ref_clear(out);
        return -1;
    }
    out->repository = strdup(path);
    bool had_host = path != work;
    free(work);
    if (!out->repository || (colon && !out->tag) || (at && !out->digest) ||
        (had_host && !out->host)) {
        lcs_image_ref_clear(out);
        return lcs_fail_nomem(err);
    }
    return 0;
}
