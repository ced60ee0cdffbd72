/*
 * jsonbytes.c - bytes as a JSON string (see jsonbytes.h).
 */
#include "util/jsonbytes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t lcs_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned cp = c & (0x7fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] >> 6) != 2)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

char *lcs_utf8_sanitize(const char *s, size_t n, size_t *out_len)
{
    /* Worst case: every byte becomes the 3-byte replacement character. */
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = lcs_utf8_seq(p + i, n - i);
        if (l) {
            memcpy(out + o, p + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

json_t *lcs_json_bytes(const char *data, size_t len)
{
    if (!data)
        return json_string("");
    size_t n;
    char *clean = lcs_utf8_sanitize(data, len, &n);
    if (!clean)
        return NULL;
    json_t *s = json_stringn(clean, n);
    free(clean);
    return s;
}

unsigned lcs_utf8_cp(const unsigned char *s, size_t l)
{
    if (l <= 1)
        return s[0];
    unsigned cp = s[0] & (0x7fu >> l);
    for (size_t k = 1; k < l; k++)
        cp = (cp << 6) | (s[k] & 0x3fu);
    return cp;
}

int lcs_cp_deceptive(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
           cp == 0x2029;
}

char *lcs_text_escape(const char *s, size_t n)
{
    /* Worst case: every byte becomes "\xHH" (4 bytes). */
    if (n > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = lcs_utf8_seq(p + i, n - i);
        unsigned cp = l ? lcs_utf8_cp(p + i, l) : 0;
        if (l == 0) {
            o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (cp == '\\')
            o += (size_t)sprintf(out + o, "\\\\");
        else if (cp == '\n')
            o += (size_t)sprintf(out + o, "\\n");
        else if (cp == '\t')
            o += (size_t)sprintf(out + o, "\\t");
        else if (cp == '\r')
            o += (size_t)sprintf(out + o, "\\r");
        else if (cp < 0x20 || cp == 0x7f)
            o += (size_t)sprintf(out + o, "\\x%02x", cp);
        else if (lcs_cp_deceptive(cp)) /* 2 or 3 bytes in, 6 out: within 4 a byte */
            o += (size_t)sprintf(out + o, "\\u%04x", cp);
        else {
            memcpy(out + o, p + i, l);
            o += l;
        }
        i += l;
    }
    out[o] = '\0';
    return out;
}
