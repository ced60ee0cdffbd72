/*
 * run.c - lcs_run(): one command in a fresh sandbox, through the public API.
 *
 * The session layer dispatches runs: the image is prepared once
 * (src/runtime/prepare.c), then the command runs in a warm sandbox from the
 * pool when one was asked for and is ready (src/session/pool.c), else in a
 * cold one started for it by the backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/native/native.h"
#include "runtime/prepare.h"
#include "session/session_int.h"
#include "util/error.h"

/* A one-shot run on the Docker backend: a session of its own (a container,
 * its monitor), one exec, destroyed. */
static int run_docker(const lcs_registry *reg, const lcs_run_request *req, lcs_run_result *res,
                      lcs_error *err)
{
    if (req->warm)
        return lcs_fail(err, LCS_E_UNSUPPORTED, "warm runs are the native backend's: a docker "
                        "run starts its container when it is asked for");
    lcs_session_options so;
    lcs_session_options_init(&so);
    so.image = req->image;
    so.rootfs = req->rootfs;
    so.manifest = req->manifest;
    so.overrides = req->overrides;
    so.seccomp_profile = req->seccomp_profile;
    so.backend = "docker";
    so.engine = req->engine;
    so.label = "run";
    lcs_session *s = NULL;
    if (lcs_session_create(reg, &so, &s, err) < 0)
        return -1;
    lcs_exec_options eo;
    lcs_exec_options_init(&eo);
    eo.argv = req->argv;
    eo.stdin_data = req->stdin_data;
    eo.stdin_len = req->stdin_len;
    int rc = lcs_session_exec(s, &eo, res, err);
    lcs_error derr;
    lcs_error_clear(&derr);
    /* without a workspace to keep, destroy frees s whatever happens */
    if (lcs_session_destroy(s, NULL, &derr) < 0 && rc == 0) {
        lcs_run_result_clear(res);
        if (err)
            *err = derr;
        rc = -1;
    }
    return rc;
}

int lcs_run(const lcs_registry *reg, const lcs_run_request *req, lcs_run_result *res,
            lcs_error *err)
{
    if (!res)
        return lcs_fail(err, LCS_E_INVALID, "no result given");
    memset(res, 0, sizeof *res);
    if (!req || !req->argv || !req->argv[0] || !req->argv[0][0])
        return lcs_fail(err, LCS_E_INVALID, "no command to run");
    const char *backend = lcs_sess_backend(req->backend, err);
    if (!backend)
        return -1;
    if (!strcmp(backend, "docker"))
        return run_docker(reg, req, res, err);
    lcs_prepare_req pq = {req->image,     req->rootfs,          req->manifest,
                          &req->overrides, req->seccomp_profile, req->warm};
    lcs_prepared p;
    if (lcs_prepare(reg, &pq, &p, err) != 0)
        return -1;
    int rc = -1;
    lcs_native_spec *s = &p.spec;
    s->argv = req->argv;
    s->stdin_data = req->stdin_data;
    s->stdin_len = req->stdin_len;

    /* Warm: host directories are bound when a sandbox starts, and one
     * started in advance would hold them across runs: those runs are cold. */
    int warm = req->warm && !p.policy.input_dir && !p.policy.output_dir;
    if (warm && (!(req->warm_idle_seconds >= 0) || req->warm_idle_seconds > 365 * 86400)) {
        lcs_fail(err, LCS_E_INVALID, "warm idle time %g s is not a number of seconds from 0 to "
                 "365 days", req->warm_idle_seconds);
        goto out;
    }
    struct lcs_pool_req pr = {s, &p.policy, p.image,
                              req->warm_idle_seconds > 0 ? req->warm_idle_seconds : 60.0};
    if (warm) {
        lcs_exec_options eo;
        lcs_exec_options_init(&eo);
        eo.argv = req->argv;
        eo.stdin_data = req->stdin_data;
        eo.stdin_len = req->stdin_len;
        eo.timeout_seconds = p.policy.timeout_seconds;
        eo.output_bytes = p.policy.output_bytes;
        int w = lcs_pool_run(&pr, &eo, res, err);
        if (w != 0) {
            rc = w < 0 ? -1 : 0;
            goto out;
        }
    }

    lcs_native_result nr;
    memset(&nr, 0, sizeof nr);
    if (lcs_native_run(s, &nr, err) != 0) {
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
    res->policy_json = lcs_policy_to_json(&p.policy, err);
    if (!res->policy_json) {
        lcs_run_result_clear(res);
        goto out;
    }
    rc = 0;
    if (warm)
        lcs_pool_refill(&pr);
out:
    lcs_prepared_clear(&p);
    return rc;
}
