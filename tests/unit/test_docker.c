/*
 * test_docker.c - the policy rendered as a Docker Engine API
 * container (src/runtime/docker/render.c), against golden files in
 * tests/data/docker/ (LCS_UPDATE_GOLDEN=1 rewrites them: then read the
 * diff), and how the engine's address is found (src/runtime/docker/engine.c).
 */
#include "testutil.h"

#include <jansson.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/docker/docker.h"

#define PROFILE "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}"

static lcs_policy policy_of(const char *ref, const lcs_policy_overrides *o)
{
    lcs_manifest *m = lcs_builtin_manifest_get(ref, NULL);
    assert_non_null(m);
    lcs_policy p;
    lcs_error err;
    if (lcs_policy_compute(m, o, &p, &err))
        fail_msg("%s", err.message);
    lcs_manifest_free(m);
    return p;
}

static void expect_golden(json_t *got, const char *name)
{
    char path[4096], rel[256];
    snprintf(rel, sizeof rel, "tests/data/docker/%s", name);
    src_path(path, sizeof path, rel);
    if (getenv("LCS_UPDATE_GOLDEN")) {
        assert_int_equal(json_dump_file(got, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
        return;
    }
    json_error_t je;
    json_t *want = json_load_file(path, 0, &je);
    if (!want)
        fail_msg("%s: %s", path, je.text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
        fail_msg("rendered container differs from %s:\n%s", path, g);
    }
    json_decref(want);
}

static const char *str_at(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);
    return json_string_value(k2 ? json_object_get(v, k2) : v);
}

static void restricted_run_matches_its_golden_file(void **state)
{
    (void)state;
    lcs_policy p = policy_of("llmcore-sandbox-python:1.0.0", NULL);
    const char *argv[] = {"python3", "-c", "print(1)", NULL};
    lcs_docker_create c = {&p, "llmcore-sandbox-python:1.0.0", argv, NULL, PROFILE, NULL,
                           LCS_ENGINE_DOCKER, 0};
    lcs_error err;
    json_t *o = lcs_docker_render_create(&c, &err);
    if (!o)
        fail_msg("%s", err.message);
    expect_golden(o, "restricted-run.json");
    /* the seed's promises, spelled out beside the golden file */
    json_t *hc = json_object_get(o, "HostConfig");
    assert_string_equal(str_at(o, "User", NULL), "1000:1000");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "CapDrop"), 0)),
                        "ALL");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "SecurityOpt"), 0)),
                        "no-new-privileges");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "SecurityOpt"), 1)),
                        "seccomp=" PROFILE);
    assert_true(json_is_true(json_object_get(hc, "ReadonlyRootfs")));
    assert_string_equal(str_at(hc, "NetworkMode", NULL), "none");
    assert_true(json_is_true(json_object_get(o, "NetworkDisabled")));
    assert_int_equal(json_integer_value(json_object_get(hc, "Memory")), 1024ll << 20);
    assert_int_equal(json_integer_value(json_object_get(hc, "MemorySwap")), 1024ll << 20);
    assert_int_equal(json_integer_value(json_object_get(hc, "NanoCpus")), 2000000000ll);
    assert_int_equal(json_integer_value(json_object_get(hc, "PidsLimit")), 100);
    assert_true(json_is_true(json_object_get(hc, "Init")));
    assert_contains(str_at(hc, "Tmpfs", "/home/sandbox/work"), "uid=1000,gid=1000");
    /* the policy travels with the container, as the native enforced report does */
    json_t *pol = json_loads(str_at(o, "Labels", "llmcore-sandbox.policy"), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(pol, "network")), "none");
    json_decref(pol);
    json_decref(o);
    lcs_policy_clear(&p);
}

static void full_session_with_host_dirs_matches_its_golden_file(void **state)
{
    (void)state;
    lcs_policy_overrides ov;
    lcs_policy_overrides_init(&ov);
    ov.input_dir = "/usr/share";
    ov.output_dir = "/var/tmp";
    ov.memory_mb = 2048;
    lcs_policy p = policy_of("llmcore-sandbox-research:1.0.0", &ov);
    lcs_docker_create c = {&p, "registry.example:5000/llmcore-sandbox-research:1.0.0", NULL,
                           "0123456789abcdef", PROFILE, "lcs-full", LCS_ENGINE_DOCKER, 0};
    lcs_error err;
    json_t *o = lcs_docker_render_create(&c, &err);
    if (!o)
        fail_msg("%s", err.message);
    expect_golden(o, "full-session.json");
    json_t *hc = json_object_get(o, "HostConfig");
    assert_false(json_is_true(json_object_get(hc, "ReadonlyRootfs")));
    assert_string_equal(str_at(hc, "NetworkMode", NULL), "lcs-full");
    assert_string_equal(str_at(o, "Labels", "llmcore-sandbox.session"), "0123456789abcdef");
    /* a session's container runs no command of the caller's and takes no stdin */
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "Cmd"), 0)), "sleep");
    assert_false(json_is_true(json_object_get(o, "OpenStdin")));
    json_t *in = json_array_get(json_object_get(hc, "Mounts"), 0);
    assert_string_equal(str_at(in, "Target", NULL), "/home/sandbox/input");
    assert_true(json_is_true(json_object_get(in, "ReadOnly")));
    json_decref(o);
    lcs_policy_clear(&p);
}

/* Podman: the profile by its path, the workspace owned through "U", and
 * the nproc rlimit it would otherwise set to a maximum it may not reach. */
static void podman_run_matches_its_golden_file(void **state)
{
    (void)state;
    lcs_policy p = policy_of("llmcore-sandbox-base:1.0.0", NULL);
    const char *argv[] = {"sh", "-c", "echo hi", NULL};
    lcs_docker_create c = {&p, "localhost/llmcore-sandbox-base:1.0.0", argv, NULL,
                           "/usr/share/llmcore-sandbox/seccomp.json", NULL, LCS_ENGINE_PODMAN,
                           32768};
    lcs_error err;
    json_t *o = lcs_docker_render_create(&c, &err);
    if (!o)
        fail_msg("%s", err.message);
    expect_golden(o, "podman-run.json");
    json_t *hc = json_object_get(o, "HostConfig");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "SecurityOpt"), 1)),
                        "seccomp=/usr/share/llmcore-sandbox/seccomp.json");
    assert_contains(str_at(hc, "Tmpfs", "/home/sandbox/work"), ",U");
    assert_not_contains(str_at(hc, "Tmpfs", "/home/sandbox/work"), "uid=");
    json_t *np = json_array_get(json_object_get(hc, "Ulimits"), 3);
    assert_string_equal(str_at(np, "Name", NULL), "nproc");
    assert_int_equal(json_integer_value(json_object_get(np, "Hard")), 32768);
    json_decref(o);
    lcs_policy_clear(&p);
}

static void missing_arguments_are_refused(void **state)
{
    (void)state;
    lcs_policy p = policy_of("llmcore-sandbox-base:1.0.0", NULL);
    lcs_docker_create c = {&p, "", NULL, NULL, PROFILE, NULL, LCS_ENGINE_DOCKER, 0};
    lcs_error err;
    assert_null(lcs_docker_render_create(&c, &err));
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_null(lcs_docker_render_create(&c, &err));
    assert_contains(err.message, "an image");
    c.image = "x";
    c.seccomp = NULL;
    assert_null(lcs_docker_render_create(&c, &err));
    assert_contains(err.message, "seccomp profile");
    lcs_policy_clear(&p);
}

static void engine_address_comes_from_the_option_then_docker_host(void **state)
{
    (void)state;
    char out[256];
    lcs_error err;
    const char *none[] = {NULL};
    assert_int_equal(lcs_docker_engine_find("unix:///run/x.sock", "unix:///y", none, out,
                                            sizeof out, &err), 0);
    assert_string_equal(out, "unix:///run/x.sock");
    assert_int_equal(lcs_docker_engine_find("/run/x.sock", NULL, none, out, sizeof out, &err), 0);
    assert_string_equal(out, "unix:///run/x.sock");
    assert_int_equal(lcs_docker_engine_find(NULL, "tcp://10.0.0.1:2375", none, out, sizeof out,
                                            &err), 0);
    assert_string_equal(out, "tcp://10.0.0.1:2375");
    assert_int_equal(lcs_docker_engine_find("http://x", NULL, none, out, sizeof out, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "--engine 'http://x': give unix:///PATH");
    assert_int_equal(lcs_docker_engine_find(NULL, "unix://run/x", none, out, sizeof out, &err),
                     -1);
    assert_contains(err.message, "DOCKER_HOST 'unix://run/x': the socket path must be absolute");
    assert_int_equal(lcs_docker_engine_find("tcp://", NULL, none, out, sizeof out, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
}

static void engine_socket_is_the_first_candidate_that_is_a_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/lcs-engine-XXXXXX", missing[64], file[64], sock[64], out[256];
    assert_non_null(mkdtemp(dir));
    snprintf(missing, sizeof missing, "%s/missing.sock", dir);
    snprintf(file, sizeof file, "%s/file.sock", dir);
    snprintf(sock, sizeof sock, "%s/engine.sock", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    lcs_error err;
    const char *c[] = {missing, file, sock, NULL};
    assert_int_equal(lcs_docker_engine_find(NULL, NULL, c, out, sizeof out, &err), 0);
    char want[96];
    snprintf(want, sizeof want, "unix://%s", sock);
    assert_string_equal(out, want);
    /* an empty DOCKER_HOST is unset */
    assert_int_equal(lcs_docker_engine_find(NULL, "", c, out, sizeof out, &err), 0);
    const char *c2[] = {missing, file, NULL};
    assert_int_equal(lcs_docker_engine_find(NULL, NULL, c2, out, sizeof out, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_contains(err.message, "no container engine found (looked for ");
    assert_contains(err.message, "missing.sock, ");
    assert_contains(err.message, "file.sock)");
    close(fd);
    unlink(sock);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restricted_run_matches_its_golden_file),
        cmocka_unit_test(full_session_with_host_dirs_matches_its_golden_file),
        cmocka_unit_test(podman_run_matches_its_golden_file),
        cmocka_unit_test(missing_arguments_are_refused),
        cmocka_unit_test(engine_address_comes_from_the_option_then_docker_host),
        cmocka_unit_test(engine_socket_is_the_first_candidate_that_is_a_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
