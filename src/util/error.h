/*
 * error.h - internal helpers to fill an lcs_error (see sandbox.h).
 *
 * Every fallible function takes an `lcs_error *err` that may be NULL. The
 * helpers below format a message with context (what failed, on what, what
 * to do) and return -1 so call sites can write `return lcs_fail(...)`.
 */
#ifndef LCS_UTIL_ERROR_H
#define LCS_UTIL_ERROR_H

#include "llmcore/sandbox.h"

#if defined(__GNUC__)
#define LCS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LCS_PRINTF(a, b)
#endif

/* Set err (if not NULL) to code + formatted message. Returns -1. */
int lcs_fail(lcs_error *err, lcs_status code, const char *fmt, ...) LCS_PRINTF(3, 4);
/* Like lcs_fail with LCS_E_IO and the current errno appended as ": <strerror>". */
int lcs_fail_errno(lcs_error *err, const char *fmt, ...) LCS_PRINTF(2, 3);
/* Out of memory. Returns -1. */
int lcs_fail_nomem(lcs_error *err);
/* Prepend context ("while loading X: ") to an existing message. */
void lcs_error_prefix(lcs_error *err, const char *fmt, ...) LCS_PRINTF(2, 3);

#endif
