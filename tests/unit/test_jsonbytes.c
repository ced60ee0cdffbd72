/*
 * test_jsonbytes.c - output bytes as JSON without copies (src/util/jsonbytes.c):
 * the streamed and pre-sized encodings give exactly the text jansson gives
 * for the sanitized bytes, for every byte value and for random data.
 */
#include "testutil.h"

#include "util/jsonbytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What jansson makes of the object with the sanitized bytes in place. */
static char *reference(const char *a, size_t al, const char *b, size_t bl)
{
    json_t *o = json_object();
    json_object_set_new(o, "verdict", json_string("ok"));
    json_object_set_new(o, "stdout", lcs_json_bytes(a, al));
    json_object_set_new(o, "mid", json_true());
    json_object_set_new(o, "stderr", lcs_json_bytes(b, bl));
    json_object_set_new(o, "tail", json_pack("{s:s}", "stdout", "nested"));
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    return s;
}

static void check_pair(const char *a, size_t al, const char *b, size_t bl)
{
    static const char *const keys[2] = {"stdout", "stderr"};
    const char *data[2] = {a, b};
    size_t lens[2] = {al, bl};
    char *want = reference(a, al, b, bl);
    json_t *o = json_object();
    json_object_set_new(o, "verdict", json_string("ok"));
    json_object_set_new(o, "stdout", json_string(""));
    json_object_set_new(o, "mid", json_true());
    json_object_set_new(o, "stderr", json_string(""));
    json_object_set_new(o, "tail", json_pack("{s:s}", "stdout", "nested"));
    char *got = lcs_json_dumps_bytes(o, JSON_PRESERVE_ORDER | JSON_COMPACT, 2, keys, data, lens);
    assert_non_null(got);
    assert_string_equal(got, want);
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    assert_non_null(f);
    assert_int_equal(lcs_json_dumpf_bytes(o, JSON_PRESERVE_ORDER | JSON_COMPACT, 2, keys, data,
                                          lens, f),
                     0);
    fclose(f);
    assert_string_equal(buf, want);
    assert_int_equal(lcs_json_bytes_len(a, al) + lcs_json_bytes_len(b, bl),
                     strlen(want) - strlen("{\"verdict\":\"ok\",\"stdout\":,\"mid\":true,"
                                           "\"stderr\":,\"tail\":{\"stdout\":\"nested\"}}"));
    free(buf);
    free(got);
    free(want);
    json_decref(o);
}

static void every_byte_value_matches_jansson(void **state)
{
    (void)state;
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    check_pair(all, sizeof all, "", 0);
    for (int i = 0; i < 256; i++)
        check_pair(all + i, 1, all + 255 - i, 1);
    check_pair(NULL, 0, "\xe2\x80\xa8\xc3\xa9\xf0\x9f\x98\x80 \xed\xa0\x80 \xc0\xaf", 17);
}

static void random_bytes_match_jansson(void **state)
{
    (void)state;
    srand(7);
    static const char pick[] = "\0\x01\x1f \"\\/\b\f\n\r\tAz\x7f\x80\xbf\xc3\xa9\xe2\x82\xac"
                               "\xf0\x9f\x98\x80\xff";
    char a[4096], b[512];
    for (int round = 0; round < 200; round++) {
        size_t al = (size_t)rand() % sizeof a, bl = (size_t)rand() % sizeof b;
        for (size_t i = 0; i < al; i++)
            a[i] = pick[(size_t)rand() % (sizeof pick - 1)];
        for (size_t i = 0; i < bl; i++)
            b[i] = (char)(rand() & 0xff);
        check_pair(a, al, b, bl);
    }
}

static void streaming_crosses_its_chunk_size(void **state)
{
    (void)state;
    size_t n = 100000; /* several 16 KiB chunks of "\u0000" */
    char *z = calloc(n, 1);
    assert_non_null(z);
    check_pair(z, n, z, 3);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_byte_value_matches_jansson),
        cmocka_unit_test(random_bytes_match_jansson),
        cmocka_unit_test(streaming_crosses_its_chunk_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
