/*
 * str.c - string helpers (see str.h).
 */
#include "util/str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *lcs_strdup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d && oom)
        *oom = true;
    return d;
}

char *lcs_normalize_key(const char *s)
{
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)tolower((unsigned char)s[i]);
    d[n] = '\0';
    return d;
}

static void buf_reserve(lcs_buf *b, size_t extra)
{
    if (b->oom)
        return;
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return;
    }
    b->data = d;
    b->cap = cap;
}

void lcs_buf_append(lcs_buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

void lcs_buf_appendf(lcs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    buf_reserve(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void lcs_buf_free(lcs_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void lcs_problem(lcs_problems *p, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    lcs_buf_appendf(&p->text, "\n  - %s", line);
    p->count++;
}

int lcs_problems_finish(lcs_problems *p, lcs_error *err, const char *what)
{
    int rc = 0;
    if (p->text.oom)
        rc = lcs_fail_nomem(err);
    else if (p->count > 0) {
        rc = lcs_fail(err, LCS_E_VALIDATION, "%s: %u problem%s:%s", what, p->count,
                      p->count == 1 ? "" : "s", p->text.data);
        /* The message has a fixed size: if problems were cut off, end with
         * the last whole line and say how many are missing. */
        size_t cap = sizeof err->message;
        if (err && strlen(what) + p->text.len + 32 >= cap) {
            const char *tail = "\n  - ... and 4294967295 more problems";
            char *cut = err->message + cap - strlen(tail) - 1;
            *cut = '\0';
            char *nl = strrchr(err->message, '\n');
            if (nl)
                *nl = '\0';
            unsigned shown = 0;
            for (const char *c = strstr(err->message, ":\n"); c && (c = strchr(c + 1, '\n'));)
                shown++;
            if (shown < p->count) {
                size_t len = strlen(err->message);
                snprintf(err->message + len, cap - len, "\n  - ... and %u more problem%s",
                         p->count - shown, p->count - shown == 1 ? "" : "s");
            }
        }
    }
    lcs_buf_free(&p->text);
    p->count = 0;
    return rc;
}

int lcs_version_compare(const char *a, const char *b)
{
    while (*a || *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a == '.' && *b == '.') {
            a++;
            b++;
            continue;
        }
        /* A release sorts after its pre-releases: "1.0.0" > "1.0.0-rc1". */
        if (*a == '\0')
            return *b == '-' ? 1 : -1;
        if (*b == '\0')
            return *a == '-' ? -1 : 1;
        int c = strcmp(a, b);
        return c < 0 ? -1 : c > 0;
    }
    return 0;
}
