/*
 * test_state.c - the host-side state store (src/tools/state.c): typed
 * values round-trip byte for byte, upstream's schema bugs are gone, the
 * event log and recorded files behave, files are created safely.
 */
#include "testutil.h"

#include "tools/common.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lcs-state-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static lcs_state *open_db(const char *name)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    lcs_error e;
    lcs_state *s = lcs_state_open(p, &e);
    if (!s)
        fail_msg("open %s: %s", p, e.message);
    return s;
}

static void check_stored(lcs_state *s, const char *key, lcs_state_type type, const char *v,
                         size_t n)
{
    lcs_state_type t;
    char *got = NULL;
    size_t len = 0;
    lcs_error e;
    assert_int_equal(lcs_state_get(s, key, &t, &got, &len, &e), 1);
    assert_int_equal(t, type);
    assert_int_equal(len, n);
    assert_memory_equal(got, v, n);
    assert_int_equal(got[len], '\0');
    lcs_free(got);
}

/* Tool results are JSON: bytes that are not UTF-8 must never reach the wire
 * as they are (the output would not be JSON). */
static void tool_json_strings_are_always_utf8(void **st)
{
    (void)st;
    json_t *ok = lcs_tl_json_stringn("caf\xc3\xa9\0x", 7);
    assert_non_null(ok);
    assert_int_equal(json_string_length(ok), 7);
    assert_memory_equal(json_string_value(ok), "caf\xc3\xa9\0x", 7);
    json_decref(ok);
    json_t *bad = lcs_tl_json_stringn("a\xff\xc3" "b", 4);
    assert_non_null(bad);
    assert_string_equal(json_string_value(bad), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
    char *text = json_dumps(bad, JSON_ENCODE_ANY);
    assert_non_null(text);
    json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(back);
    json_decref(back);
    free(text);
    json_decref(bad);
}

static void state_strings_round_trip_exactly(void **st)
{
    (void)st;
    lcs_state *s = open_db("a.db");
    static const char nasty[] = "a|b|c \"double\" 'single' $HOME `id` \\back\nline2\r\n\ttab "
                                "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ; DROP TABLE agent_state;--";
    lcs_error e;
    assert_int_equal(lcs_state_set(s, "k|1", LCS_STATE_STRING, nasty, strlen(nasty), &e), 0);
    check_stored(s, "k|1", LCS_STATE_STRING, nasty, strlen(nasty));
    /* NUL bytes inside a value survive (length-carrying BLOB). */
    static const char withnul[] = {'x', '\0', 'y', '\0'};
    assert_int_equal(lcs_state_set(s, "nul", LCS_STATE_STRING, withnul, 4, &e), 0);
    check_stored(s, "nul", LCS_STATE_STRING, withnul, 4);
    /* Empty string is a value, not "not set". */
    assert_int_equal(lcs_state_set(s, "empty", LCS_STATE_STRING, "", 0, &e), 0);
    check_stored(s, "empty", LCS_STATE_STRING, "", 0);
    /* Invalid UTF-8 is refused with a message saying what to do. */
    assert_int_equal(lcs_state_set(s, "bin", LCS_STATE_STRING, "\xff\xfe", 2, &e), -1);
    assert_int_equal(e.code, LCS_E_INVALID);
    assert_contains(e.message, "base64");
    lcs_state_close(s);
    /* Persisted: reopen and read again. */
    s = open_db("a.db");
    check_stored(s, "k|1", LCS_STATE_STRING, nasty, strlen(nasty));
    lcs_state_close(s);
}

static void state_types_are_kept(void **st)
{
    (void)st;
    lcs_state *s = open_db("b.db");
    lcs_error e;
    assert_int_equal(lcs_state_set(s, "n", LCS_STATE_NUMBER, "1e5", 3, &e), 0);
    check_stored(s, "n", LCS_STATE_NUMBER, "1e5", 3);
    assert_int_equal(lcs_state_set(s, "big", LCS_STATE_NUMBER, "123456789012345678901234567890",
                                   30, &e),
                     0);
    check_stored(s, "big", LCS_STATE_NUMBER, "123456789012345678901234567890", 30);
    assert_int_equal(lcs_state_set(s, "b", LCS_STATE_BOOLEAN, "true", 4, &e), 0);
    check_stored(s, "b", LCS_STATE_BOOLEAN, "true", 4);
    const char *js = "{\"a\": 1, \"b\": \"x$HOME|\\n\"}";
    assert_int_equal(lcs_state_set(s, "j", LCS_STATE_JSON, js, strlen(js), &e), 0);
    check_stored(s, "j", LCS_STATE_JSON, js, strlen(js));
    /* Values are checked against their type. */
    assert_int_equal(lcs_state_set(s, "n2", LCS_STATE_NUMBER, "12abc", 5, &e), -1);
    assert_contains(e.message, "not a number");
    assert_int_equal(lcs_state_set(s, "b2", LCS_STATE_BOOLEAN, "True", 4, &e), -1);
    assert_int_equal(lcs_state_set(s, "j2", LCS_STATE_JSON, "{oops", 5, &e), -1);
    assert_int_equal(lcs_state_set(s, "", LCS_STATE_STRING, "x", 1, &e), -1);
    lcs_state_close(s);
}

static void state_auto_typing_follows_upstream_without_its_bugs(void **st)
{
    (void)st;
    lcs_state *s = open_db("c.db");
    lcs_error e;
    struct {
        const char *in, *stored;
        lcs_state_type t;
    } cases[] = {
        {"5", "5", LCS_STATE_NUMBER},         {" -2.5e3 ", "-2.5e3", LCS_STATE_NUMBER},
        {"true", "true", LCS_STATE_BOOLEAN},  {"false", "false", LCS_STATE_BOOLEAN},
        {"[1,2]", "[1,2]", LCS_STATE_JSON},   {"{\"a\":{}}", "{\"a\":{}}", LCS_STATE_JSON},
        {"null", "null", LCS_STATE_JSON},     {"hello", "hello", LCS_STATE_STRING},
        {"True", "True", LCS_STATE_STRING},   {"\"quoted\"", "\"quoted\"", LCS_STATE_STRING},
        {"{not json", "{not json", LCS_STATE_STRING}, {"1.", "1.", LCS_STATE_STRING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(lcs_state_set_auto(s, "k", cases[i].in, strlen(cases[i].in), &e), 0);
        check_stored(s, "k", cases[i].t, cases[i].stored, strlen(cases[i].stored));
    }
    lcs_state_close(s);
}

static void state_keys_delete_clear(void **st)
{
    (void)st;
    lcs_state *s = open_db("d.db");
    lcs_error e;
    char **k = lcs_state_keys(s, &e);
    assert_non_null(k);
    assert_null(k[0]);
    lcs_strv_free(k);
    lcs_state_set(s, "zeta", LCS_STATE_STRING, "1", 1, &e);
    lcs_state_set(s, "alpha", LCS_STATE_STRING, "2", 1, &e);
    lcs_state_set(s, "alpha", LCS_STATE_NUMBER, "3", 1, &e); /* replace */
    k = lcs_state_keys(s, &e);
    assert_string_equal(k[0], "alpha");
    assert_string_equal(k[1], "zeta");
    assert_null(k[2]);
    lcs_strv_free(k);
    check_stored(s, "alpha", LCS_STATE_NUMBER, "3", 1);
    assert_int_equal(lcs_state_delete(s, "zeta", &e), 1);
    assert_int_equal(lcs_state_delete(s, "zeta", &e), 0);
    assert_int_equal(lcs_state_get(s, "zeta", NULL, NULL, NULL, &e), 0);
    assert_int_equal(lcs_state_clear(s, &e), 0);
    assert_int_equal(lcs_state_get(s, "alpha", NULL, NULL, NULL, &e), 0);
    lcs_state_close(s);
}

static void state_event_log_and_recorded_files(void **st)
{
    (void)st;
    lcs_state *s = open_db("e.db");
    lcs_error e;
    assert_int_equal(lcs_state_log_event(s, "info", "first", &e), 0);
    assert_int_equal(lcs_state_log_event(s, "error", "second|with\nnewline", &e), 0);
    assert_int_equal(lcs_state_log_event(s, "INFO", "third", &e), 0);
    char *logs = lcs_state_logs_json(s, NULL, 0, 0, &e);
    /* Newest first, level upper-cased. */
    assert_non_null(logs);
    assert_true(strstr(logs, "third") < strstr(logs, "second"));
    assert_contains(logs, "\"level\":\"ERROR\"");
    assert_contains(logs, "second|with\\nnewline");
    lcs_free(logs);
    logs = lcs_state_logs_json(s, "info", 1, 1, &e);
    assert_contains(logs, "first");
    assert_not_contains(logs, "third");
    lcs_free(logs);
    assert_int_equal(lcs_state_record_file(s, "out/a b.txt", 12, "report 'q'", &e), 0);
    assert_int_equal(lcs_state_record_file(s, "x.bin", 3, NULL, &e), 0);
    assert_int_equal(lcs_state_record_file(s, "out/a b.txt", 14, "updated", &e), 0);
    char *files = lcs_state_files_json(s, &e);
    assert_contains(files, "\"path\":\"out/a b.txt\"");
    assert_contains(files, "\"size_bytes\":14");
    assert_contains(files, "updated");
    assert_not_contains(files, "report");
    lcs_free(files);
    lcs_state_set(s, "cfg", LCS_STATE_JSON, "{\"a\":[1]}", 9, &e);
    lcs_state_set(s, "n", LCS_STATE_NUMBER, "42", 2, &e);
    char *ex = lcs_state_export_json(s, &e);
    assert_non_null(ex);
    assert_contains(ex, "\"type\": \"json\"");
    assert_contains(ex, "\"value\": 42");
    assert_contains(ex, "\"logs\"");
    assert_contains(ex, "\"files\"");
    lcs_free(ex);
    lcs_state_close(s);
}

/* An agent saving file after file cannot grow the host's list without
 * end: past LCS_STATE_MAX_FILES a new path is refused, updates still work. */
static void recorded_files_are_bounded(void **st)
{
    (void)st;
    lcs_error e;
    lcs_state *s = lcs_state_open(":memory:", &e);
    assert_non_null(s);
    char p[32];
    for (int i = 0; i < LCS_STATE_MAX_FILES; i++) {
        snprintf(p, sizeof p, "f%d", i);
        assert_int_equal(lcs_state_record_file(s, p, 1, NULL, &e), 0);
    }
    assert_int_equal(lcs_state_record_file(s, "one-more", 1, NULL, &e), -1);
    assert_int_equal(e.code, LCS_E_DENIED);
    assert_contains(e.message, "10000 files are recorded already");
    assert_int_equal(lcs_state_record_file(s, "f7", 2, "updated", &e), 0);
    lcs_state_close(s);
}

static void state_file_is_private_and_never_a_symlink(void **st)
{
    (void)st;
    lcs_state *s = open_db("f.db");
    lcs_state_close(s);
    char p[128], victim[128];
    snprintf(p, sizeof p, "%s/f.db", dir);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    FILE *f = fopen(victim, "w");
    fputs("keep me", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/link.db", dir);
    assert_int_equal(symlink(victim, p), 0);
    lcs_error e;
    assert_null(lcs_state_open(p, &e));
    assert_contains(e.message, "symlink");
    f = fopen(victim, "r");
    char buf[16] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "keep me");
}

static void state_refuses_upstream_schema_database(void **st)
{
    (void)st;
    char p[128];
    snprintf(p, sizeof p, "%s/upstream.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    /* Upstream's provider created agent_state without value_type. */
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE agent_state(key TEXT PRIMARY KEY, value TEXT, "
                                  "updated_at TIMESTAMP)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    lcs_error e;
    assert_null(lcs_state_open(p, &e));
    assert_int_equal(e.code, LCS_E_VALIDATION);
    assert_contains(e.message, "not made by llmcore-sandbox");
}

static void state_memory_store_works(void **st)
{
    (void)st;
    lcs_error e;
    lcs_state *s = lcs_state_open(":memory:", &e);
    assert_non_null(s);
    assert_int_equal(lcs_state_set(s, "k", LCS_STATE_STRING, "v", 1, &e), 0);
    check_stored(s, "k", LCS_STATE_STRING, "v", 1);
    lcs_state_close(s);
    assert_string_equal(lcs_state_type_name(LCS_STATE_JSON), "json");
    lcs_state_type t;
    assert_int_equal(lcs_state_type_parse("boolean", &t), 0);
    assert_int_equal(t, LCS_STATE_BOOLEAN);
    assert_int_equal(lcs_state_type_parse("bool", &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tool_json_strings_are_always_utf8),
        cmocka_unit_test(state_strings_round_trip_exactly),
        cmocka_unit_test(state_types_are_kept),
        cmocka_unit_test(state_auto_typing_follows_upstream_without_its_bugs),
        cmocka_unit_test(state_keys_delete_clear),
        cmocka_unit_test(state_event_log_and_recorded_files),
        cmocka_unit_test(recorded_files_are_bounded),
        cmocka_unit_test(state_file_is_private_and_never_a_symlink),
        cmocka_unit_test(state_refuses_upstream_schema_database),
        cmocka_unit_test(state_memory_store_works),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
