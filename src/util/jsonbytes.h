/*
 * jsonbytes.h - bytes (command output, file data) as a JSON string.
 */
#ifndef LCS_UTIL_JSONBYTES_H
#define LCS_UTIL_JSONBYTES_H

#include <jansson.h>
#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (n bytes left: 1-4), or 0
 * if ill-formed (overlong forms, surrogates, above U+10FFFF). */
size_t lcs_utf8_seq(const unsigned char *s, size_t n);

/* A malloc'd, NUL-terminated copy of s (n bytes) in which every byte that
 * is not part of a well-formed UTF-8 sequence is U+FFFD; its length in
 * *out_len (if not NULL). NULL when out of memory. */
char *lcs_utf8_sanitize(const char *s, size_t n, size_t *out_len);

/* A JSON string holding data; bytes that are not valid UTF-8 become
 * U+FFFD, since JSON strings cannot carry them. NULL data gives "".
 * Returns NULL only when out of memory. */
json_t *lcs_json_bytes(const char *data, size_t len);

#endif
