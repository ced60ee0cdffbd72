/*
 * jsonbytes.c - bytes as a JSON string (see jsonbytes.h).
 */
#include "util/jsonbytes.h"

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

json_t *lcs_json_bytes(const char *data, size_t len)
{
    if (!data)
        return json_string("");
    char *copy = malloc(len * 3 + 1);
    if (!copy)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = lcs_utf8_seq((const unsigned char *)data + i, len - i);
        if (n) {
            memcpy(copy + o, data + i, n);
            o += n;
            i += n;
        } else {
            memcpy(copy + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *s = json_stringn(copy, o);
    free(copy);
    return s;
}

