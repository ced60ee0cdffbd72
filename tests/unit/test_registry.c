/*
 * test_registry.c - image references, registry lookups with exact tags,
 * listing and filtering, the image store, immutability of builtins.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

static lcs_registry *builtin_registry(void)
{
    lcs_registry_options o;
    lcs_registry_options_init(&o);
    o.scan_store = false;
    lcs_error err;
    lcs_registry *r = lcs_registry_new(&o, &err);
    if (!r)
        fail_msg("%s", err.message);
    return r;
}

static void references_with_registry_ports_are_parsed(void **state)
{
    (void)state;
    static const struct {
        const char *in, *host, *repository, *tag, *digest;
    } ok[] = {
        {"llmcore-sandbox-python", NULL, "llmcore-sandbox-python", NULL, NULL},
        {"llmcore-sandbox-python:1.0.0", NULL, "llmcore-sandbox-python", "1.0.0", NULL},
        {"registry.local:5000/llmcore-sandbox-python:1.0.0", "registry.local:5000",
         "llmcore-sandbox-python", "1.0.0", NULL},
        {"localhost:5000/team/tool", "localhost:5000", "team/tool", NULL, NULL},
        {"localhost/tool:2", "localhost", "tool", "2", NULL},
        {"team/tool:latest", NULL, "team/tool", "latest", NULL},
        {"host.example/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
         "abcdef",
         "host.example", "a/b/c", "v1",
         "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        lcs_image_ref r;
        lcs_error err;
        if (lcs_image_ref_parse(ok[i].in, &r, &err) != 0)
            fail_msg("%s: %s", ok[i].in, err.message);
#define CHECK(field)                                                                               \
    if (ok[i].field)                                                                               \
        assert_string_equal(r.field, ok[i].field);                                                 \
    else                                                                                           \
        assert_null(r.field);
        CHECK(host) CHECK(repository) CHECK(tag) CHECK(digest)
#undef CHECK
        lcs_image_ref_clear(&r);
    }
    static const char *const bad[] = {
        "", "UPPER:1.0", "name with space", "host:99999/x:1", "x:", "x:-bad", "x@sha256:zz",
        "x//y", "-x", "x:1.0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lcs_image_ref r;
        lcs_error err;
        if (lcs_image_ref_parse(bad[i], &r, &err) == 0)
            fail_msg("'%s' should not parse", bad[i]);
        assert_int_equal(err.code, LCS_E_INVALID);
    }
}

static void get_by_name_and_exact_tag(void **state)
{
    (void)state;
    lcs_registry *r = builtin_registry();
    assert_int_equal(lcs_registry_count(r), 6);
    lcs_image_info i;
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python:1.0.0", &i, NULL), 0);
    assert_string_equal(i.ref, "llmcore-sandbox-python:1.0.0");
    assert_true(i.builtin);
    assert_false(i.available_locally);
    assert_string_equal(i.source, "builtin");
    lcs_image_info_clear(&i);
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python", &i, NULL), 0);
    assert_string_equal(i.manifest->version, "1.0.0");
    lcs_image_info_clear(&i);
    assert_int_equal(lcs_registry_get(r, "localhost:5000/llmcore-sandbox-python:1.0.0", &i, NULL),
                     0);
    assert_string_equal(i.manifest->name, "llmcore-sandbox-python");
    lcs_image_info_clear(&i);
    lcs_registry_free(r);
}

static void unknown_tag_is_not_found_and_lists_what_exists(void **state)
{
    (void)state;
    lcs_registry *r = builtin_registry();
    lcs_image_info i;
    lcs_error err;
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python:9.9", &i, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_contains(err.message, "image 'llmcore-sandbox-python:9.9' not found");
    assert_contains(err.message, "exists only as version 1.0.0");
    assert_contains(err.message, "llmcore-sandbox-websearch:1.0.0");
    assert_null(i.manifest);
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python:latest", &i, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_int_equal(lcs_registry_get(r, "nothing-here", &i, &err), -1);
    assert_contains(err.message, "available: llmcore-sandbox-base:1.0.0");
    assert_false(lcs_registry_has(r, "llmcore-sandbox-python:1.0"));
    assert_true(lcs_registry_has(r, "llmcore-sandbox-shell:1.0.0"));
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python@sha256:"
                                         "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
                                         "89abcdef",
                                      &i, &err),
                     -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "not by digest");
    lcs_registry_free(r);
}

static void listing_is_ordered_and_filters(void **state)
{
    (void)state;
    lcs_registry *r = builtin_registry();
    lcs_image_list l;
    assert_int_equal(lcs_registry_list(r, NULL, &l, NULL), 0);
    static const char *const order[] = {
        "llmcore-sandbox-base:1.0.0",     "llmcore-sandbox-nodejs:1.0.0",
        "llmcore-sandbox-python:1.0.0",   "llmcore-sandbox-shell:1.0.0",
        "llmcore-sandbox-research:1.0.0", "llmcore-sandbox-websearch:1.0.0",
    };
    assert_int_equal(l.count, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(l.items[i].ref, order[i]);
    lcs_image_list_clear(&l);

    lcs_image_filter f = {.tier = LCS_TIER_TASK};
    assert_int_equal(lcs_registry_list(r, &f, &l, NULL), 0);
    assert_int_equal(l.count, 2);
    lcs_image_list_clear(&l);

    f = (lcs_image_filter){.tier = -1, .capabilities = LCS_CAPSET(LCS_CAP_GIT)};
    assert_int_equal(lcs_registry_list(r, &f, &l, NULL), 0);
    assert_int_equal(l.count, 4); /* python, nodejs, research, websearch */
    lcs_image_list_clear(&l);

    f = (lcs_image_filter){.tier = -1, .available_only = true};
    assert_int_equal(lcs_registry_list(r, &f, &l, NULL), 0);
    assert_int_equal(l.count, 0);
    lcs_image_list_clear(&l);

    assert_int_equal(lcs_registry_find(r, LCS_CAPSET(LCS_CAP_PYTHON), true, &l, NULL), 0);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0].ref, "llmcore-sandbox-python:1.0.0"); /* least capable */
    lcs_image_list_clear(&l);
    assert_int_equal(lcs_registry_find(r, LCS_CAPSET(LCS_CAP_RUST), true, &l, NULL), 0);
    assert_int_equal(l.count, 0);
    lcs_image_list_clear(&l);
    lcs_registry_free(r);
}

static void builtins_are_immutable(void **state)
{
    (void)state;
    lcs_registry *r = builtin_registry();
    lcs_image_info i;
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-base", &i, NULL), 0);
    i.manifest->limits.memory_mb = 64;
    free(i.manifest->description);
    i.manifest->description = strdup("changed");
    lcs_error err;
    assert_int_equal(lcs_registry_register(r, i.manifest, true, &err), -1);
    assert_int_equal(err.code, LCS_E_EXISTS);
    assert_contains(err.message, "immutable");
    lcs_image_info_clear(&i);
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-base", &i, NULL), 0);
    assert_int_equal(i.manifest->limits.memory_mb, 512);
    assert_string_not_equal(i.manifest->description, "changed");
    lcs_image_info_clear(&i);
    /* Two registries never share state. */
    lcs_registry *r2 = builtin_registry();
    assert_int_equal(lcs_registry_unregister(r2, "llmcore-sandbox-base:1.0.0", NULL), 1);
    assert_false(lcs_registry_has(r2, "llmcore-sandbox-base"));
    assert_true(lcs_registry_has(r, "llmcore-sandbox-base"));
    /* Even after unregistering, a builtin name:version cannot be replaced
     * by a different manifest (e.g. one that grants FULL access). */
    lcs_manifest *fake = lcs_builtin_manifest_get("llmcore-sandbox-base:1.0.0", NULL);
    fake->default_access_mode = LCS_ACCESS_FULL;
    assert_int_equal(lcs_registry_register(r2, fake, false, &err), -1);
    assert_int_equal(err.code, LCS_E_EXISTS);
    lcs_manifest_free(fake);
    lcs_registry_free(r2);
    lcs_registry_free(r);
}

static void register_and_unregister_custom_images(void **state)
{
    (void)state;
    lcs_registry *r = builtin_registry();
    lcs_manifest *m = lcs_manifest_load_string(
        "{\"name\": \"my-custom-image\", \"version\": \"1.0.0\", \"tier\": \"specialized\","
        " \"parent_image\": \"llmcore-sandbox-python:1.0.0\", \"capabilities\": [\"shell\","
        " \"python\", \"rust\"], \"default_access_mode\": \"restricted\"}",
        NULL);
    assert_non_null(m);
    assert_int_equal(lcs_registry_register(r, m, false, NULL), 0);
    assert_int_equal(lcs_registry_count(r), 7);
    lcs_image_info i;
    assert_int_equal(lcs_registry_get(r, "my-custom-image:1.0.0", &i, NULL), 0);
    assert_string_equal(i.source, "registered");
    assert_false(i.builtin);
    lcs_image_info_clear(&i);
    /* Re-registering replaces. */
    m->limits.memory_mb = 2048;
    assert_int_equal(lcs_registry_register(r, m, true, NULL), 0);
    assert_int_equal(lcs_registry_count(r), 7);
    assert_int_equal(lcs_registry_get(r, "my-custom-image", &i, NULL), 0);
    assert_int_equal(i.manifest->limits.memory_mb, 2048);
    assert_true(i.available_locally);
    lcs_image_info_clear(&i);
    /* A newer version: a bare name resolves to the newest. */
    free(m->version);
    m->version = strdup("1.10.0");
    assert_int_equal(lcs_registry_register(r, m, false, NULL), 0);
    assert_int_equal(lcs_registry_get(r, "my-custom-image", &i, NULL), 0);
    assert_string_equal(i.manifest->version, "1.10.0");
    lcs_image_info_clear(&i);
    assert_int_equal(lcs_registry_unregister(r, "my-custom-image:1.0.0", NULL), 1);
    assert_int_equal(lcs_registry_unregister(r, "my-custom-image:1.0.0", NULL), 0);
    assert_int_equal(lcs_registry_unregister(r, "my-custom-image", NULL), 1);
    assert_int_equal(lcs_registry_count(r), 6);
    /* An invalid manifest is refused with its problems. */
    m->limits.cpu_cores = -1;
    lcs_error err;
    assert_int_equal(lcs_registry_register(r, m, false, &err), -1);
    assert_int_equal(err.code, LCS_E_VALIDATION);
    assert_contains(err.message, "cpu_cores");
    lcs_manifest_free(m);
    lcs_registry_free(r);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void store_images_are_discovered(void **state)
{
    (void)state;
    char store[] = "/tmp/lcs-store-XXXXXX";
    assert_non_null(mkdtemp(store));
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/images/llmcore-sandbox-python/1.0.0/rootfs "
             "%s/images/team+tool/2.0.0/rootfs %s/images/broken/1.0.0 %s/images/liar/1.0.0",
             store, store, store, store);
    assert_int_equal(system(cmd), 0);
    char path[512];
    lcs_manifest *py = lcs_builtin_manifest_get("llmcore-sandbox-python", NULL);
    snprintf(path, sizeof path, "%s/images/llmcore-sandbox-python/1.0.0/capabilities.json", store);
    assert_int_equal(lcs_manifest_save_file(py, path, NULL), 0);
    lcs_manifest_free(py);
    snprintf(path, sizeof path, "%s/images/team+tool/2.0.0/capabilities.json", store);
    write_file(path, "{\"name\": \"team/tool\", \"version\": \"2.0.0\", \"tier\": \"specialized\","
                     " \"parent_image\": \"llmcore-sandbox-base:1.0.0\", \"capabilities\":"
                     " [\"shell\", \"rust\"], \"default_access_mode\": \"restricted\"}");
    snprintf(path, sizeof path, "%s/images/broken/1.0.0/capabilities.json", store);
    write_file(path, "{\"name\": ");
    snprintf(path, sizeof path, "%s/images/liar/1.0.0/capabilities.json", store);
    write_file(path, "{\"name\": \"other\", \"version\": \"1.0.0\", \"tier\": \"base\","
                     " \"capabilities\": [], \"default_access_mode\": \"restricted\"}");

    lcs_registry_options o;
    lcs_registry_options_init(&o);
    o.store_dir = store;
    lcs_error err;
    lcs_registry *r = lcs_registry_new(&o, &err);
    if (!r)
        fail_msg("%s", err.message);
    assert_int_equal(lcs_registry_count(r), 7);
    assert_int_equal(lcs_registry_warning_count(r), 2);
    bool saw_broken = false, saw_liar = false;
    for (size_t i = 0; i < 2; i++) {
        const char *w = lcs_registry_warning(r, i);
        saw_broken |= strstr(w, "broken:1.0.0") && strstr(w, "JSON syntax error");
        saw_liar |= strstr(w, "names other:1.0.0") != NULL;
    }
    assert_true(saw_broken);
    assert_true(saw_liar);
    lcs_image_info i;
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python:1.0.0", &i, NULL), 0);
    assert_true(i.available_locally);
    assert_true(i.builtin);
    assert_contains(i.rootfs, "/images/llmcore-sandbox-python/1.0.0/rootfs");
    lcs_image_info_clear(&i);
    assert_int_equal(lcs_registry_get(r, "team/tool:2.0.0", &i, NULL), 0);
    assert_true(i.available_locally);
    assert_contains(i.source, "team+tool/2.0.0/capabilities.json");
    lcs_image_info_clear(&i);
    lcs_image_filter f = {.tier = -1, .available_only = true};
    lcs_image_list l;
    assert_int_equal(lcs_registry_list(r, &f, &l, NULL), 0);
    assert_int_equal(l.count, 2);
    lcs_image_list_clear(&l);
    /* The store changes: refresh drops what vanished. */
    snprintf(cmd, sizeof cmd, "rm -rf %s/images/team+tool %s/images/llmcore-sandbox-python/1.0.0/rootfs",
             store, store);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(lcs_registry_refresh(r, NULL), 1);
    assert_false(lcs_registry_has(r, "team/tool"));
    assert_int_equal(lcs_registry_get(r, "llmcore-sandbox-python:1.0.0", &i, NULL), 0);
    assert_false(i.available_locally);
    lcs_image_info_clear(&i);
    lcs_registry_free(r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", store);
    assert_int_equal(system(cmd), 0);
}

static void store_path_encodes_slashes(void **state)
{
    (void)state;
    char *p = lcs_store_image_dir("/s", "team/tool", "1.0");
    assert_string_equal(p, "/s/images/team+tool/1.0");
    lcs_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(references_with_registry_ports_are_parsed),
        cmocka_unit_test(get_by_name_and_exact_tag),
        cmocka_unit_test(unknown_tag_is_not_found_and_lists_what_exists),
        cmocka_unit_test(listing_is_ordered_and_filters),
        cmocka_unit_test(builtins_are_immutable),
        cmocka_unit_test(register_and_unregister_custom_images),
        cmocka_unit_test(store_images_are_discovered),
        cmocka_unit_test(store_path_encodes_slashes),
    };
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
