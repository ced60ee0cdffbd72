/*
 * testutil.h - shared helpers for the cmocka unit tests.
 */
#ifndef LCS_TESTUTIL_H
#define LCS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "llmcore/sandbox.h"

#ifndef LCS_SOURCE_DIR
#define LCS_SOURCE_DIR "."
#endif

/* Path of a file in the source tree (static buffer per call site is fine
 * in tests). */
static inline const char *src_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", LCS_SOURCE_DIR, rel);
    return buf;
}

#define assert_contains(haystack, needle)                                                          \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (!h_ || !strstr(h_, n_))                                                                \
            fail_msg("expected to find \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)");                 \
    } while (0)

#define assert_not_contains(haystack, needle)                                                      \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (h_ && strstr(h_, n_))                                                                  \
            fail_msg("did not expect \"%s\" in \"%s\"", n_, h_);                                   \
    } while (0)

#endif
