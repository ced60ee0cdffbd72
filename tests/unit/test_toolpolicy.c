/*
 * test_toolpolicy.c - the agent tools without a sandbox: the access policy
 * (deny lists apply in FULL mode, every tool is checked), the schemas
 * (upstream's names and required fields), upstream's to_tool_output text
 * contract, and the host-side tools through lcs_tool_call.
 */
#include "testutil.h"

#include <jansson.h>

static void policy_defaults(void **st)
{
    (void)st;
    lcs_error e;
    lcs_tool_policy *p = lcs_tool_policy_new(&e);
    assert_non_null(p);
    for (size_t i = 0; i < LCS_TOOL_COUNT; i++) {
        assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_RESTRICTED, lcs_tool_name(i), &e), 0);
        assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, lcs_tool_name(i), &e), 0);
    }
    assert_null(lcs_tool_name(LCS_TOOL_COUNT));
    /* Unknown tools: not in the restricted allow list. */
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_RESTRICTED, "calculator", &e), -1);
    assert_int_equal(e.code, LCS_E_DENIED);
    assert_contains(e.message, "Tool 'calculator' is not allowed in restricted sandbox mode.");
    assert_contains(e.message, "allow list");
    /* Upstream's denied names are denied in FULL mode too. */
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "sudo_execute", &e), -1);
    assert_contains(e.message, "Tool 'sudo_execute' is not allowed in full sandbox mode.");
    assert_contains(e.message, "deny list");
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "anything_else", &e), 0);
    lcs_tool_policy_free(p);
}

static void policy_from_json_deny_wins_in_full_mode(void **st)
{
    (void)st;
    lcs_error e;
    lcs_tool_policy *p = lcs_tool_policy_from_json(
        "{\"denied\": [\"delete_*\"],"
        " \"restricted\": {\"allowed\": [\"load_file\", \"list_files\", \"get_state\"]},"
        " \"full\": {\"allowed\": [\"*\"], \"denied\": [\"execute_python\", \"set_state\"]}}",
        &e);
    assert_non_null(p);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_RESTRICTED, "load_file", &e), 0);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_RESTRICTED, "execute_shell", &e), -1);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_RESTRICTED, "set_state", &e), -1);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "execute_shell", &e), 0);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "execute_python", &e), -1);
    assert_contains(e.message, "in the full deny list");
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "set_state", &e), -1);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "delete_file", &e), -1);
    assert_contains(e.message, "'delete_*'");
    char *j = lcs_tool_policy_to_json(p, &e);
    assert_contains(j, "delete_*");
    lcs_tool_policy *q = lcs_tool_policy_from_json(j, &e);
    assert_non_null(q);
    assert_int_equal(lcs_tool_policy_check(q, LCS_ACCESS_FULL, "execute_python", &e), -1);
    lcs_free(j);
    lcs_tool_policy_free(q);
    /* The C API. */
    const char *only[] = {"get_sandbox_info"};
    assert_int_equal(lcs_tool_policy_set_allowed(p, LCS_ACCESS_FULL, only, 1, &e), 0);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "execute_shell", &e), -1);
    assert_int_equal(lcs_tool_policy_set_denied(p, LCS_ACCESS_FULL, only, 1, &e), 0);
    assert_int_equal(lcs_tool_policy_check(p, LCS_ACCESS_FULL, "get_sandbox_info", &e), -1);
    lcs_tool_policy_free(p);
}

static void policy_rejects_bad_documents(void **st)
{
    (void)st;
    lcs_error e;
    assert_null(lcs_tool_policy_from_json("{\"restricted\": {\"allowd\": []}}", &e));
    assert_int_equal(e.code, LCS_E_VALIDATION);
    assert_contains(e.message, "allowd");
    assert_null(lcs_tool_policy_from_json("{\"superuser\": {}}", &e));
    assert_contains(e.message, "superuser");
    assert_null(lcs_tool_policy_from_json("{\"denied\": \"execute_shell\"}", &e));
    assert_contains(e.message, "array");
    assert_null(lcs_tool_policy_from_json("{\"denied\": [\"\"]}", &e));
    assert_null(lcs_tool_policy_from_json("{\"denied\": [", &e));
    assert_int_equal(e.code, LCS_E_PARSE);
    assert_int_equal(e.line, 1);
    assert_null(lcs_tool_policy_load_file("/nonexistent/policy.json", &e));
    assert_int_equal(e.code, LCS_E_NOT_FOUND);
}

static void schemas_match_upstream(void **st)
{
    (void)st;
    lcs_error e;
    char *s = lcs_tool_schemas_json("openai", NULL, LCS_ACCESS_RESTRICTED, &e);
    assert_non_null(s);
    json_t *a = json_loads(s, 0, NULL);
    lcs_free(s);
    assert_int_equal(json_array_size(a), 15);
    struct {
        const char *name, *required;
    } want[] = {
        {"execute_shell", "[\"command\"]"},
        {"execute_python", "[\"code\"]"},
        {"save_file", "[\"path\",\"content\"]"},
        {"load_file", "[\"path\"]"},
        {"replace_in_file", "[\"path\",\"old_value\",\"new_value\"]"},
        {"append_to_file", "[\"path\",\"content\"]"},
        {"list_files", NULL},
        {"file_exists", "[\"path\"]"},
        {"delete_file", "[\"path\"]"},
        {"create_directory", "[\"path\"]"},
        {"get_state", "[\"key\"]"},
        {"set_state", "[\"key\",\"value\"]"},
        {"list_state", NULL},
        {"get_sandbox_info", NULL},
        {"get_recorded_files", NULL},
    };
    for (size_t i = 0; i < 15; i++) {
        json_t *t = json_array_get(a, i);
        assert_string_equal(json_string_value(json_object_get(t, "type")), "function");
        json_t *fn = json_object_get(t, "function");
        assert_string_equal(json_string_value(json_object_get(fn, "name")), want[i].name);
        assert_true(json_string_length(json_object_get(fn, "description")) > 10);
        json_t *params = json_object_get(fn, "parameters");
        assert_string_equal(json_string_value(json_object_get(params, "type")), "object");
        json_t *req = json_object_get(params, "required");
        if (want[i].required) {
            char *r = json_dumps(req, JSON_COMPACT);
            assert_string_equal(r, want[i].required);
            free(r);
        } else
            assert_null(req);
        /* Every parameter has a type. */
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(params, "properties"), k, v)
            assert_non_null(json_object_get(v, "type"));
    }
    json_t *ex = json_object_get(json_object_get(json_object_get(json_object_get(json_array_get(a, 0), "function"), "parameters"), "properties"), "working_dir");
    assert_non_null(ex);
    ex = json_object_get(json_object_get(json_object_get(json_object_get(json_array_get(a, 1), "function"), "parameters"), "properties"), "working_dir");
    assert_non_null(ex); /* execute_python honours working_dir (upstream lacked it) */
    json_decref(a);
    s = lcs_tool_schemas_json("mcp", NULL, LCS_ACCESS_RESTRICTED, &e);
    a = json_loads(s, 0, NULL);
    lcs_free(s);
    assert_non_null(json_object_get(json_array_get(a, 0), "inputSchema"));
    assert_true(json_is_true(json_object_get(json_object_get(json_array_get(a, 8), "annotations"), "destructiveHint")));
    json_decref(a);
    assert_null(lcs_tool_schemas_json("yaml", NULL, LCS_ACCESS_RESTRICTED, &e));
    assert_contains(e.message, "openai or mcp");
    /* Filtered by a policy. */
    lcs_tool_policy *p = lcs_tool_policy_from_json("{\"restricted\": {\"allowed\": [\"*_state\"]}}", &e);
    s = lcs_tool_schemas_json("mcp", p, LCS_ACCESS_RESTRICTED, &e);
    a = json_loads(s, 0, NULL);
    assert_int_equal(json_array_size(a), 3);
    json_decref(a);
    lcs_free(s);
    lcs_tool_policy_free(p);
}

static void rr_init(lcs_run_result *r, const char *verdict, int code, const char *out,
                    const char *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->verdict, sizeof r->verdict, "%s", verdict);
    r->exit_code = code;
    r->stdout_data = (char *)out;
    r->stdout_len = strlen(out);
    r->stderr_data = (char *)err;
    r->stderr_len = strlen(err);
}

static void expect_text(const lcs_run_result *r, const char *want)
{
    lcs_error e;
    char *t = lcs_tool_output_text(r, &e);
    assert_non_null(t);
    assert_string_equal(t, want);
    lcs_free(t);
}

static void tool_output_keeps_upstreams_text_contract(void **st)
{
    (void)st;
    lcs_run_result r;
    rr_init(&r, "ok", 0, "hello\n", "");
    expect_text(&r, "hello\n");
    rr_init(&r, "ok", 0, "  \n", "warn");
    expect_text(&r, "(command completed successfully with no output)");
    rr_init(&r, "exit", 2, "partial\n", "boom\n");
    expect_text(&r, "\xE2\x9D\x8C EXIT CODE: 2\nSTDOUT:\npartial\n\nSTDERR:\nboom\n");
    rr_init(&r, "exit", 1, "", "only err");
    expect_text(&r, "\xE2\x9D\x8C EXIT CODE: 1\nSTDERR:\nonly err");
    rr_init(&r, "timeout", -1, "", "");
    r.signal = 9;
    r.wall_seconds = 2.04;
    expect_text(&r, "\xE2\x8F\xB0 EXECUTION TIMED OUT\n\xE2\x9D\x8C EXIT CODE: -1\nSTDERR:\n"
                    "Command timed out after 2 seconds");
    rr_init(&r, "ok", 0, "x", "");
    r.stdout_truncated = true;
    expect_text(&r, "x\n\n\xE2\x9A\xA0\xEF\xB8\x8F (output was truncated due to size limits)");
    rr_init(&r, "signal", -1, "", "");
    r.signal = 11;
    expect_text(&r, "\xE2\x9D\x8C EXIT CODE: 139\nSTDERR:\nKilled by signal 11");
    rr_init(&r, "memory", -1, "", "");
    r.signal = 9;
    expect_text(&r, "\xE2\x9D\x8C EXIT CODE: 137\nSTDERR:\nKilled: the sandbox's memory limit was reached");
    /* Invalid UTF-8 is replaced, never passed on. */
    rr_init(&r, "ok", 0, "a\xff" "b", "");
    expect_text(&r, "a\xEF\xBF\xBD" "b");
    lcs_error e;
    rr_init(&r, "exit", 3, "o", "e");
    char *j = lcs_tool_execution_json(&r, &e);
    assert_contains(j, "\"exit_code\":3");
    assert_contains(j, "\"success\":false");
    assert_contains(j, "\"timed_out\":false");
    assert_contains(j, "\"verdict\":\"exit\"");
    lcs_free(j);
}

static lcs_tool_context *host_only_context(const char *policy_json, int mode)
{
    lcs_tool_options o;
    lcs_tool_options_init(&o);
    o.session_options.rootfs = "/nonexistent-rootfs"; /* never created by these tests */
    o.track = false;
    o.access_mode = mode;
    lcs_error e;
    lcs_tool_policy *p = policy_json ? lcs_tool_policy_from_json(policy_json, &e) : NULL;
    o.policy = p;
    lcs_tool_context *c = lcs_tool_context_new(&o, &e);
    lcs_tool_policy_free(p);
    if (!c)
        fail_msg("context: %s", e.message);
    return c;
}

static void call(lcs_tool_context *c, const char *name, const char *args, bool want_error,
                 const char *want_text)
{
    lcs_tool_result r;
    lcs_error e;
    assert_int_equal(lcs_tool_call(c, name, args, &r, &e), 0);
    if (r.is_error != want_error)
        fail_msg("%s(%s): is_error %d: %s", name, args ? args : "", r.is_error, r.text);
    assert_string_equal(r.text, want_text);
    assert_non_null(r.json);
    lcs_tool_result_clear(&r);
}

static void state_tools_round_trip_and_are_checked(void **st)
{
    (void)st;
    lcs_tool_context *c = host_only_context(NULL, LCS_ACCESS_RESTRICTED);
    call(c, "list_state", NULL, false, "(no state stored)");
    call(c, "get_state", "{\"key\": \"k\"}", false, "(not set)");
    call(c, "set_state", "{\"key\": \"k\", \"value\": \"a|b\\\"c'd\\n$HOME\"}", false, "State 'k' updated");
    call(c, "get_state", "{\"key\": \"k\"}", false, "a|b\"c'd\n$HOME");
    call(c, "set_state", "{\"key\": \"n\", \"value\": \"5\"}", false, "State 'n' updated");
    call(c, "set_state", "{\"key\": \"s\", \"value\": \"5\", \"value_type\": \"string\"}", false,
         "State 's' updated");
    call(c, "set_state", "{\"key\": \"obj\", \"value\": {\"a\": [1, true]}}", false,
         "State 'obj' updated");
    call(c, "get_state", "{\"key\": \"obj\"}", false, "{\"a\":[1,true]}");
    call(c, "set_state", "{\"key\": \"b\", \"value\": true}", false, "State 'b' updated");
    call(c, "get_state", "{\"key\": \"b\"}", false, "true");
    call(c, "list_state", "{}", false, "b\nk\nn\nobj\ns");
    lcs_tool_result r;
    lcs_error e;
    assert_int_equal(lcs_tool_call(c, "get_state", "{\"key\": \"n\"}", &r, &e), 0);
    assert_contains(r.json, "\"type\":\"number\"");
    assert_contains(r.json, "\"value\":5");
    lcs_tool_result_clear(&r);
    assert_int_equal(lcs_tool_call(c, "get_state", "{\"key\": \"s\"}", &r, &e), 0);
    assert_contains(r.json, "\"value\":\"5\"");
    lcs_tool_result_clear(&r);
    call(c, "get_recorded_files", NULL, false, "(no files recorded)");
    /* Argument checking. */
    call(c, "get_state", "{}", true, "ERROR: get_state: missing required parameter 'key'");
    call(c, "get_state", "{\"key\": \"k\", \"extra\": 1}", true,
         "ERROR: get_state: unknown parameter 'extra' (parameters: key)");
    call(c, "set_state", "{\"key\": \"k\", \"value\": \"x\", \"value_type\": \"date\"}", true,
         "ERROR: set_state: parameter 'value_type' must be one of [\"auto\",\"string\",\"number\",\"boolean\",\"json\"]");
    call(c, "set_state", "{\"key\": \"k\", \"value\": \"x\", \"value_type\": \"number\"}", true,
         "ERROR: Failed to update state 'k' (state store :memory:: the value of 'k' is not a number (JSON syntax, e.g. 42, -1.5, 1e5))");
    call(c, "get_state", "[1]", true, "ERROR: get_state: the arguments must be a JSON object, not an array");
    call(c, "get_state", "{oops", true,
         "ERROR: get_state: the arguments are not valid JSON (string or '}' expected near 'oops')");
    assert_int_equal(lcs_tool_call(c, "rm_rf", "{}", &r, &e), -1);
    assert_int_equal(e.code, LCS_E_NOT_FOUND);
    assert_contains(e.message, "unknown tool 'rm_rf'");
    /* Session tools fail cleanly when the sandbox cannot be made. */
    assert_int_equal(lcs_tool_call(c, "execute_shell", "{\"command\": \"true\"}", &r, &e), 0);
    assert_true(r.is_error);
    assert_contains(r.text, "ERROR: No active sandbox. Code execution is not available.");
    lcs_tool_result_clear(&r);
    assert_int_equal(lcs_tool_context_close(c, &e), 0);
}

static void every_tool_goes_through_the_policy(void **st)
{
    (void)st;
    /* Deny everything host-side in FULL mode: upstream never checked these. */
    const char *pol = "{\"full\": {\"allowed\": [\"*\"], \"denied\": [\"get_state\", \"set_state\","
                      " \"list_state\", \"get_recorded_files\", \"get_sandbox_info\", \"execute_*\","
                      " \"*_file\", \"list_files\", \"file_exists\", \"create_directory\"]}}";
    lcs_tool_context *c = host_only_context(pol, LCS_ACCESS_FULL);
    assert_int_equal(lcs_tool_context_access_mode(c), LCS_ACCESS_FULL);
    for (size_t i = 0; i < LCS_TOOL_COUNT; i++) {
        lcs_tool_result r;
        lcs_error e;
        assert_int_equal(lcs_tool_call(c, lcs_tool_name(i), NULL, &r, &e), 0);
        assert_true(r.is_error);
        char want[160];
        snprintf(want, sizeof want, "ERROR: Tool '%s' is not allowed in full sandbox mode.",
                 lcs_tool_name(i));
        assert_contains(r.text, want);
        assert_contains(r.json, "\"code\":\"denied\"");
        lcs_tool_result_clear(&r);
    }
    lcs_tool_context_close(c, NULL);
    /* Restricted mode with a narrow allow list. */
    c = host_only_context("{\"restricted\": {\"allowed\": [\"get_state\"]}}", LCS_ACCESS_RESTRICTED);
    call(c, "get_state", "{\"key\": \"x\"}", false, "(not set)");
    lcs_tool_result r;
    lcs_error e;
    assert_int_equal(lcs_tool_call(c, "set_state", "{\"key\": \"x\", \"value\": \"1\"}", &r, &e), 0);
    assert_true(r.is_error);
    assert_contains(r.text, "Tool 'set_state' is not allowed in restricted sandbox mode.");
    lcs_tool_result_clear(&r);
    lcs_tool_context_close(c, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_defaults),
        cmocka_unit_test(policy_from_json_deny_wins_in_full_mode),
        cmocka_unit_test(policy_rejects_bad_documents),
        cmocka_unit_test(schemas_match_upstream),
        cmocka_unit_test(tool_output_keeps_upstreams_text_contract),
        cmocka_unit_test(state_tools_round_trip_and_are_checked),
        cmocka_unit_test(every_tool_goes_through_the_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
