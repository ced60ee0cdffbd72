/*
 * run.c - lcs_run(): one command in a fresh sandbox, through the public API.
 *
 * Resolves the image (registry entry with a built rootfs, or an explicit
 * rootfs), computes the policy (src/policy/policy.c), renders it as a
 * native-runtime spec and runs it. The shipped seccomp profile is compiled
 * into the library as a BPF program at build time
 * (src/runtime/native/seccomp_default.c), so no file on disk can be swapped
 * for it and no sandbox start pays for compiling it.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/builtin.h"
#include "image/image.h"
#include "runtime/native/native.h"
#include "runtime/run_internal.h"
#include "session/session_int.h"
#include "util/error.h"
#include "util/jsonbytes.h"

void lcs_run_request_init(lcs_run_request *r)
{
    memset(r, 0, sizeof *r);
    lcs_policy_overrides_init(&r->overrides);
}

void lcs_run_result_clear(lcs_run_result *r)
{
    if (!r)
        return;
    free(r->stdout_data);
    free(r->stderr_data);
    free(r->enforced_json);
    free(r->policy_json);
    memset(r, 0, sizeof *r);
}

int lcs_resolve_image(const lcs_registry *reg, const char *image, const char *req_rootfs,
                      const lcs_manifest *manifest, lcs_manifest **m, char **rootfs,
                      lcs_error *err)
{
    *m = NULL;
    *rootfs = NULL;
    if (req_rootfs) {
        struct stat st;
        if (stat(req_rootfs, &st) != 0 || !S_ISDIR(st.st_mode))
            return lcs_fail(err, LCS_E_NOT_FOUND, "root filesystem %s is not a directory",
                            req_rootfs);
        *m = manifest ? lcs_manifest_copy(manifest, err)
                           : lcs_builtin_manifest_get(LCS_IMAGE_PREFIX "base", err);
        if (!*m)
            return -1;
        if (!(*rootfs = strdup(req_rootfs))) {
            lcs_manifest_free(*m);
            *m = NULL;
            return lcs_fail_nomem(err);
        }
        return 0;
    }
    if (!image)
        return lcs_fail(err, LCS_E_INVALID, "a run needs an image or a root filesystem");
    if (!reg)
        return lcs_fail(err, LCS_E_INVALID, "running image %s needs a registry", image);
    lcs_image_info info;
    if (lcs_registry_get(reg, image, &info, err) != 0)
        return -1;
    if (!info.available_locally) {
        lcs_fail(err, LCS_E_NOT_FOUND,
                 "image %s is known but not built in the image store %s; build it first "
                 "(cd container_images && make %s)",
                 info.ref, lcs_registry_store_dir(reg),
                 strncmp(info.manifest->name, LCS_IMAGE_PREFIX, strlen(LCS_IMAGE_PREFIX)) == 0
                     ? info.manifest->name + strlen(LCS_IMAGE_PREFIX)
                     : info.manifest->name);
        lcs_image_info_clear(&info);
        return -1;
    }
    *m = info.manifest;
    *rootfs = info.rootfs;
    info.manifest = NULL;
    info.rootfs = NULL;
    lcs_image_info_clear(&info);
    return 0;
}

void lcs_spec_from_policy(const lcs_policy *pol, const char *rootfs, lcs_native_spec *s)
{
    memset(s, 0, sizeof *s);
    s->rootfs = rootfs;
    s->env = (const char *const *)pol->env;
    s->cwd = pol->cwd;
    s->uid = pol->uid;
    s->gid = pol->gid;
    s->network = pol->network == LCS_NETWORK_FULL ? LCS_NATIVE_NET_FULL : LCS_NATIVE_NET_NONE;
    s->writable_root = pol->writable_root;
    s->memory_bytes = pol->memory_mb * 1024 * 1024;
    s->cpus = pol->cpus;
    s->pids = pol->pids;
    s->timeout_s = pol->timeout_seconds;
    s->output_limit_bytes = pol->output_bytes;
    s->fsize_bytes = pol->file_size_mb * 1024 * 1024;
    s->nofile = pol->open_files;
    s->tmp_bytes = pol->tmp_mb * 1024 * 1024;
    s->layer_bytes = pol->disk_mb * 1024 * 1024;
    s->input_dir = pol->input_dir;
    s->output_dir = pol->output_dir;
    s->allow_degraded = pol->allow_degraded;
}

int lcs_run(const lcs_registry *reg, const lcs_run_request *req, lcs_run_result *res,
            lcs_error *err)
{
    if (!res)
        return lcs_fail(err, LCS_E_INVALID, "no result given");
    memset(res, 0, sizeof *res);
    if (!req || !req->argv || !req->argv[0] || !req->argv[0][0])
        return lcs_fail(err, LCS_E_INVALID, "no command to run");
    lcs_manifest *m = NULL;
    char *rootfs = NULL, *image = NULL;
    lcs_policy pol;
    memset(&pol, 0, sizeof pol);
    int rc = -1;
    if (lcs_resolve_image(reg, req->image, req->rootfs, req->manifest, &m, &rootfs, err) != 0)
        goto out;
    if (lcs_policy_compute(m, &req->overrides, &pol, err) != 0)
        goto out;

    const char *profile = req->seccomp_profile ? req->seccomp_profile : LCS_NATIVE_SECCOMP_BUILTIN;
    char real_profile[PATH_MAX];
    if (req->warm && req->seccomp_profile) {
        /* a warm sandbox outlives this process: the profile by its real path */
        if (!realpath(req->seccomp_profile, real_profile)) {
            lcs_fail_errno(err, "seccomp profile %s", req->seccomp_profile);
            goto out;
        }
        profile = real_profile;
    }

    lcs_native_spec s;
    lcs_spec_from_policy(&pol, rootfs, &s);
    s.argv = req->argv;
    s.seccomp_profile = profile;
    s.stdin_data = req->stdin_data;
    s.stdin_len = req->stdin_len;

    /* Warm: host directories are bound when a sandbox starts, and one
     * started in advance would hold them across runs: those runs are cold. */
    int warm = req->warm && !pol.input_dir && !pol.output_dir;
    if (warm && (!(req->warm_idle_seconds >= 0) || req->warm_idle_seconds > 365 * 86400)) {
        lcs_fail(err, LCS_E_INVALID, "warm idle time %g s is not a number of seconds from 0 to "
                 "365 days", req->warm_idle_seconds);
        goto out;
    }
    struct lcs_pool_req pr = {&s, &pol, NULL,
                              req->warm_idle_seconds > 0 ? req->warm_idle_seconds : 60.0};
    if (warm) {
        if (!(image = lcs_manifest_full_name(m))) {
            lcs_fail_nomem(err);
            goto out;
        }
        pr.image = image;
        lcs_exec_options eo;
        lcs_exec_options_init(&eo);
        eo.argv = req->argv;
        eo.stdin_data = req->stdin_data;
        eo.stdin_len = req->stdin_len;
        eo.timeout_seconds = pol.timeout_seconds;
        eo.output_bytes = pol.output_bytes;
        int w = lcs_pool_run(&pr, &eo, res, err);
        if (w != 0) {
            rc = w < 0 ? -1 : 0;
            goto out;
        }
    }

    lcs_native_result nr;
    memset(&nr, 0, sizeof nr);
    if (lcs_native_run(&s, &nr, err) != 0) {
        lcs_native_result_clear(&nr);
        goto out;
    }
    snprintf(res->verdict, sizeof res->verdict, "%s", nr.verdict);
    res->exit_code = nr.exit_code;
    res->signal = nr.signal;
    res->stdout_data = nr.out;
    res->stdout_len = nr.out_len;
    res->stdout_truncated = nr.out_truncated;
    res->stderr_data = nr.err;
    res->stderr_len = nr.err_len;
    res->stderr_truncated = nr.err_truncated;
    res->wall_seconds = nr.wall_s;
    res->cpu_seconds = nr.cpu_s;
    res->peak_memory_bytes = nr.peak_memory_bytes;
    res->enforced_json = nr.enforced_json;
    nr.out = nr.err = nr.enforced_json = NULL;
    lcs_native_result_clear(&nr);
    res->policy_json = lcs_policy_to_json(&pol, err);
    if (!res->policy_json) {
        lcs_run_result_clear(res);
        goto out;
    }
    rc = 0;
    if (warm)
        lcs_pool_refill(&pr);
out:
    free(image);
    lcs_policy_clear(&pol);
    lcs_manifest_free(m);
    free(rootfs);
    return rc;
}

/* The result as a JSON object with "stdout" and "stderr" as placeholders
 * (their bytes are escaped straight into the output: lcs_json_dumps_bytes). */
static json_t *result_object(const lcs_run_result *r, lcs_error *err)
{
    if (!r || !r->verdict[0]) {
        lcs_fail(err, LCS_E_INVALID, "no run result given");
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "verdict", json_string(r->verdict));
    json_object_set_new(o, "exit_code", json_integer(r->exit_code));
    json_object_set_new(o, "signal", json_integer(r->signal));
    json_object_set_new(o, "stdout", json_string(""));
    json_object_set_new(o, "stdout_truncated", json_boolean(r->stdout_truncated));
    json_object_set_new(o, "stderr", json_string(""));
    json_object_set_new(o, "stderr_truncated", json_boolean(r->stderr_truncated));
    json_object_set_new(o, "wall_seconds", json_real(r->wall_seconds));
    json_object_set_new(o, "cpu_seconds", json_real(r->cpu_seconds));
    json_object_set_new(o, "peak_memory_bytes", json_integer((json_int_t)r->peak_memory_bytes));
    json_object_set_new(o, "start", json_string(r->warm ? "warm" : "cold"));
    json_t *enf = r->enforced_json ? json_loads(r->enforced_json, 0, NULL) : NULL;
    json_object_set_new(o, "enforced", enf ? enf : json_null());
    json_t *pol = r->policy_json ? json_loads(r->policy_json, 0, NULL) : NULL;
    json_object_set_new(o, "policy", pol ? pol : json_null());
    return o;
}

static const char *const result_bytes_keys[2] = {"stdout", "stderr"};

char *lcs_run_result_to_json(const lcs_run_result *r, lcs_error *err)
{
    json_t *o = result_object(r, err);
    if (!o)
        return NULL;
    const char *data[2] = {r->stdout_data, r->stderr_data};
    size_t lens[2] = {r->stdout_len, r->stderr_len};
    /* one buffer of the exact size: no copy of the output but this one */
    char *s = lcs_json_dumps_bytes(o, JSON_PRESERVE_ORDER | JSON_COMPACT, 2, result_bytes_keys,
                                   data, lens);
    json_decref(o);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

int lcs_run_result_write_json(const lcs_run_result *r, FILE *f, lcs_error *err)
{
    json_t *o = result_object(r, err);
    if (!o)
        return -1;
    const char *data[2] = {r->stdout_data, r->stderr_data};
    size_t lens[2] = {r->stdout_len, r->stderr_len};
    /* the output is escaped in chunks straight into f: no copy at all */
    int rc = lcs_json_dumpf_bytes(o, JSON_PRESERVE_ORDER | JSON_COMPACT, 2, result_bytes_keys,
                                  data, lens, f);
    json_decref(o);
    if (rc == 0 && (fputc('\n', f) == EOF || fflush(f) == EOF))
        rc = -1;
    if (rc < 0)
        return lcs_fail_errno(err, "write the result");
    return 0;
}
