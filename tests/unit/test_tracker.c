/*
 * test_tracker.c - host-side output tracking (src/tools/tracker.c): the run
 * layout, logs and manifest, symlinks planted in the run directory are never
 * followed, run ids cannot traverse, listing is by time, cleanup and delete
 * never touch a run in use. Copying out of a session is covered by the
 * end-to-end suite (tests/tools).
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/jsonbytes.h"

static char base[64];

static int setup(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "/tmp/lcs-tracker-XXXXXX");
    return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static lcs_tracker *open_tracker(const char *sub)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", base, sub);
    lcs_error e;
    lcs_tracker *t = lcs_tracker_open(p, &e);
    if (!t)
        fail_msg("tracker_open %s: %s", p, e.message);
    return t;
}

static void tracker_run_layout_and_logs(void **st)
{
    (void)st;
    lcs_tracker *t = open_tracker("runs");
    lcs_tracker_run_options o;
    lcs_tracker_run_options_init(&o);
    o.run_id = "run-1";
    o.task_description = "analyse";
    o.metadata_json = "{\"agent\": \"x\"}";
    lcs_error e;
    lcs_tracker_run *r = lcs_tracker_run_create(t, &o, &e);
    assert_non_null(r);
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/runs", base);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    const char *files[] = {"metadata.json", "file_manifest.json", "outputs", "logs", "state",
                           "logs/execution.log", "logs/agent.log", "state/state.db", ".lock"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", lcs_tracker_run_dir(r), files[i]);
        assert_int_equal(stat(p, &sb), 0);
    }
    snprintf(p, sizeof p, "%s/metadata.json", lcs_tracker_run_dir(r));
    assert_contains(slurp(p), "\"status\": \"running\"");
    assert_contains(slurp(p), "\"agent\": \"x\"");
    /* A long input is previewed, not copied whole. */
    char big[1000];
    memset(big, 'i', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(lcs_tracker_log_execution(r, "execute_shell", big, 0, 0.5, true, "out\xff", &e), 0);
    assert_int_equal(lcs_tracker_log_execution(r, "load_file", "{}", 1, 0.25, false, "ERROR", &e), 0);
    snprintf(p, sizeof p, "%s/logs/execution.log", lcs_tracker_run_dir(r));
    char *log = slurp(p);
    assert_contains(log, "\"tool_name\":\"execute_shell\"");
    assert_contains(log, "out\xef\xbf\xbd"); /* invalid UTF-8 repaired */
    assert_not_contains(log, big);
    int lines = 0;
    for (char *c = log; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 2);
    snprintf(p, sizeof p, "%s/metadata.json", lcs_tracker_run_dir(r));
    assert_contains(slurp(p), "\"execution_count\": 2");
    assert_int_equal(lcs_tracker_log_event(r, "WARNING", "something", "{\"n\":1}", &e), 0);
    assert_int_equal(lcs_tracker_track_file(r, "outputs/a.txt", 5, "desc", &e), 0);
    snprintf(p, sizeof p, "%s/file_manifest.json", lcs_tracker_run_dir(r));
    assert_contains(slurp(p), "\"outputs/a.txt\"");
    assert_int_equal(lcs_tracker_run_annotate(r, "session_id", "\"abc\"", &e), 0);
    assert_int_equal(lcs_tracker_save_final_state(r, "{\"state\":{}}", &e), 0);
    char dir[200];
    snprintf(dir, sizeof dir, "%.190s", lcs_tracker_run_dir(r));
    assert_int_equal(lcs_tracker_run_finish(r, true, NULL, &e), 0);
    snprintf(p, sizeof p, "%s/metadata.json", dir);
    assert_contains(slurp(p), "\"status\": \"completed\"");
    assert_contains(slurp(p), "\"session_id\": \"abc\"");
    snprintf(p, sizeof p, "%s/logs/execution_summary.json", dir);
    assert_contains(slurp(p), "\"total_executions\": 2");
    assert_contains(slurp(p), "\"failed\": 1");
    snprintf(p, sizeof p, "%s/state/final_state.json", dir);
    assert_contains(slurp(p), "\"state\"");
    /* Same id again: refused, never reused. */
    assert_null(lcs_tracker_run_create(t, &o, &e));
    assert_int_equal(e.code, LCS_E_EXISTS);
    lcs_tracker_close(t);
}

static void tracker_never_follows_planted_symlinks(void **st)
{
    (void)st;
    lcs_tracker *t = open_tracker("runs2");
    lcs_tracker_run_options o;
    lcs_tracker_run_options_init(&o);
    lcs_error e;
    lcs_tracker_run *r = lcs_tracker_run_create(t, &o, &e);
    assert_non_null(r);
    char victim[128], p[512];
    snprintf(victim, sizeof victim, "%s/victim", base);
    FILE *f = fopen(victim, "w");
    fputs("precious", f);
    fclose(f);
    /* Someone replaces metadata.json, file_manifest.json and the final
     * state with symlinks to a host file. */
    const char *names[] = {"metadata.json", "file_manifest.json", "state/final_state.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", lcs_tracker_run_dir(r), names[i]);
        unlink(p);
        assert_int_equal(symlink(victim, p), 0);
    }
    /* And execution.log is swapped for a symlink (the open fd keeps writing
     * to the real log, never through the link). */
    snprintf(p, sizeof p, "%s/logs/execution.log", lcs_tracker_run_dir(r));
    unlink(p);
    assert_int_equal(symlink(victim, p), 0);
    assert_int_equal(lcs_tracker_log_execution(r, "t", "in", 0, 0.1, true, "out", &e), 0);
    assert_int_equal(lcs_tracker_track_file(r, "x", 1, "", &e), 0);
    assert_int_equal(lcs_tracker_save_final_state(r, "{}", &e), 0);
    char dir[200];
    snprintf(dir, sizeof dir, "%.190s", lcs_tracker_run_dir(r));
    assert_int_equal(lcs_tracker_run_finish(r, true, NULL, &e), 0);
    assert_string_equal(slurp(victim), "precious");
    /* The links themselves were replaced by real files. */
    struct stat sb;
    snprintf(p, sizeof p, "%s/metadata.json", dir);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    lcs_tracker_close(t);
}

static void tracker_run_ids_cannot_traverse(void **st)
{
    (void)st;
    lcs_tracker *t = open_tracker("runs3");
    lcs_tracker_run_options o;
    lcs_tracker_run_options_init(&o);
    const char *bad[] = {"../escape", "a/b", ".hidden", "", "x\ny", ".."};
    lcs_error e;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        o.run_id = bad[i];
        assert_null(lcs_tracker_run_create(t, &o, &e));
        assert_int_equal(e.code, LCS_E_INVALID);
    }
    assert_int_equal(lcs_tracker_delete_run(t, "../runs", &e), -1);
    assert_null(lcs_tracker_run_metadata_json(t, "../x", &e));
    char p[128];
    snprintf(p, sizeof p, "%s/escape", base);
    assert_int_equal(access(p, F_OK), -1);
    lcs_tracker_close(t);
}

static void tracker_refuses_unsafe_base_directory(void **st)
{
    (void)st;
    char p[128], l[128];
    snprintf(p, sizeof p, "%s/open", base);
    mkdir(p, 0777);
    chmod(p, 0777);
    lcs_error e;
    assert_null(lcs_tracker_open(p, &e));
    assert_int_equal(e.code, LCS_E_DENIED);
    assert_contains(e.message, "chmod 700");
    snprintf(p, sizeof p, "%s/real", base);
    mkdir(p, 0700);
    snprintf(l, sizeof l, "%s/link", base);
    assert_int_equal(symlink(p, l), 0);
    assert_null(lcs_tracker_open(l, &e));
    assert_contains(e.message, "symlink");
}

static void tracker_lists_by_time_and_cleanup_spares_runs_in_use(void **st)
{
    (void)st;
    lcs_tracker *t = open_tracker("runs4");
    lcs_tracker_run_options o;
    lcs_tracker_run_options_init(&o);
    lcs_error e;
    /* Names that sort the other way round from their creation times. */
    const char *ids[] = {"zzz-old", "mmm-mid", "aaa-new"};
    for (int i = 0; i < 3; i++) {
        o.run_id = ids[i];
        lcs_tracker_run *r = lcs_tracker_run_create(t, &o, &e);
        assert_non_null(r);
        assert_int_equal(lcs_tracker_run_finish(r, i != 1, i == 1 ? "boom" : NULL, &e), 0);
        usleep(20000);
    }
    /* Back-date the first two by rewriting created_at. */
    for (int i = 0; i < 2; i++) {
        char p[512], cmd[1024];
        snprintf(p, sizeof p, "%s/runs4/%s/metadata.json", base, ids[i]);
        snprintf(cmd, sizeof cmd,
                 "sed -i 's/\"created_at\": \"[^\"]*\"/\"created_at\": \"2020-01-0%dT00:00:00.000Z\"/' '%s'",
                 i + 1, p);
        assert_int_equal(system(cmd), 0);
    }
    o.run_id = "active";
    lcs_tracker_run *active = lcs_tracker_run_create(t, &o, &e);
    assert_non_null(active);
    char p[512], cmd[1024];
    snprintf(p, sizeof p, "%s/runs4/active/metadata.json", base);
    snprintf(cmd, sizeof cmd,
             "sed -i 's/\"created_at\": \"[^\"]*\"/\"created_at\": \"2019-01-01T00:00:00.000Z\"/' '%s'", p);
    assert_int_equal(system(cmd), 0);
    char *list = lcs_tracker_list_runs_json(t, 0, NULL, &e);
    assert_non_null(list);
    char *pn = strstr(list, "aaa-new"), *pm = strstr(list, "mmm-mid"), *po = strstr(list, "zzz-old"),
         *pa = strstr(list, "\"active\"");
    assert_true(pn && pm && po && pa && pn < pm && pm < po && po < pa);
    assert_contains(list, "\"in_use\": true");
    lcs_free(list);
    list = lcs_tracker_list_runs_json(t, 0, "failed", &e);
    assert_contains(list, "mmm-mid");
    assert_not_contains(list, "aaa-new");
    lcs_free(list);
    /* Delete refuses the active run. */
    assert_int_equal(lcs_tracker_delete_run(t, "active", &e), -1);
    assert_int_equal(e.code, LCS_E_DENIED);
    /* Cleanup: older than a day, keep none: the two back-dated runs go, the
     * active (even older) one stays, the new one stays. */
    assert_int_equal(lcs_tracker_cleanup(t, 86400, 0, &e), 2);
    snprintf(p, sizeof p, "%s/runs4/active", base);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/runs4/aaa-new", base);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/runs4/zzz-old", base);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(lcs_tracker_run_finish(active, true, NULL, &e), 0);
    /* keep_min protects the newest runs whatever their age. */
    int cl = lcs_tracker_cleanup(t, 0, 2, &e);
    if (cl != 0)
        fail_msg("cleanup: %d %s", cl, e.message);
    cl = lcs_tracker_cleanup(t, 0, 1, &e);
    if (cl != 1)
        fail_msg("cleanup: %d %s", cl, e.message);
    /* finish rewrote the active run's metadata (its real, newest creation
     * time), so it is the one kept. */
    assert_int_equal(lcs_tracker_delete_run(t, "active", &e), 0);
    assert_int_equal(lcs_tracker_delete_run(t, "active", &e), -1);
    assert_int_equal(e.code, LCS_E_NOT_FOUND);
    lcs_tracker_close(t);
}

/* Names a sandbox chose, as an operator's terminal or a model's prompt
 * gets them: nothing drives the terminal, starts a line or reorders text;
 * plain UTF-8 is untouched and different names stay different. */
static void hostile_names_are_escaped_for_display(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"report.txt", "report.txt"},
        {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"},
        {"esc\x1b]0;title\x07\x1b[2J", "esc\\x1b]0;title\\x07\\x1b[2J"},
        {"two\nlines\r\t", "two\\nlines\\r\\t"},
        {"bad\xff\xc3", "bad\\xff\\xc3"},
        {"a\xe2\x80\xaetxt.exe", "a\\u202etxt.exe"},         /* RIGHT-TO-LEFT OVERRIDE */
        {"iso\xe2\x81\xa6x\xe2\x81\xa9", "iso\\u2066x\\u2069"}, /* isolates */
        {"c1\xc2\x9b" "31m", "c1\\u009b31m"},                   /* CSI as a C1 control */
        {"back\\slash\\x1b", "back\\\\slash\\\\x1b"},      /* "\x1b" typed, not ESC */
        {"del\x7f", "del\\x7f"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = lcs_text_escape(cases[i].in, strlen(cases[i].in));
        assert_non_null(e);
        assert_string_equal(e, cases[i].out);
        free(e);
    }
    assert_true(lcs_cp_deceptive(0x202e) && lcs_cp_deceptive(0x200f) && lcs_cp_deceptive(0x85));
    assert_false(lcs_cp_deceptive('a') || lcs_cp_deceptive(0xe9) || lcs_cp_deceptive(0x2010));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tracker_run_layout_and_logs),
        cmocka_unit_test(hostile_names_are_escaped_for_display),
        cmocka_unit_test(tracker_never_follows_planted_symlinks),
        cmocka_unit_test(tracker_run_ids_cannot_traverse),
        cmocka_unit_test(tracker_refuses_unsafe_base_directory),
        cmocka_unit_test(tracker_lists_by_time_and_cleanup_spares_runs_in_use),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
