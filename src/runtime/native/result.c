/*
 * result.c - the result of a native run: release and JSON form.
 */
#include "runtime/native/internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void lcs_native_result_clear(lcs_native_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    free(r->enforced_json);
    memset(r, 0, sizeof *r);
}

/* A JSON string from bytes that may not be UTF-8: invalid bytes become
 * U+FFFD so the document stays valid. */
static json_t *text(const char *s, size_t len)
{
    if (!s)
        return json_string("");
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *b = malloc(len * 3 + 1);
    if (!b)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && i + n <= len && c != 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok && n > 1 && !json_stringn(s + i, n))
            ok = 0; /* overlong or surrogate */
        if (ok) {
            memcpy(b + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(b + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    j = json_stringn(b, o);
    free(b);
    return j;
}

char *lcs_native_result_to_json(const lcs_native_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "verdict", json_string(r->verdict));
    json_object_set_new(o, "exit_code", json_integer(r->exit_code));
    json_object_set_new(o, "signal", json_integer(r->signal));
    json_object_set_new(o, "stdout", text(r->out, r->out_len));
    json_object_set_new(o, "stdout_truncated", json_boolean(r->out_truncated));
    json_object_set_new(o, "stderr", text(r->err, r->err_len));
    json_object_set_new(o, "stderr_truncated", json_boolean(r->err_truncated));
    json_object_set_new(o, "wall_s", json_real(r->wall_s));
    json_object_set_new(o, "cpu_s", json_real(r->cpu_s));
    json_object_set_new(o, "peak_memory_bytes", json_integer((json_int_t)r->peak_memory_bytes));
    json_t *enf = r->enforced_json ? json_loads(r->enforced_json, 0, NULL) : NULL;
    json_object_set_new(o, "enforced", enf ? enf : json_null());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
