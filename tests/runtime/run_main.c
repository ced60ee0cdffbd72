/*
 * run_main.c - lcs-native-run: a small command-line front end to
 * lcs_native_run(), used by the runtime and security tests.
 *
 *   lcs-native-run --rootfs DIR [options] -- COMMAND [ARG...]
 *
 * Prints the result as one JSON document on stdout and exits 0 when the
 * command ran (whatever its verdict), 2 when the sandbox could not be built
 * (the error goes to stderr as "error: <status>: <message>").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/native/native.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: lcs-native-run --rootfs DIR [--memory N[KMG]] [--cpus X] [--pids N]\n"
            "         [--timeout S] [--network none|full] [--writable] [--output-limit N]\n"
            "         [--fsize N] [--nofile N] [--tmp N] [--disk N] [--input DIR] [--output DIR]\n"
            "         [--seccomp FILE] [--degraded] [--stdin TEXT] [--env K=V]... [--cwd DIR]\n"
            "         [--state-dir DIR] [--uid N] [--gid N]\n"
            "         [--root] [--keep-caps] [--upper DIR] -- COMMAND [ARG...]\n"
            "build mode: --root runs the command as uid 0 inside, --keep-caps keeps the\n"
            "user-namespace capabilities package managers need, --upper DIR is the overlay\n"
            "upper layer, kept after the run (implies --writable)\n");
    exit(2);
}

static unsigned long long size_arg(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    switch (*end) {
    case 'k': case 'K': v <<= 10; break;
    case 'm': case 'M': v <<= 20; break;
    case 'g': case 'G': v <<= 30; break;
    case 0: break;
    default: usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    lcs_native_spec s;
    memset(&s, 0, sizeof s);
    const char **env = calloc((size_t)argc + 3, sizeof *env);
    if (!env)
        return 2;
    size_t nenv = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
        if (ARG("--rootfs")) s.rootfs = v;
        else if (ARG("--memory")) s.memory_bytes = size_arg(v);
        else if (ARG("--cpus")) s.cpus = atof(v);
        else if (ARG("--pids")) s.pids = (uint32_t)atoi(v);
        else if (ARG("--timeout")) s.timeout_s = atof(v);
        else if (ARG("--network")) s.network = !strcmp(v, "full") ? LCS_NATIVE_NET_FULL : LCS_NATIVE_NET_NONE;
        else if (ARG("--output-limit")) s.output_limit_bytes = size_arg(v);
        else if (ARG("--fsize")) s.fsize_bytes = size_arg(v);
        else if (ARG("--nofile")) s.nofile = (uint32_t)atoi(v);
        else if (ARG("--tmp")) s.tmp_bytes = size_arg(v);
        else if (ARG("--disk")) s.layer_bytes = size_arg(v);
        else if (ARG("--input")) s.input_dir = v;
        else if (ARG("--output")) s.output_dir = v;
        else if (ARG("--seccomp")) s.seccomp_profile = v;
        else if (ARG("--stdin")) { s.stdin_data = v; s.stdin_len = strlen(v); }
        else if (ARG("--env")) env[nenv++] = v;
        else if (ARG("--cwd")) s.cwd = v;
        else if (ARG("--state-dir")) s.state_dir = v;
        else if (ARG("--uid")) s.uid = (uid_t)atoi(v);
        else if (ARG("--gid")) s.gid = (gid_t)atoi(v);
        else if (ARG("--upper")) { s.upper_dir = v; s.writable_root = 1; }
        else if (!strcmp(a, "--root")) s.allow_root = 1;
        else if (!strcmp(a, "--keep-caps")) s.keep_capabilities = 1;
        else if (!strcmp(a, "--writable")) s.writable_root = 1;
        else if (!strcmp(a, "--degraded")) s.allow_degraded = 1;
        else usage();
#undef ARG
    }
    if (i >= argc || !s.rootfs)
        usage();
    if (nenv == 0) {
        env[nenv++] = "PATH=/usr/local/bin:/usr/bin:/bin";
        env[nenv++] = "HOME=/home/sandbox";
    }
    env[nenv] = NULL;
    s.env = env;
    s.argv = (const char *const *)(argv + i);
    lcs_native_result r;
    lcs_error err;
    lcs_error_clear(&err);
    if (lcs_native_run(&s, &r, &err) < 0) {
        fprintf(stderr, "error: %s: %s\n", lcs_status_name(err.code), err.message);
        lcs_native_result_clear(&r);
        free(env);
        return 2;
    }
    char *j = lcs_native_result_to_json(&r);
    if (j)
        printf("%s\n", j);
    free(j);
    lcs_native_result_clear(&r);
    free(env);
    return j ? 0 : 2;
}
