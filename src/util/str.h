/*
 * str.h - small string helpers shared by the library: duplication that
 * tolerates NULL, NULL-terminated string vectors, and a growable buffer used
 * to collect validation problems.
 */
#ifndef LCS_UTIL_STR_H
#define LCS_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* strdup that maps NULL to NULL. Sets *oom when allocation fails. */
char *lcs_strdup_or_null(const char *s, bool *oom);
/* Lower-case copy with surrounding blanks removed (for task/runtime keys). */
char *lcs_normalize_key(const char *s);

/* Growable text buffer. */
typedef struct lcs_buf {
    char *data;
    size_t len, cap;
    bool oom;
} lcs_buf;

void lcs_buf_append(lcs_buf *b, const char *s);
void lcs_buf_appendf(lcs_buf *b, const char *fmt, ...) LCS_PRINTF(2, 3);
void lcs_buf_free(lcs_buf *b);

/* Problems found while validating: each is one line of the final message. */
typedef struct lcs_problems {
    lcs_buf text;
    unsigned count;
} lcs_problems;

void lcs_problem(lcs_problems *p, const char *fmt, ...) LCS_PRINTF(2, 3);
/* Turn collected problems into an LCS_E_VALIDATION error headed by `what`.
 * Returns -1 if there were problems (or OOM), 0 otherwise; frees p. */
int lcs_problems_finish(lcs_problems *p, lcs_error *err, const char *what);

/* Version comparison for dotted numeric versions ("1.10.0" > "1.9"); falls
 * back to strcmp for the non-numeric remainder. */
int lcs_version_compare(const char *a, const char *b);

#endif
