/*
 * random.h - random identifiers from the kernel's generator.
 */
#ifndef LCS_UTIL_RANDOM_H
#define LCS_UTIL_RANDOM_H

#include <stddef.h>

struct lcs_error;

/* nbytes (at most 64) random bytes from getrandom as 2*nbytes lowercase hex
 * digits and a NUL into out (2*nbytes+1 bytes). 0, or -1 with err set. */
int lcs_random_hex(char *out, size_t nbytes, struct lcs_error *err);

#endif
