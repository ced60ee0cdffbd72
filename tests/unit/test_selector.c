/*
 * test_selector.c - the selection table (every upstream task type and
 * runtime), the fixes to upstream's defects, mappings and configuration.
 */
#include "testutil.h"

#define IMG(x) "llmcore-sandbox-" x ":1.0.0"
#define R LCS_ACCESS_RESTRICTED
#define F LCS_ACCESS_FULL

typedef struct fixture {
    lcs_registry *reg;
    lcs_selector *sel;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lcs_registry_options o;
    lcs_registry_options_init(&o);
    o.scan_store = false;
    f->reg = lcs_registry_new(&o, NULL);
    f->sel = lcs_selector_new(f->reg, NULL, NULL);
    *state = f;
    return f->reg && f->sel ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lcs_selector_free(f->sel);
    lcs_registry_free(f->reg);
    free(f);
    return 0;
}

static const struct {
    const char *task, *image, *reason;
    lcs_access_mode mode;
} task_table[] = {
    {"research", IMG("research"), "task_mapping:research", F},
    {"literature_review", IMG("research"), "task_mapping:literature_review", R},
    {"document_analysis", IMG("research"), "task_mapping:document_analysis", R},
    {"websearch", IMG("websearch"), "task_mapping:websearch", F},
    {"web_scraping", IMG("websearch"), "task_mapping:web_scraping", F},
    {"api_testing", IMG("websearch"), "capability_match:network,python,curl", F},
    {"python_dev", IMG("python"), "task_mapping:python_dev", R},
    {"nodejs_dev", IMG("nodejs"), "task_mapping:nodejs_dev", R},
    {"frontend", IMG("nodejs"), "task_mapping:frontend", R},
    {"backend", IMG("python"), "task_mapping:backend", R},
    {"fullstack", IMG("python"), "default", R},
    {"data_analysis", IMG("research"), "capability_match:python,data_analysis", R},
    {"visualization", IMG("research"), "capability_match:python,visualization", R},
    {"data_processing", IMG("python"), "capability_match:python", R},
    {"docgen", IMG("research"), "capability_match:python,pandoc", R},
    {"pdf_generation", IMG("research"), "capability_match:python,pdf_tools", R},
    {"markdown", IMG("research"), "capability_match:shell,pandoc", R},
    {"testing", IMG("python"), "default", R},
    {"integration_testing", IMG("python"), "default", R},
    {"code_review", IMG("python"), "default", R},
    {"shell", IMG("shell"), "task_mapping:shell", R},
    {"scripting", IMG("shell"), "task_mapping:scripting", R},
    {"automation", IMG("shell"), "task_mapping:automation", R},
    {"file_processing", IMG("base"), "capability_match:shell", R},
    {"something_new", IMG("python"), "default", R},
};

static void every_task_type_selects_as_documented(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof task_table / sizeof task_table[0]; i++) {
        lcs_selection s;
        lcs_error err;
        if (lcs_select_for_task(f->sel, task_table[i].task, NULL, 0, &s, &err) != 0)
            fail_msg("%s: %s", task_table[i].task, err.message);
        if (strcmp(s.image, task_table[i].image) || strcmp(s.reason, task_table[i].reason) ||
            s.access_mode != task_table[i].mode)
            fail_msg("%s: got %s %s %s, want %s %s %s", task_table[i].task, s.image, s.reason,
                     lcs_access_mode_name(s.access_mode), task_table[i].image,
                     task_table[i].reason, lcs_access_mode_name(task_table[i].mode));
        lcs_selection_clear(&s);
    }
}

static void no_task_without_network_gets_full_access(void **state)
{
    fixture *f = *state;
    char **tasks = lcs_selector_task_types(f->sel);
    assert_non_null(tasks);
    size_t n = 0;
    for (char **t = tasks; *t; t++, n++) {
        lcs_capset req = 0;
        assert_true(lcs_task_required_capabilities(*t, &req));
        lcs_selection s;
        assert_int_equal(lcs_select_for_task(f->sel, *t, NULL, 0, &s, NULL), 0);
        bool network = req & (LCS_CAPSET(LCS_CAP_NETWORK) | LCS_CAPSET(LCS_CAP_WEBSEARCH));
        if (!network && s.access_mode == LCS_ACCESS_FULL)
            fail_msg("task %s needs no network but got FULL access (%s)", *t, s.image);
        lcs_selection_clear(&s);
    }
    assert_int_equal(n, 24);
    lcs_strv_free(tasks);
}

static void file_processing_never_gets_websearch(void **state)
{
    fixture *f = *state;
    lcs_selection s;
    assert_int_equal(lcs_select_for_task(f->sel, "file_processing", NULL, 0, &s, NULL), 0);
    assert_string_equal(s.image, IMG("base"));
    /* The other qualifying images, best first: FULL images last. */
    static const char *const alts[] = {IMG("shell"), IMG("nodejs"), IMG("python"),
                                       IMG("websearch"), IMG("research")};
    assert_int_equal(s.n_alternatives, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(s.alternatives[i], alts[i]);
    lcs_selection_clear(&s);
}

static void capability_match_prefers_the_least_capable_image(void **state)
{
    fixture *f = *state;
    lcs_selection s;
    assert_int_equal(
        lcs_select_for_capabilities(f->sel, LCS_CAPSET(LCS_CAP_PYTHON), &s, NULL), 0);
    assert_string_equal(s.image, IMG("python"));
    assert_string_equal(s.reason, "capability_match:python");
    assert_int_equal(s.access_mode, R);
    assert_int_equal(s.n_alternatives, 2);
    assert_string_equal(s.alternatives[0], IMG("websearch"));
    assert_string_equal(s.alternatives[1], IMG("research"));
    lcs_selection_clear(&s);
    /* Asking for network: the smaller of the two network images. */
    assert_int_equal(
        lcs_select_for_capabilities(f->sel, LCS_CAPSET(LCS_CAP_NETWORK), &s, NULL), 0);
    assert_string_equal(s.image, IMG("websearch"));
    assert_int_equal(s.access_mode, F);
    lcs_selection_clear(&s);
    /* Nothing qualifies: the default, saying so. */
    assert_int_equal(lcs_select_for_capabilities(f->sel, LCS_CAPSET(LCS_CAP_RUST), &s, NULL), 0);
    assert_string_equal(s.image, IMG("python"));
    assert_string_equal(s.reason, "default");
    assert_int_equal(s.n_alternatives, 0);
    lcs_selection_clear(&s);
}

static void every_runtime_selects_its_image(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *rt, *image, *reason;
    } rts[] = {
        {"python", IMG("python"), "runtime_mapping:python"},
        {"python3", IMG("python"), "runtime_mapping:python3"},
        {"python3.12", IMG("python"), "runtime_mapping:python3.12"},
        {"node", IMG("nodejs"), "runtime_mapping:node"},
        {"nodejs", IMG("nodejs"), "runtime_mapping:nodejs"},
        {"npm", IMG("nodejs"), "runtime_mapping:npm"},
        {"bash", IMG("shell"), "runtime_mapping:bash"},
        {"sh", IMG("shell"), "runtime_mapping:sh"},
        {"shell", IMG("shell"), "runtime_mapping:shell"},
        {"zsh", IMG("shell"), "runtime_mapping:zsh"},
        {" Python ", IMG("python"), "runtime_mapping:python"},
        {"go", IMG("python"), "default"},
        {"rust", IMG("python"), "default"},
    };
    for (size_t i = 0; i < sizeof rts / sizeof rts[0]; i++) {
        lcs_selection s;
        assert_int_equal(lcs_select_for_runtime(f->sel, rts[i].rt, &s, NULL), 0);
        if (strcmp(s.image, rts[i].image) || strcmp(s.reason, rts[i].reason))
            fail_msg("runtime %s: got %s %s", rts[i].rt, s.image, s.reason);
        assert_int_equal(s.access_mode, R);
        lcs_selection_clear(&s);
    }
    char **v = lcs_selector_runtimes(f->sel);
    size_t n = 0;
    while (v[n])
        n++;
    assert_int_equal(n, 10);
    assert_string_equal(v[0], "bash");
    lcs_strv_free(v);
}

static void unknown_task_falls_back_to_runtime_then_capabilities(void **state)
{
    fixture *f = *state;
    lcs_selection s;
    assert_int_equal(lcs_select_for_task(f->sel, "unknown", "nodejs", 0, &s, NULL), 0);
    assert_string_equal(s.image, IMG("nodejs"));
    assert_string_equal(s.reason, "runtime_mapping:nodejs");
    lcs_selection_clear(&s);
    assert_int_equal(
        lcs_select_for_task(f->sel, "unknown", NULL, LCS_CAPSET(LCS_CAP_PYTHON), &s, NULL), 0);
    assert_string_equal(s.image, IMG("python"));
    assert_string_equal(s.reason, "capability_match:python");
    assert_int_equal(s.access_mode, R);
    lcs_selection_clear(&s);
    assert_int_equal(lcs_select_for_task(f->sel, "unknown", "ruby", 0, &s, NULL), 0);
    assert_string_equal(s.reason, "default");
    lcs_selection_clear(&s);
    /* A mapped image that lacks what the caller adds is not used. */
    assert_int_equal(lcs_select_for_task(f->sel, "python_dev", NULL,
                                         LCS_CAPSET(LCS_CAP_PDF_TOOLS), &s, NULL),
                     0);
    assert_string_equal(s.image, IMG("research"));
    assert_string_equal(s.reason, "capability_match:python,git,pdf_tools");
    assert_int_equal(s.access_mode, R);
    lcs_selection_clear(&s);
    /* Case and blanks do not matter. */
    assert_int_equal(lcs_select_for_task(f->sel, "  RESEARCH ", NULL, 0, &s, NULL), 0);
    assert_string_equal(s.reason, "task_mapping:research");
    lcs_selection_clear(&s);
    lcs_error err;
    assert_int_equal(lcs_select_for_task(f->sel, "   ", NULL, 0, &s, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
}

static void custom_mappings_are_trusted_and_restricted_when_unknown(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        lcs_selector_add_task_mapping(f->sel, "custom_task", "my-custom-image:1.0.0", NULL), 0);
    lcs_selection s;
    assert_int_equal(lcs_select_for_task(f->sel, "custom_task", NULL, 0, &s, NULL), 0);
    assert_string_equal(s.image, "my-custom-image:1.0.0");
    assert_string_equal(s.reason, "task_mapping:custom_task");
    assert_null(s.manifest);
    assert_int_equal(s.access_mode, R);
    lcs_selection_clear(&s);
    assert_string_equal(lcs_selector_image_for_task(f->sel, "Custom_Task"),
                        "my-custom-image:1.0.0");
    /* Name patterns decide the access of images the registry lacks. */
    assert_int_equal(lcs_selector_add_task_mapping(f->sel, "crawl", "team/crawler-full:2.0", NULL),
                     0);
    assert_int_equal(lcs_select_for_task(f->sel, "crawl", NULL, 0, &s, NULL), 0);
    assert_int_equal(s.access_mode, F);
    lcs_selection_clear(&s);
    /* An override to a FULL image still runs RESTRICTED for a task that
     * needs no network. */
    assert_int_equal(
        lcs_selector_add_task_mapping(f->sel, "data_processing", IMG("websearch"), NULL), 0);
    assert_int_equal(lcs_select_for_task(f->sel, "data_processing", NULL, 0, &s, NULL), 0);
    assert_string_equal(s.image, IMG("websearch"));
    assert_int_equal(s.access_mode, R);
    lcs_selection_clear(&s);
    assert_int_equal(lcs_selector_add_runtime_mapping(f->sel, "ruby", "team/ruby:3.3", NULL), 0);
    assert_int_equal(lcs_select_for_runtime(f->sel, "ruby", &s, NULL), 0);
    assert_string_equal(s.image, "team/ruby:3.3");
    lcs_selection_clear(&s);
    lcs_error err;
    assert_int_equal(lcs_selector_add_task_mapping(f->sel, "x", "Not A Ref", &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_int_equal(lcs_selector_add_task_mapping(f->sel, "", IMG("base"), &err), -1);
}

static void locally_available_images_are_preferred(void **state)
{
    (void)state;
    lcs_registry_options o;
    lcs_registry_options_init(&o);
    o.scan_store = false;
    lcs_registry *reg = lcs_registry_new(&o, NULL);
    lcs_manifest *m = lcs_manifest_load_string(
        "{\"name\": \"team/py\", \"version\": \"1.0.0\", \"tier\": \"specialized\","
        " \"parent_image\": \"llmcore-sandbox-base:1.0.0\", \"capabilities\": [\"shell\","
        " \"python\", \"git\", \"jq\", \"curl\", \"filesystem\", \"docgen\"],"
        " \"default_access_mode\": \"restricted\"}",
        NULL);
    assert_int_equal(lcs_registry_register(reg, m, true, NULL), 0);
    lcs_manifest_free(m);
    lcs_selection_config c;
    lcs_selection_config_init(&c);
    lcs_selector *s = lcs_selector_new(reg, &c, NULL);
    lcs_selection sel;
    assert_int_equal(lcs_select_for_task(s, "data_processing", NULL, 0, &sel, NULL), 0);
    assert_string_equal(sel.image, "team/py:1.0.0");
    assert_string_equal(sel.alternatives[0], IMG("python"));
    lcs_selection_clear(&sel);
    lcs_selector_free(s);
    c.prefer_local = false;
    s = lcs_selector_new(reg, &c, NULL);
    assert_int_equal(lcs_select_for_task(s, "data_processing", NULL, 0, &sel, NULL), 0);
    assert_string_equal(sel.image, IMG("python"));
    lcs_selection_clear(&sel);
    lcs_selector_free(s);
    lcs_registry_free(reg);
}

static void configuration_overrides_and_json(void **state)
{
    fixture *f = *state;
    const char *cfg = "{\"default_image\": \"llmcore-sandbox-shell:1.0.0\", \"task_overrides\":"
                      " {\"research\": \"llmcore-sandbox-python:1.0.0\"}, \"runtime_overrides\":"
                      " {\"python\": \"team/py:2.0\"}, \"full_access_patterns\": [\"team/*\"]}";
    lcs_error err;
    lcs_selector *s = lcs_selector_new_json(f->reg, cfg, &err);
    if (!s)
        fail_msg("%s", err.message);
    lcs_selection sel;
    assert_int_equal(lcs_select_for_task(s, "research", NULL, 0, &sel, NULL), 0);
    assert_string_equal(sel.image, IMG("python"));
    assert_string_equal(sel.reason, "task_mapping:research");
    lcs_selection_clear(&sel);
    assert_int_equal(lcs_select_for_task(s, "unknown", NULL, 0, &sel, NULL), 0);
    assert_string_equal(sel.image, IMG("shell"));
    lcs_selection_clear(&sel);
    assert_int_equal(lcs_select_for_runtime(s, "python", &sel, NULL), 0);
    assert_string_equal(sel.image, "team/py:2.0");
    assert_int_equal(sel.access_mode, F);
    char *js = lcs_selection_to_json(&sel, NULL);
    assert_contains(js, "\"image\":\"team/py:2.0\"");
    assert_contains(js, "\"manifest\":null");
    lcs_free(js);
    lcs_selection_clear(&sel);
    char *c = lcs_selector_config_json(s, NULL);
    assert_contains(c, "\"default_image\":\"llmcore-sandbox-shell:1.0.0\"");
    assert_contains(c, "\"task_overrides\":{\"research\":\"llmcore-sandbox-python:1.0.0\"}");
    assert_contains(c, "\"full_access_patterns\":[\"team/*\"]");
    assert_contains(c, "\"restricted_patterns\":[\"*-slim\"");
    lcs_free(c);
    lcs_selector_free(s);
    static const char *const bad[] = {"{\"prefer_local\": 1}", "{\"colour\": 1}", "[1]",
                                      "{\"task_overrides\": {\"a\": 3}}", "{",
                                      "{\"default_image\": \"BAD REF\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(lcs_selector_new_json(f->reg, bad[i], &err));
        assert_true(err.code == LCS_E_INVALID || err.code == LCS_E_PARSE);
    }
}

static void selection_is_deterministic(void **state)
{
    fixture *f = *state;
    char *first = NULL;
    for (int round = 0; round < 3; round++) {
        lcs_selection s;
        assert_int_equal(lcs_select_for_task(f->sel, "markdown", NULL, 0, &s, NULL), 0);
        char *js = lcs_selection_to_json(&s, NULL);
        if (first)
            assert_string_equal(first, js);
        else
            first = js, js = NULL;
        lcs_free(js);
        lcs_selection_clear(&s);
    }
    assert_contains(first, "\"required_capabilities\":[\"shell\",\"pandoc\"]");
    lcs_free(first);
}

static void tables_are_exposed_as_json(void **state)
{
    (void)state;
    char *t = lcs_selection_tables_json(NULL);
    assert_contains(t, "\"file_processing\":[\"shell\"]");
    assert_contains(t, "\"research\":\"llmcore-sandbox-research:1.0.0\"");
    assert_contains(t, "\"zsh\":\"llmcore-sandbox-shell:1.0.0\"");
    lcs_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_task_type_selects_as_documented, setup, teardown),
        cmocka_unit_test_setup_teardown(no_task_without_network_gets_full_access, setup, teardown),
        cmocka_unit_test_setup_teardown(file_processing_never_gets_websearch, setup, teardown),
        cmocka_unit_test_setup_teardown(capability_match_prefers_the_least_capable_image, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(every_runtime_selects_its_image, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_task_falls_back_to_runtime_then_capabilities, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(custom_mappings_are_trusted_and_restricted_when_unknown,
                                        setup, teardown),
        cmocka_unit_test(locally_available_images_are_preferred),
        cmocka_unit_test_setup_teardown(configuration_overrides_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(selection_is_deterministic, setup, teardown),
        cmocka_unit_test(tables_are_exposed_as_json),
    };
    return cmocka_run_group_tests_name("selector", tests, NULL, NULL);
}
