/*
 * libexec.h - where the library's helper executables are.
 */
#ifndef LCS_UTIL_LIBEXEC_H
#define LCS_UTIL_LIBEXEC_H

#include "llmcore/sandbox.h"

#include <stddef.h>

/* The path of helper executable `name`: $env_var if set (it must be
 * executable), else next to the library (or to the executable when the
 * library is linked in statically), else in the installed libexec
 * directory. Errors name every place looked at and the fix. */
int lcs_libexec_find(const char *name, const char *env_var, char *out, size_t len,
                     lcs_error *err);

#endif
