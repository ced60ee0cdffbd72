/*
 * test_policy.c - computing a sandbox's policy from a manifest, an access
 * mode and overrides.
 */
#include "testutil.h"

static lcs_manifest *builtin(const char *ref)
{
    lcs_manifest *m = lcs_builtin_manifest_get(ref, NULL);
    assert_non_null(m);
    return m;
}

static void defaults_come_from_the_manifest(void **state)
{
    (void)state;
    lcs_manifest *m = builtin("llmcore-sandbox-python:1.0.0");
    lcs_policy p;
    lcs_error err;
    if (lcs_policy_compute(m, NULL, &p, &err))
        fail_msg("%s", err.message);
    assert_string_equal(p.image, "llmcore-sandbox-python:1.0.0");
    assert_int_equal(p.access_mode, LCS_ACCESS_RESTRICTED);
    assert_int_equal(p.network, LCS_NETWORK_NONE);
    assert_false(p.writable_root);
    assert_int_equal(p.memory_mb, 1024);
    assert_true(p.cpus == 2);
    assert_int_equal(p.pids, 100);
    assert_true(p.timeout_seconds == 600);
    assert_int_equal(p.output_bytes, LCS_POLICY_DEFAULT_OUTPUT_BYTES);
    assert_int_equal(p.disk_mb, LCS_POLICY_DEFAULT_DISK_MB);
    assert_int_equal(p.uid, 1000);
    assert_string_equal(p.cwd, "/home/sandbox/work");
    /* The environment is the base plus the manifest's, sorted; nothing from
     * the host. */
    bool saw_home = false, saw_py = false;
    for (char **e = p.env; *e; e++) {
        saw_home |= strcmp(*e, "HOME=/home/sandbox") == 0;
        saw_py |= strcmp(*e, "PYTHONUNBUFFERED=1") == 0;
        if (e[1])
            assert_true(strcmp(e[0], e[1]) < 0);
        assert_true(strncmp(*e, "LD_PRELOAD=", 11) != 0);
    }
    assert_true(saw_home && saw_py);
    char *js = lcs_policy_to_json(&p, NULL);
    assert_contains(js, "\"network\":\"none\"");
    assert_contains(js, "\"memory_mb\":1024");
    assert_contains(js, "\"disk_mb\":1024");
    lcs_free(js);
    lcs_policy_clear(&p);
    lcs_manifest_free(m);
}

static void full_images_get_network_and_a_writable_root(void **state)
{
    (void)state;
    lcs_manifest *m = builtin("llmcore-sandbox-research:1.0.0");
    lcs_policy p;
    assert_int_equal(lcs_policy_compute(m, NULL, &p, NULL), 0);
    assert_int_equal(p.network, LCS_NETWORK_FULL);
    assert_true(p.writable_root);
    lcs_policy_clear(&p);
    /* The caller may restrict a FULL image. */
    lcs_policy_overrides o;
    lcs_policy_overrides_init(&o);
    o.access_mode = LCS_ACCESS_RESTRICTED;
    assert_int_equal(lcs_policy_compute(m, &o, &p, NULL), 0);
    assert_int_equal(p.network, LCS_NETWORK_NONE);
    assert_false(p.writable_root);
    lcs_policy_clear(&p);
    lcs_manifest_free(m);
}

static void lowering_is_free_raising_needs_consent(void **state)
{
    (void)state;
    lcs_manifest *m = builtin("llmcore-sandbox-base:1.0.0");
    lcs_policy_overrides o;
    lcs_policy_overrides_init(&o);
    o.memory_mb = 128;
    o.timeout_seconds = 5;
    o.pids = 10;
    o.disk_mb = 64;
    lcs_policy p;
    assert_int_equal(lcs_policy_compute(m, &o, &p, NULL), 0);
    assert_int_equal(p.memory_mb, 128);
    assert_int_equal(p.pids, 10);
    assert_int_equal(p.disk_mb, 64);
    lcs_policy_clear(&p);
    o.memory_mb = 4096;
    lcs_error err;
    assert_int_equal(lcs_policy_compute(m, &o, &p, &err), -1);
    assert_int_equal(err.code, LCS_E_DENIED);
    assert_contains(err.message, "memory 4096 MiB is above the limit of image "
                                 "llmcore-sandbox-base:1.0.0 (512 MiB)");
    assert_contains(err.message, "--allow-above-limits");
    o.allow_above_limits = true;
    assert_int_equal(lcs_policy_compute(m, &o, &p, NULL), 0);
    assert_int_equal(p.memory_mb, 4096);
    lcs_policy_clear(&p);
    lcs_manifest_free(m);
}

static void nonsense_values_are_errors(void **state)
{
    (void)state;
    lcs_manifest *m = builtin("llmcore-sandbox-shell:1.0.0");
    static const char *const bad_env[] = {"NOEQUALS", NULL};
    static const char *const bad_env2[] = {"1X=y", NULL};
    for (int i = 0; i < 11; i++) {
        lcs_policy_overrides o;
        lcs_policy_overrides_init(&o);
        o.allow_above_limits = true;
        const char *expect = NULL;
        switch (i) {
        case 0: o.memory_mb = 1; expect = "memory 1 MiB is outside"; break;
        case 1: o.cpus = -1; expect = "positive"; break;
        case 2: o.pids = 1000000; expect = "above 65536"; break;
        case 3: o.cwd = "relative/dir"; expect = "must be an absolute path"; break;
        case 4: o.cwd = "/home/sandbox/../../etc"; expect = "without '.' or '..'"; break;
        case 5: o.env = bad_env; expect = "'NOEQUALS' is not NAME=VALUE"; break;
        case 6: o.env = bad_env2; expect = "not NAME=VALUE"; break;
        case 7: o.input_dir = "/nonexistent-input"; expect = "does not exist"; break;
        case 8: o.network = 7; expect = "unknown network mode"; break;
        case 9: o.disk_mb = 3; expect = "disk (writable layer) size 3 MiB is outside"; break;
        case 10: o.disk_mb = 2ULL << 20; expect = "disk (writable layer) size 2097152 MiB"; break;
        }
        lcs_policy p;
        lcs_error err;
        if (lcs_policy_compute(m, &o, &p, &err) == 0)
            fail_msg("case %d should fail", i);
        assert_int_equal(err.code, LCS_E_INVALID);
        assert_contains(err.message, expect);
    }
    lcs_manifest_free(m);
}

static void caller_environment_wins_and_is_validated(void **state)
{
    (void)state;
    lcs_manifest *m = builtin("llmcore-sandbox-python:1.0.0");
    static const char *const env[] = {"PYTHONUNBUFFERED=0", "MY_VAR=a b=c", NULL};
    lcs_policy_overrides o;
    lcs_policy_overrides_init(&o);
    o.env = env;
    o.input_dir = "/tmp";
    lcs_policy p;
    assert_int_equal(lcs_policy_compute(m, &o, &p, NULL), 0);
    int hits = 0;
    for (char **e = p.env; *e; e++) {
        hits += strcmp(*e, "PYTHONUNBUFFERED=0") == 0;
        hits += strcmp(*e, "MY_VAR=a b=c") == 0;
        assert_string_not_equal(*e, "PYTHONUNBUFFERED=1");
    }
    assert_int_equal(hits, 2);
    assert_string_equal(p.input_dir, "/tmp");
    lcs_policy_clear(&p);
    lcs_manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_come_from_the_manifest),
        cmocka_unit_test(full_images_get_network_and_a_writable_root),
        cmocka_unit_test(lowering_is_free_raising_needs_consent),
        cmocka_unit_test(nonsense_values_are_errors),
        cmocka_unit_test(caller_environment_wins_and_is_validated),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
