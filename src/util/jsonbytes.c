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

/* ------------------------------------------------ escaping without copies
 *
 * Command output can be megabytes of control bytes: through jansson a NUL
 * costs 1 byte in the sanitized copy, 1 in the json_t, 6 in the dump and
 * up to 12 while its buffer doubles. These encode straight from the data,
 * with jansson's rules for JSON_COMPACT (so the text is the same): \" \\
 * \b \f \n \r \t, \u00XX (upper-case hex) for the other bytes below 0x20,
 * well-formed UTF-8 as is, every other byte as U+FFFD. */

/* Encode the unit at p[*i] (n bytes in all) into out (at most 6 bytes);
 * advances *i, returns the length written. */
static size_t enc_unit(const unsigned char *p, size_t n, size_t *i, char *out)
{
    unsigned c = p[*i];
    static const char hex[] = "0123456789ABCDEF";
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        out[0] = (char)c;
        (*i)++;
        return 1;
    }
    if (c < 0x80) {
        (*i)++;
        out[0] = '\\';
        switch (c) {
        case '"': out[1] = '"'; return 2;
        case '\\': out[1] = '\\'; return 2;
        case '\b': out[1] = 'b'; return 2;
        case '\f': out[1] = 'f'; return 2;
        case '\n': out[1] = 'n'; return 2;
        case '\r': out[1] = 'r'; return 2;
        case '\t': out[1] = 't'; return 2;
        default:
            memcpy(out + 1, "u00", 3);
            out[4] = hex[c >> 4];
            out[5] = hex[c & 15];
            return 6;
        }
    }
    size_t l = lcs_utf8_seq(p + *i, n - *i);
    if (l) {
        memcpy(out, p + *i, l);
        *i += l;
        return l;
    }
    (*i)++;
    memcpy(out, "\xEF\xBF\xBD", 3);
    return 3;
}

size_t lcs_json_bytes_len(const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t total = 2;
    char unit[8];
    for (size_t i = 0; i < len;)
        total += enc_unit(p, len, &i, unit);
    return total;
}

size_t lcs_json_bytes_put(char *dst, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t o = 0;
    dst[o++] = '"';
    for (size_t i = 0; i < len;)
        o += enc_unit(p, len, &i, dst + o);
    dst[o++] = '"';
    return o;
}

int lcs_json_bytes_write(FILE *f, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    char chunk[16384];
    size_t o = 0;
    chunk[o++] = '"';
    for (size_t i = 0; i < len;) {
        if (o > sizeof chunk - 8) {
            if (fwrite(chunk, 1, o, f) != o)
                return -1;
            o = 0;
        }
        o += enc_unit(p, len, &i, chunk + o);
    }
    chunk[o++] = '"';
    return fwrite(chunk, 1, o, f) == o ? 0 : -1;
}

/* The positions of the n placeholders "KEY":"" in doc, in order, each
 * after the previous one; -1 if one is missing. */
static int find_slots(const char *doc, size_t n, const char *const *keys, size_t *at,
                      size_t *after)
{
    const char *from = doc;
    for (size_t k = 0; k < n; k++) {
        char pat[80];
        snprintf(pat, sizeof pat, "\"%s\":\"\"", keys[k]);
        const char *hit = strstr(from, pat);
        if (!hit)
            return -1;
        at[k] = (size_t)(hit - doc) + strlen(pat) - 2; /* the "" */
        after[k] = at[k] + 2;
        from = doc + after[k];
    }
    return 0;
}

#define LCS_SLOTS_MAX 4

char *lcs_json_dumps_bytes(json_t *o, size_t flags, size_t n, const char *const *keys,
                           const char *const *data, const size_t *lens)
{
    if (n > LCS_SLOTS_MAX)
        return NULL;
    for (size_t k = 0; k < n; k++)
        if (json_object_set_new(o, keys[k], json_string("")) < 0)
            return NULL;
    char *doc = json_dumps(o, flags);
    if (!doc)
        return NULL;
    size_t at[LCS_SLOTS_MAX], after[LCS_SLOTS_MAX], elen[LCS_SLOTS_MAX];
    if (find_slots(doc, n, keys, at, after) < 0) {
        free(doc);
        return NULL;
    }
    size_t dl = strlen(doc), total = dl + 1;
    for (size_t k = 0; k < n; k++) {
        elen[k] = lcs_json_bytes_len(data[k] ? data[k] : "", data[k] ? lens[k] : 0);
        if (total > SIZE_MAX - elen[k]) {
            free(doc);
            return NULL;
        }
        total += elen[k] - 2;
    }
    char *out = malloc(total);
    if (!out) {
        free(doc);
        return NULL;
    }
    size_t w = 0, prev = 0;
    for (size_t k = 0; k < n; k++) {
        memcpy(out + w, doc + prev, at[k] - prev);
        w += at[k] - prev;
        w += lcs_json_bytes_put(out + w, data[k] ? data[k] : "", data[k] ? lens[k] : 0);
        prev = after[k];
    }
    memcpy(out + w, doc + prev, dl - prev + 1);
    free(doc);
    return out;
}

int lcs_json_dumpf_bytes(json_t *o, size_t flags, size_t n, const char *const *keys,
                         const char *const *data, const size_t *lens, FILE *f)
{
    if (n > LCS_SLOTS_MAX)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (json_object_set_new(o, keys[k], json_string("")) < 0)
            return -1;
    char *doc = json_dumps(o, flags);
    if (!doc)
        return -1;
    size_t at[LCS_SLOTS_MAX], after[LCS_SLOTS_MAX];
    int rc = find_slots(doc, n, keys, at, after);
    size_t prev = 0;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        if (fwrite(doc + prev, 1, at[k] - prev, f) != at[k] - prev ||
            lcs_json_bytes_write(f, data[k] ? data[k] : "", data[k] ? lens[k] : 0) < 0)
            rc = -1;
        prev = after[k];
    }
    if (rc == 0 && fputs(doc + prev, f) < 0)
        rc = -1;
    free(doc);
    return rc;
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
