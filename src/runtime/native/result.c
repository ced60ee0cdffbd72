/*
 * result.c - the result of a native run: release and JSON form.
 */
#include "runtime/native/internal.h"
#include "util/jsonbytes.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

void lcs_native_result_clear(lcs_native_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    free(r->enforced_json);
    memset(r, 0, sizeof *r);
}

char *lcs_native_result_to_json(const lcs_native_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "verdict", json_string(r->verdict));
    json_object_set_new(o, "exit_code", json_integer(r->exit_code));
    json_object_set_new(o, "signal", json_integer(r->signal));
    json_object_set_new(o, "stdout", lcs_json_bytes(r->out, r->out_len));
    json_object_set_new(o, "stdout_truncated", json_boolean(r->out_truncated));
    json_object_set_new(o, "stderr", lcs_json_bytes(r->err, r->err_len));
    json_object_set_new(o, "stderr_truncated", json_boolean(r->err_truncated));
    json_object_set_new(o, "wall_s", json_real(r->wall_s));
    json_object_set_new(o, "cpu_s", json_real(r->cpu_s));
    json_object_set_new(o, "peak_memory_bytes", json_integer((json_int_t)r->peak_memory_bytes));
    json_t *enf = r->enforced_json ? json_loads(r->enforced_json, 0, NULL) : NULL;
    json_object_set_new(o, "enforced", enf ? enf : json_null());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

const char *lcs_native_verdict(int wait_status, int output_exceeded, int oom_killed,
                               int pids_hit, int timed_out, int exec_denied)
{
    int clean_exit = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    if (output_exceeded)
        return "output";
    if (oom_killed && !clean_exit)
        return "memory";
    if (pids_hit && !clean_exit)
        return "pids";
    if (timed_out)
        return "timeout";
    /* The seccomp filter's doing: SIGSYS is the signal of its kill actions,
     * and a command whose execve and exit it refused never started. */
    if (WIFSIGNALED(wait_status) && (WTERMSIG(wait_status) == SIGSYS || exec_denied))
        return "seccomp";
    if (WIFSIGNALED(wait_status))
        return "signal";
    return clean_exit ? "ok" : "exit";
}
