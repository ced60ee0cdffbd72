/*
 * test_manifest.c - manifest parsing, validation and serialisation.
 */
#include "testutil.h"

#include <unistd.h>

static const char *const shipped[] = {
    "container_images/base/capabilities.json",
    "container_images/specialized/python/capabilities.json",
    "container_images/specialized/nodejs/capabilities.json",
    "container_images/specialized/shell/capabilities.json",
    "container_images/task/research/capabilities.json",
    "container_images/task/websearch/capabilities.json",
};

#define VALID_MIN                                                                                  \
    "{\"name\": \"llmcore-sandbox-x\", \"version\": \"1.0.0\", \"tier\": \"base\", "             \
    "\"capabilities\": [\"shell\"], \"default_access_mode\": \"restricted\""

static void shipped_manifests_parse_and_validate(void **state)
{
    (void)state;
    char path[4096];
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        lcs_error err;
        lcs_error_clear(&err);
        lcs_manifest *m = lcs_manifest_load_file(src_path(path, sizeof path, shipped[i]), &err);
        if (!m)
            fail_msg("%s: %s", shipped[i], err.message);
        assert_int_equal(lcs_manifest_validate(m, &err), 0);
        assert_string_equal(m->user, "sandbox");
        assert_string_equal(m->working_directory, "/home/sandbox/work");
        assert_true(lcs_manifest_has_capability(m, LCS_CAP_SHELL));
        lcs_manifest_free(m);
    }
}

static void shipped_limits_follow_the_tier_table(void **state)
{
    (void)state;
    static const struct {
        const char *ref;
        uint64_t mb;
        double cpu;
        uint32_t timeout, pids;
        lcs_access_mode mode;
    } want[] = {
        {"llmcore-sandbox-base:1.0.0", 512, 1, 300, 50, LCS_ACCESS_RESTRICTED},
        {"llmcore-sandbox-python:1.0.0", 1024, 2, 600, 100, LCS_ACCESS_RESTRICTED},
        {"llmcore-sandbox-nodejs:1.0.0", 1024, 2, 600, 100, LCS_ACCESS_RESTRICTED},
        {"llmcore-sandbox-shell:1.0.0", 1024, 2, 600, 100, LCS_ACCESS_RESTRICTED},
        {"llmcore-sandbox-research:1.0.0", 4096, 4, 1800, 200, LCS_ACCESS_FULL},
        {"llmcore-sandbox-websearch:1.0.0", 2048, 2, 900, 150, LCS_ACCESS_FULL},
    };
    assert_int_equal(lcs_builtin_count(), 6);
    for (size_t i = 0; i < 6; i++) {
        lcs_manifest *m = lcs_builtin_manifest_get(want[i].ref, NULL);
        assert_non_null(m);
        assert_int_equal(m->limits.memory_mb, want[i].mb);
        assert_true(m->limits.cpu_cores == want[i].cpu);
        assert_int_equal(m->limits.timeout_seconds, want[i].timeout);
        assert_int_equal(m->limits.max_processes, want[i].pids);
        assert_int_equal(m->default_access_mode, want[i].mode);
        lcs_manifest_free(m);
    }
}

static void builtin_manifests_match_the_shipped_files(void **state)
{
    (void)state;
    char path[4096];
    for (size_t i = 0; i < 6; i++) {
        lcs_manifest *a = lcs_builtin_manifest(i, NULL);
        lcs_manifest *b = lcs_manifest_load_file(src_path(path, sizeof path, shipped[i]), NULL);
        assert_non_null(a);
        assert_non_null(b);
        char *ja = lcs_manifest_to_json(a, NULL), *jb = lcs_manifest_to_json(b, NULL);
        assert_string_equal(ja, jb);
        lcs_free(ja);
        lcs_free(jb);
        lcs_manifest_free(a);
        lcs_manifest_free(b);
    }
}

static void hierarchy_parents_are_as_the_seed_draws_them(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"llmcore-sandbox-python", "llmcore-sandbox-base:1.0.0"},
        {"llmcore-sandbox-nodejs", "llmcore-sandbox-base:1.0.0"},
        {"llmcore-sandbox-shell", "llmcore-sandbox-base:1.0.0"},
        {"llmcore-sandbox-research", "llmcore-sandbox-python:1.0.0"},
        {"llmcore-sandbox-websearch", "llmcore-sandbox-python:1.0.0"},
    };
    for (size_t i = 0; i < 5; i++) {
        lcs_manifest *m = lcs_builtin_manifest_get(pairs[i][0], NULL);
        assert_non_null(m);
        assert_string_equal(m->parent_image, pairs[i][1]);
        lcs_manifest *parent = lcs_builtin_manifest_get(m->parent_image, NULL);
        assert_non_null(parent);
        /* A child keeps every capability of its parent. */
        assert_true(lcs_manifest_has_all(m, parent->capabilities));
        lcs_manifest_free(parent);
        lcs_manifest_free(m);
    }
    lcs_manifest *base = lcs_builtin_manifest_get("llmcore-sandbox-base", NULL);
    assert_null(base->parent_image);
    lcs_manifest_free(base);
}

static void upstream_schema_is_normalised(void **state)
{
    (void)state;
    const char *up = "{\"name\": \"custom-img\", \"version\": \"2.1.0\", \"tier\": \"specialized\","
                     " \"base_image\": \"llmcore-sandbox-python:1.0.0\", \"capabilities\":"
                     " [\"python\", \"shell\"], \"default_access_mode\": \"restricted\","
                     " \"resource_limits\": {\"memory_limit\": \"1g\", \"cpu_limit\": 1.5,"
                     " \"pids_limit\": 64, \"timeout_seconds\": 120},"
                     " \"working_directory\": \"/workspace\", \"entrypoint\": \"/bin/sh\","
                     " \"build_date\": \"2026-01-02T03:04:05Z\", \"vcs_ref\": \"abc123\"}";
    lcs_error err;
    lcs_manifest *m = lcs_manifest_load_string(up, &err);
    if (!m)
        fail_msg("%s", err.message);
    assert_string_equal(m->parent_image, "llmcore-sandbox-python:1.0.0");
    assert_int_equal(m->limits.memory_mb, 1024);
    assert_true(m->limits.cpu_cores == 1.5);
    assert_int_equal(m->limits.max_processes, 64);
    assert_int_equal(m->limits.timeout_seconds, 120);
    assert_string_equal(m->working_directory, "/workspace");
    char *js = lcs_manifest_to_json(m, NULL);
    assert_contains(js, "\"parent_image\": \"llmcore-sandbox-python:1.0.0\"");
    assert_contains(js, "\"memory_mb\": 1024");
    assert_contains(js, "\"cpu_cores\": 1.5");
    assert_contains(js, "\"max_processes\": 64");
    assert_contains(js, "\"vcs_ref\": \"abc123\"");
    assert_not_contains(js, "base_image");
    lcs_free(js);
    lcs_manifest_free(m);
}

static void memory_strings_in_every_unit(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        long long mb; /* -1: must be rejected */
    } cases[] = {
        {"\"512m\"", 512},   {"\"1g\"", 1024},    {"\"1.5g\"", 1536}, {"\"20480k\"", 20},
        {"\"512MiB\"", 512}, {"\"1G\"", 1024},    {"1073741824", 1024},
        {"\"1500k\"", -1},   {"\"12q\"", -1},     {"\"-1g\"", -1},    {"\"\"", -1},
        {"\"1gx\"", -1},     {"1000", -1},        {"true", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, VALID_MIN ", \"resource_limits\": {\"memory_limit\": %s}}",
                 cases[i].value);
        lcs_error err;
        lcs_manifest *m = lcs_manifest_load_string(buf, &err);
        if (cases[i].mb < 0) {
            if (m)
                fail_msg("memory_limit %s should be rejected", cases[i].value);
            assert_int_equal(err.code, LCS_E_VALIDATION);
            assert_contains(err.message, "memory_limit");
        } else {
            if (!m)
                fail_msg("memory_limit %s: %s", cases[i].value, err.message);
            assert_int_equal(m->limits.memory_mb, (uint64_t)cases[i].mb);
            lcs_manifest_free(m);
        }
    }
}

static void missing_limits_take_the_tier_defaults(void **state)
{
    (void)state;
    lcs_manifest *m = lcs_manifest_load_string(
        "{\"name\": \"t\", \"version\": \"1.0\", \"tier\": \"task\", \"parent_image\": "
        "\"llmcore-sandbox-python:1.0.0\", \"capabilities\": [], \"default_access_mode\": "
        "\"full\", \"resource_limits\": {\"memory_mb\": 3000}}",
        NULL);
    assert_non_null(m);
    assert_int_equal(m->limits.memory_mb, 3000);
    assert_int_equal(m->limits.max_processes, 200);
    assert_int_equal(m->limits.timeout_seconds, 1800);
    lcs_manifest_free(m);
}

/* The corpus of broken manifests: each must fail with the right code and
 * a message naming the problem. */
static void broken_manifests_yield_precise_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        lcs_status code;
        const char *expect;
    } cases[] = {
        {"", LCS_E_PARSE, "JSON syntax error"},
        {"[1, 2]", LCS_E_VALIDATION, "top level must be a JSON object, got an array"},
        {"42", LCS_E_VALIDATION, "got an integer"},
        {"{\"version\": \"1.0.0\", \"tier\": \"base\", \"capabilities\": [], "
         "\"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "name: missing"},
        {"{\"name\": \"x\", \"tier\": \"base\", \"capabilities\": [], \"default_access_mode\": "
         "\"restricted\"}",
         LCS_E_VALIDATION, "version: missing"},
        {"{\"name\": \"x\", \"version\": \"latest\", \"tier\": \"base\", \"capabilities\": [], "
         "\"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "version: 'latest' is not a version"},
        {"{\"name\": \"x\", \"version\": \"1\", \"tier\": \"base\", \"capabilities\": [], "
         "\"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "version: '1' is not a version"},
        {"{\"name\": \"x\", \"version\": 1.0, \"tier\": \"base\", \"capabilities\": [], "
         "\"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "version: must be a string"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"premium\", \"capabilities\": [], "
         "\"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "unknown tier 'premium'"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"base\", \"capabilities\": [], "
         "\"default_access_mode\": \"open\"}",
         LCS_E_VALIDATION, "unknown access mode 'open'"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"base\", \"capabilities\": "
         "[\"shell\", \"teleport\"], \"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "capabilities[1]: unknown capability 'teleport'"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"base\", \"capabilities\": "
         "[\"shell\", \"shell\"], \"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "listed twice"},
        {VALID_MIN ", \"resource_limits\": {\"memory_mb\": -5}}", LCS_E_VALIDATION,
         "memory_mb: must be positive"},
        {VALID_MIN ", \"resource_limits\": {\"memory_mb\": 99999999999}}", LCS_E_VALIDATION,
         "is absurd"},
        {VALID_MIN ", \"resource_limits\": {\"cpu_cores\": 0}}", LCS_E_VALIDATION,
         "cpu_cores: 0 is outside"},
        {VALID_MIN ", \"resource_limits\": {\"cpu_cores\": 5000}}", LCS_E_VALIDATION,
         "cpu_cores: 5000 is outside"},
        {VALID_MIN ", \"resource_limits\": {\"timeout_seconds\": 0}}", LCS_E_VALIDATION,
         "timeout_seconds: must be positive"},
        {VALID_MIN ", \"resource_limits\": {\"max_processes\": 10000000}}", LCS_E_VALIDATION,
         "max_processes: 10000000 is absurd"},
        {VALID_MIN ", \"resource_limits\": {\"memory\": 5}}", LCS_E_VALIDATION,
         "resource_limits: unknown key 'memory'"},
        {VALID_MIN ", \"resource_limits\": {\"memory_mb\": 512, \"memory_limit\": \"1g\"}}",
         LCS_E_VALIDATION, "disagree"},
        {VALID_MIN ", \"parent_image\": \"llmcore-sandbox-base:1.0.0\"}", LCS_E_VALIDATION,
         "a base-tier image has no parent"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"task\", \"capabilities\": [], "
         "\"default_access_mode\": \"full\"}",
         LCS_E_VALIDATION, "a task-tier image must name its parent image"},
        {VALID_MIN ", \"user\": \"root\"}", LCS_E_VALIDATION, "must not run as root"},
        {VALID_MIN ", \"user\": \"0\"}", LCS_E_VALIDATION, "must not run as root"},
        {VALID_MIN ", \"working_directory\": \"work\"}", LCS_E_VALIDATION,
         "must be an absolute path"},
        {VALID_MIN ", \"working_directory\": \"/home/../etc\"}", LCS_E_VALIDATION,
         "without '.', '..'"},
        {VALID_MIN ", \"environment\": {\"1BAD\": \"x\"}}", LCS_E_VALIDATION,
         "'1BAD' is not a valid variable name"},
        {VALID_MIN ", \"environment\": {\"A\": 1}}", LCS_E_VALIDATION,
         "environment.A: must be a string"},
        {VALID_MIN ", \"tools\": \"bash\"}", LCS_E_VALIDATION, "tools: must be an array"},
        {VALID_MIN ", \"tools\": [\"bash\", \"bash\"]}", LCS_E_VALIDATION, "listed twice"},
        {VALID_MIN ", \"colour\": \"blue\"}", LCS_E_VALIDATION, "unknown key 'colour'"},
        {VALID_MIN ", \"name\": \"again\"}", LCS_E_PARSE, "duplicate object key"},
        {"{\"name\": \"Bad Name\", \"version\": \"1.0\", \"tier\": \"base\", \"capabilities\": "
         "[], \"default_access_mode\": \"restricted\"}",
         LCS_E_VALIDATION, "not a valid image name"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"specialized\", \"parent_image\": "
         "\"llmcore-sandbox-base\", \"capabilities\": [], \"default_access_mode\": "
         "\"restricted\"}",
         LCS_E_VALIDATION, "not an image reference with a tag"},
        {VALID_MIN ", \"build_date\": \"yesterday\"}", LCS_E_VALIDATION,
         "build_date: 'yesterday' is not an ISO 8601 date"},
        {"{\"name\": \"x\", \"version\": \"1.0\", \"tier\": \"base\", \"default_access_mode\": "
         "\"restricted\"}",
         LCS_E_VALIDATION, "capabilities: missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lcs_error err;
        lcs_error_clear(&err);
        lcs_manifest *m = lcs_manifest_load_string(cases[i].json, &err);
        if (m)
            fail_msg("case %zu should fail: %s", i, cases[i].json);
        if (err.code != cases[i].code)
            fail_msg("case %zu: code %s, want %s (%s)", i, lcs_status_name(err.code),
                     lcs_status_name(cases[i].code), err.message);
        assert_contains(err.message, cases[i].expect);
    }
}

static void every_problem_is_listed_at_once(void **state)
{
    (void)state;
    lcs_error err;
    lcs_manifest *m = lcs_manifest_load_string(
        "{\"name\": \"\", \"version\": \"x\", \"tier\": \"gold\", \"capabilities\": [\"magic\"],"
        " \"default_access_mode\": \"open\", \"user\": \"root\"}",
        &err);
    assert_null(m);
    assert_int_equal(err.code, LCS_E_VALIDATION);
    assert_contains(err.message, "6 problems");
    assert_contains(err.message, "name: must not be empty");
    assert_contains(err.message, "version: 'x'");
    assert_contains(err.message, "unknown tier 'gold'");
    assert_contains(err.message, "unknown capability 'magic'");
    assert_contains(err.message, "unknown access mode 'open'");
    assert_contains(err.message, "must not run as root");
}

static void a_truncated_problem_list_says_how_many_are_missing(void **state)
{
    (void)state;
    char buf[8192];
    int off = snprintf(buf, sizeof buf, "{\"name\": \"x\", \"version\": \"1.0\", \"tier\": "
                                        "\"base\", \"default_access_mode\": \"restricted\", "
                                        "\"capabilities\": [");
    for (int i = 0; i < 60; i++)
        off += snprintf(buf + off, sizeof buf - (size_t)off, "%s\"unknown-capability-%02d\"",
                        i ? ", " : "", i);
    snprintf(buf + off, sizeof buf - (size_t)off, "]}");
    lcs_error err;
    assert_null(lcs_manifest_load_string(buf, &err));
    assert_contains(err.message, "60 problems");
    assert_contains(err.message, "more problems");
    /* The count shown plus the count announced as missing is 60. */
    unsigned shown = 0, missing = 0;
    for (const char *c = err.message; (c = strstr(c, "unknown capability 'unknown-capability")); c++)
        shown++;
    const char *m = strstr(err.message, "... and ");
    assert_non_null(m);
    assert_int_equal(sscanf(m, "... and %u more", &missing), 1);
    assert_int_equal(shown + missing, 60);
}

static void syntax_errors_report_line_and_column(void **state)
{
    (void)state;
    lcs_error err;
    lcs_manifest *m =
        lcs_manifest_load_string("{\n  \"name\": \"x\",\n  \"version\": \"1.0\"\n  \"tier\": 1\n}", &err);
    assert_null(m);
    assert_int_equal(err.code, LCS_E_PARSE);
    assert_int_equal(err.line, 4);
    assert_true(err.column > 0);
    assert_contains(err.message, "line 4, column");

    char path[4096];
    m = lcs_manifest_load_file(src_path(path, sizeof path, "tests/data/broken-syntax.json"), &err);
    assert_null(m);
    assert_int_equal(err.code, LCS_E_PARSE);
    assert_int_equal(err.line, 6);
    assert_contains(err.message, "broken-syntax.json");
}

static void missing_file_is_not_found(void **state)
{
    (void)state;
    lcs_error err;
    assert_null(lcs_manifest_load_file("/nonexistent/capabilities.json", &err));
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_contains(err.message, "manifest file not found: /nonexistent/capabilities.json");
    assert_null(lcs_manifest_load_file("/", &err));
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "not a regular file");
}

static void serialisation_is_stable_and_round_trips(void **state)
{
    (void)state;
    lcs_manifest *m = lcs_builtin_manifest_get("llmcore-sandbox-research:1.0.0", NULL);
    char *a = lcs_manifest_to_json(m, NULL);
    /* Key order is fixed. */
    const char *order[] = {"\"name\"", "\"version\"", "\"tier\"", "\"description\"",
                           "\"parent_image\"", "\"capabilities\"", "\"tools\"",
                           "\"default_access_mode\"", "\"resource_limits\"", "\"environment\"",
                           "\"user\"", "\"working_directory\""};
    const char *prev = a;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *at = strstr(a, order[i]);
        assert_non_null(at);
        assert_true(at >= prev);
        prev = at;
    }
    /* Capabilities in canonical order regardless of input order. */
    assert_contains(a, "\"shell\",\n    \"network\",\n    \"filesystem\",\n    \"python\"");
    lcs_manifest *b = lcs_manifest_load_string(a, NULL);
    assert_non_null(b);
    char *c = lcs_manifest_to_json(b, NULL);
    assert_string_equal(a, c);

    char dir[] = "/tmp/lcs-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/sub/dir/capabilities.json", dir);
    assert_int_equal(lcs_manifest_save_file(b, path, NULL), 0);
    lcs_manifest *d = lcs_manifest_load_file(path, NULL);
    assert_non_null(d);
    char *e = lcs_manifest_to_json(d, NULL);
    assert_string_equal(a, e);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub/dir", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
    lcs_free(a);
    lcs_free(c);
    lcs_free(e);
    lcs_manifest_free(b);
    lcs_manifest_free(d);
    lcs_manifest_free(m);
}

static void saving_an_invalid_manifest_is_refused(void **state)
{
    (void)state;
    lcs_manifest *m = lcs_builtin_manifest_get("llmcore-sandbox-python", NULL);
    free(m->user);
    m->user = strdup("root");
    m->limits.memory_mb = 0;
    lcs_error err;
    assert_int_equal(lcs_manifest_validate(m, &err), -1);
    assert_contains(err.message, "2 problems");
    assert_int_equal(lcs_manifest_save_file(m, "/tmp/lcs-never-written.json", &err), -1);
    assert_int_equal(access("/tmp/lcs-never-written.json", F_OK), -1);
    lcs_manifest_free(m);
}

static void copies_are_independent(void **state)
{
    (void)state;
    lcs_manifest *m = lcs_builtin_manifest_get("llmcore-sandbox-python:1.0.0", NULL);
    lcs_manifest *c = lcs_manifest_copy(m, NULL);
    c->tools[0][0] = 'X';
    c->capabilities = 0;
    assert_string_equal(m->tools[0], "python3");
    assert_true(lcs_manifest_has_capability(m, LCS_CAP_PYTHON));
    assert_true(lcs_manifest_has_tool(m, "git"));
    assert_false(lcs_manifest_has_tool(m, "gcc"));
    lcs_manifest_free(c);
    lcs_manifest_free(m);
    /* Builtins are parsed afresh: a caller's change never leaks back. */
    lcs_manifest *again = lcs_builtin_manifest_get("llmcore-sandbox-python:1.0.0", NULL);
    assert_string_equal(again->tools[0], "python3");
    lcs_manifest_free(again);
}

static void enum_names_round_trip(void **state)
{
    (void)state;
    for (int c = 0; c < LCS_CAP_COUNT; c++) {
        lcs_capability back;
        assert_int_equal(lcs_capability_parse(lcs_capability_name((lcs_capability)c), &back), 0);
        assert_int_equal(back, c);
    }
    lcs_capability cap;
    assert_int_equal(lcs_capability_parse("  PDF_Tools ", &cap), 0);
    assert_int_equal(cap, LCS_CAP_PDF_TOOLS);
    assert_int_equal(lcs_capability_parse("pdf tools", &cap), -1);
    lcs_tier t;
    assert_int_equal(lcs_tier_parse("Task", &t), 0);
    assert_int_equal(t, LCS_TIER_TASK);
    lcs_access_mode a;
    assert_int_equal(lcs_access_mode_parse("FULL", &a), 0);
    assert_int_equal(a, LCS_ACCESS_FULL);
    char *s = lcs_capset_format(LCS_CAPSET(LCS_CAP_GIT) | LCS_CAPSET(LCS_CAP_SHELL));
    assert_string_equal(s, "shell,git");
    lcs_free(s);
    assert_int_equal(LCS_CAP_COUNT, 19);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipped_manifests_parse_and_validate),
        cmocka_unit_test(shipped_limits_follow_the_tier_table),
        cmocka_unit_test(builtin_manifests_match_the_shipped_files),
        cmocka_unit_test(hierarchy_parents_are_as_the_seed_draws_them),
        cmocka_unit_test(upstream_schema_is_normalised),
        cmocka_unit_test(memory_strings_in_every_unit),
        cmocka_unit_test(missing_limits_take_the_tier_defaults),
        cmocka_unit_test(broken_manifests_yield_precise_errors),
        cmocka_unit_test(every_problem_is_listed_at_once),
        cmocka_unit_test(a_truncated_problem_list_says_how_many_are_missing),
        cmocka_unit_test(syntax_errors_report_line_and_column),
        cmocka_unit_test(missing_file_is_not_found),
        cmocka_unit_test(serialisation_is_stable_and_round_trips),
        cmocka_unit_test(saving_an_invalid_manifest_is_refused),
        cmocka_unit_test(copies_are_independent),
        cmocka_unit_test(enum_names_round_trip),
    };
    return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
