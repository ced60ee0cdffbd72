/*
 * run.c - a run's request and result: initialisation, clearing, and the
 * result as JSON (lcs_run itself is in src/session/run.c, which dispatches
 * cold and warm runs).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmcore/sandbox.h"
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
