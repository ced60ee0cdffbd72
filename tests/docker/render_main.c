/*
 * render_main.c - lcs-docker-render: prints the body of POST
 * /containers/create that the Docker backend's renderer makes for a
 * builtin image's policy, for the tests that run it on a real engine.
 *
 *   lcs-docker-render [--mode restricted|full] [--memory MB] [--pids N]
 *                     [--engine docker|podman] [--nproc N] [--input DIR]
 *                     [--seccomp PROFILE] MANIFEST_REF ENGINE_IMAGE -- CMD...
 *
 * --seccomp: the profile file; Docker gets its text, Podman its path.
 * Exits 0 with the JSON on stdout, 2 on bad usage or an error (stderr).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/docker/docker.h"

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "lcs-docker-render: %s%s%s\n", what, msg ? ": " : "", msg ? msg : "");
    return 2;
}

int main(int argc, char **argv)
{
    lcs_policy_overrides ov;
    lcs_policy_overrides_init(&ov);
    lcs_docker_create c;
    memset(&c, 0, sizeof c);
    const char *profile = NULL;
    int i = 1;
    for (; i + 1 < argc && !strncmp(argv[i], "--", 2) && strcmp(argv[i], "--"); i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--mode"))
            ov.access_mode = !strcmp(v, "full") ? LCS_ACCESS_FULL : LCS_ACCESS_RESTRICTED;
        else if (!strcmp(o, "--memory"))
            ov.memory_mb = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--pids"))
            ov.pids = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(o, "--engine"))
            c.flavour = !strcmp(v, "podman") ? LCS_ENGINE_PODMAN : LCS_ENGINE_DOCKER;
        else if (!strcmp(o, "--nproc"))
            c.nproc = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--seccomp"))
            profile = v;
        else if (!strcmp(o, "--input"))
            ov.input_dir = v;
        else
            return fail("unknown option", o);
    }
    if (i + 3 > argc || strcmp(argv[i + 2], "--") || i + 3 == argc)
        return fail("usage: [OPTIONS] MANIFEST_REF ENGINE_IMAGE -- CMD...", NULL);
    if (ov.access_mode == LCS_ACCESS_FULL)
        ov.allow_above_limits = true; /* FULL on a RESTRICTED image is the caller's consent */
    lcs_error err;
    lcs_manifest *m = lcs_builtin_manifest_get(argv[i], &err);
    if (!m)
        return fail(argv[i], err.message);
    lcs_policy p;
    if (lcs_policy_compute(m, &ov, &p, &err)) {
        lcs_manifest_free(m);
        return fail("policy", err.message);
    }
    lcs_manifest_free(m);
    char *text = NULL;
    if (profile && c.flavour == LCS_ENGINE_DOCKER) {
        json_error_t je;
        json_t *j = json_load_file(profile, 0, &je);
        if (!j)
            return fail(profile, je.text);
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    c.policy = &p;
    c.image = argv[i + 1];
    c.argv = (const char *const *)argv + i + 3;
    c.seccomp = text ? text : profile;
    json_t *o = lcs_docker_render_create(&c, &err);
    free(text);
    lcs_policy_clear(&p);
    if (!o)
        return fail("render", err.message);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    puts(s);
    free(s);
    return 0;
}
