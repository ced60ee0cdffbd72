/*
 * common.h - helpers shared by the agent-tool modules (src/tools/): UTF-8
 * checks, timestamps and JSON output. Internal to the library.
 */
#ifndef LCS_TOOLS_COMMON_H
#define LCS_TOOLS_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* Whether s[0..n) is well-formed UTF-8 (NUL bytes allowed). */
bool lcs_tl_utf8_valid(const char *s, size_t n);
/* Longest prefix of s[0..n) of at most max_chars code points that does not
 * cut a character: its length in bytes. */
size_t lcs_tl_utf8_prefix(const char *s, size_t n, size_t max_chars);

/* "2026-01-02T03:04:05.123Z" for a time in seconds since the epoch. */
void lcs_tl_iso_time(double t, char out[32]);
double lcs_tl_now(void);
/* Parse lcs_tl_iso_time's format (and without fraction); -1 if it is not one. */
double lcs_tl_iso_parse(const char *s);


/* Compact JSON text of v (any value), caller frees with free(); NULL on OOM. */
char *lcs_tl_json_text(const json_t *v);
/* A JSON string value from bytes (may contain NUL; invalid UTF-8 becomes
 * U+FFFD). */
json_t *lcs_tl_json_stringn(const char *s, size_t n);

/* Base64 (RFC 4648, with padding). encode: NUL-terminated, NULL on OOM.
 * decode: ignores whitespace; NULL with *bad set when malformed. */
char *lcs_tl_base64_encode(const void *data, size_t n, size_t *out_len);
unsigned char *lcs_tl_base64_decode(const char *s, size_t n, size_t *out_len, bool *bad);

#endif
