/*
 * error.c - formatting of lcs_error values and status names.
 */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [LCS_OK] = "ok",
    [LCS_E_INVALID] = "invalid",
    [LCS_E_NOT_FOUND] = "not_found",
    [LCS_E_PARSE] = "parse",
    [LCS_E_VALIDATION] = "validation",
    [LCS_E_IO] = "io",
    [LCS_E_NOMEM] = "nomem",
    [LCS_E_EXISTS] = "exists",
    [LCS_E_UNSUPPORTED] = "unsupported",
    [LCS_E_DENIED] = "denied",
    [LCS_E_INTERNAL] = "internal",
};

const char *lcs_status_name(lcs_status code)
{
    if ((unsigned)code < sizeof status_names / sizeof status_names[0] && status_names[code])
        return status_names[code];
    return "unknown";
}

void lcs_error_clear(lcs_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
}

static void vset(lcs_error *err, lcs_status code, int sys_errno, const char *fmt, va_list ap)
{
    err->code = code;
    err->sys_errno = sys_errno;
    err->line = err->column = 0;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int lcs_fail(lcs_error *err, lcs_status code, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, 0, fmt, ap);
    va_end(ap);
    return -1;
}

int lcs_fail_errno(lcs_error *err, const char *fmt, ...)
{
    int saved = errno;
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vset(err, LCS_E_IO, saved, fmt, ap);
    va_end(ap);
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof err->message - len, ": %s", strerror(saved));
    errno = saved;
    return -1;
}

int lcs_fail_nomem(lcs_error *err)
{
    return lcs_fail(err, LCS_E_NOMEM, "out of memory");
}

void lcs_error_prefix(lcs_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old message right; whatever no longer fits is cut. */
    size_t plen = strlen(prefix), cap = sizeof err->message - 1;
    size_t olen = strnlen(err->message, cap);
    if (plen > cap)
        plen = cap;
    if (plen + olen > cap)
        olen = cap - plen;
    memmove(err->message + plen, err->message, olen);
    memcpy(err->message, prefix, plen);
    err->message[plen + olen] = '\0';
}
