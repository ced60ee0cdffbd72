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

/* Code points that are invisible yet change how the text around them is
 * shown: bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069), line and paragraph separators (U+2028, U+2029) and C1
 * controls (U+0080-U+009F, which some terminals obey like ESC). A name
 * chosen by a sandbox must not carry them to an operator or a model: "a
 * U+202E txt.exe" reads as "a exe.txt". */
int lcs_cp_deceptive(unsigned cp);

/* n bytes of s made safe to show on a terminal or in a prompt, one line:
 * well-formed printable UTF-8 as is; a backslash as "\\"; newline, tab and
 * carriage return as "\n", "\t", "\r"; other C0 controls, DEL and every
 * byte of invalid UTF-8 as "\xHH"; deceptive code points (above) as
 * "\uHHHH". Distinct names stay distinct. malloc'd, NUL-terminated; NULL
 * when out of memory. */
char *lcs_text_escape(const char *s, size_t n);

/* The code point of the well-formed sequence of l bytes at s. */
unsigned lcs_utf8_cp(const unsigned char *s, size_t l);

#endif
