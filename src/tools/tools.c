/*
 * tools.c - the 15 agent tools over one sandbox session.
 *
 * A tool context owns (or borrows) a session, the tool access policy, the
 * host-side state store and the tracker run. lcs_tool_call checks the
 * policy for EVERY tool (upstream skipped the state and info tools and let
 * FULL mode bypass the deny list), validates the arguments against the
 * tool's schema, runs the tool, logs it to the run's execution log and
 * returns upstream's text result plus a structured JSON result.
 *
 * Files move through lcs_session_write_data/read_data (binary-safe, any
 * size, confined to the sandbox's root), never through a shell command;
 * commands run through lcs_session_exec, whose timeout kills the command's
 * whole process tree. Nothing here truncates data silently: the only caps
 * are the configured ones (output per stream, max_read_bytes) and hitting
 * one is always reported.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/common.h"
#include "util/jsonbytes.h"
#include "util/random.h"
#include "tools/internal.h"
#include "util/str.h"
#include "util/sandbox_paths.h"

struct lcs_tool_context {
    lcs_tool_options o;
    lcs_tool_policy *policy;
    lcs_session *session;
    bool owns_session;
    lcs_access_mode mode; /* before the session exists */
    json_t *status;       /* the session's status at creation (policy, enforced) */
    char *workdir;
    lcs_tracker *tracker;
    lcs_tracker_run *run;
    lcs_state *state;
    char store_error[sizeof(((lcs_error *)0)->message)];
    /* Shared with lcs_tool_context_abort (another thread). */
    pthread_mutex_t mu;
    char *session_id;
    bool aborted;
};

void lcs_tool_options_init(lcs_tool_options *o)
{
    memset(o, 0, sizeof *o);
    lcs_session_options_init(&o->session_options);
    o->access_mode = -1;
    o->track = true;
    o->copy_recorded_files = true;
    o->max_read_bytes = LCS_TOOL_MAX_READ;
    o->max_copy_bytes = LCS_TRACKER_COPY_BYTES;
    o->max_copy_files = LCS_TRACKER_COPY_FILES;
}

/* ---- results */

static void set_result(lcs_tool_result *out, bool is_error, char *text, json_t *json)
{
    out->is_error = is_error;
    out->text = text;
    out->text_len = text ? strlen(text) : 0;
    out->json = json ? json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(json);
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

static char *fmt(const char *f, ...) LCS_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = vfmt(f, ap);
    va_end(ap);
    return s;
}

/* An error result: text "ERROR: <msg>", json {"ok": false, "error", "code"}. */
static void fail_result(lcs_tool_result *out, lcs_status code, const char *f, ...)
    LCS_PRINTF(3, 4);
static void fail_result(lcs_tool_result *out, lcs_status code, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *msg = vfmt(f, ap);
    va_end(ap);
    char *text = fmt("ERROR: %s", msg ? msg : "out of memory");
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_false());
    json_object_set_new(j, "error", json_string(msg ? msg : "out of memory"));
    json_object_set_new(j, "code", json_string(lcs_status_name(code)));
    free(msg);
    set_result(out, true, text, j);
}

static json_t *ok_json(void)
{
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_true());
    return j;
}

void lcs_tool_result_clear(lcs_tool_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->json);
    memset(r, 0, sizeof *r);
}

/* ---- ExecutionResult (upstream's text contract) */

typedef struct exec_view {
    int exit_code;
    char *out, *errs; /* UTF-8 */
    bool timed_out, truncated, success;
} exec_view;

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\v' && *s != '\f')
            return false;
    return true;
}

/* timeout: the limit that applied (0: unknown, the wall time is shown). */
static int make_view(const lcs_run_result *r, double timeout, exec_view *v)
{
    memset(v, 0, sizeof *v);
    v->timed_out = strcmp(r->verdict, "timeout") == 0;
    v->truncated = r->stdout_truncated || r->stderr_truncated || !strcmp(r->verdict, "output");
    if (v->timed_out)
        v->exit_code = -1;
    else if (r->exit_code >= 0)
        v->exit_code = r->exit_code;
    else if (r->signal > 0)
        v->exit_code = 128 + r->signal;
    else
        v->exit_code = -1;
    v->success = v->exit_code == 0 && !v->timed_out;
    size_t n;
    v->out = lcs_utf8_sanitize(r->stdout_data ? r->stdout_data : "", r->stdout_len, &n);
    char *e = lcs_utf8_sanitize(r->stderr_data ? r->stderr_data : "", r->stderr_len, &n);
    if (!v->out || !e) {
        free(v->out);
        free(e);
        return -1;
    }
    /* Say why a command stopped when its own stderr cannot. */
    const char *note = NULL;
    char buf[160];
    if (v->timed_out) {
        snprintf(buf, sizeof buf, "Command timed out after %g seconds",
                 timeout > 0 ? timeout : (double)(long long)(r->wall_seconds * 10 + 0.5) / 10);
        note = buf;
    } else if (!strcmp(r->verdict, "memory"))
        note = "Killed: the sandbox's memory limit was reached";
    else if (!strcmp(r->verdict, "pids"))
        note = "Stopped: the sandbox's process limit was reached";
    else if (!strcmp(r->verdict, "seccomp")) {
        snprintf(buf, sizeof buf, "%s", r->signal == SIGSYS
                     ? "Killed by the seccomp profile: it forbids a system call the command made"
                     : "Not started: the seccomp profile refuses the calls needed to run it");
        note = buf;
    }
    else if (!strcmp(r->verdict, "signal")) {
        snprintf(buf, sizeof buf, "Killed by signal %d", r->signal);
        note = buf;
    } else if (!strcmp(r->verdict, "internal"))
        note = "Internal error of the sandbox runtime";
    if (note) {
        v->errs = fmt("%s%s%s", e, (*e && e[strlen(e) - 1] != '\n') ? "\n" : "", note);
        free(e);
        if (!v->errs) {
            free(v->out);
            return -1;
        }
    } else
        v->errs = e;
    return 0;
}

static void view_free(exec_view *v)
{
    free(v->out);
    free(v->errs);
}

static char *view_text(const exec_view *v)
{
    lcs_buf b = {0};
    bool first = true;
#define PART(...)                                                                                  \
    do {                                                                                           \
        if (!first)                                                                                \
            lcs_buf_append(&b, "\n");                                                              \
        first = false;                                                                             \
        lcs_buf_appendf(&b, __VA_ARGS__);                                                          \
    } while (0)
    if (v->timed_out)
        PART("%s", "\xE2\x8F\xB0 EXECUTION TIMED OUT");
    if (v->success)
        PART("%s", blank(v->out) ? "(command completed successfully with no output)" : v->out);
    else {
        PART("\xE2\x9D\x8C EXIT CODE: %d", v->exit_code);
        if (!blank(v->out))
            PART("STDOUT:\n%s", v->out);
        if (!blank(v->errs))
            PART("STDERR:\n%s", v->errs);
    }
    if (v->truncated)
        PART("%s", "\n\xE2\x9A\xA0\xEF\xB8\x8F (output was truncated due to size limits)");
#undef PART
    if (b.oom) {
        lcs_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static json_t *view_json(const exec_view *v, const lcs_run_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "exit_code", json_integer(v->exit_code));
    json_object_set_new(o, "stdout", json_string(v->out));
    json_object_set_new(o, "stderr", json_string(v->errs));
    json_object_set_new(o, "execution_time_seconds", json_real(r->wall_seconds));
    json_object_set_new(o, "truncated", json_boolean(v->truncated));
    json_object_set_new(o, "timed_out", json_boolean(v->timed_out));
    json_object_set_new(o, "success", json_boolean(v->success));
    json_t *m = json_object();
    json_object_set_new(m, "verdict", json_string(r->verdict));
    json_object_set_new(m, "signal", json_integer(r->signal));
    json_object_set_new(m, "stdout_truncated", json_boolean(r->stdout_truncated));
    json_object_set_new(m, "stderr_truncated", json_boolean(r->stderr_truncated));
    json_object_set_new(m, "stdout_bytes", json_integer((json_int_t)r->stdout_len));
    json_object_set_new(m, "stderr_bytes", json_integer((json_int_t)r->stderr_len));
    json_object_set_new(m, "cpu_seconds", json_real(r->cpu_seconds));
    json_object_set_new(m, "peak_memory_bytes", json_integer((json_int_t)r->peak_memory_bytes));
    json_object_set_new(o, "metadata", m);
    return o;
}

/* The tools' view of a run result, for the two public renderings below. */
static int result_view(const lcs_run_result *r, exec_view *v, lcs_error *err)
{
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "tool output: no run result given");
    if (make_view(r, 0, v) != 0)
        return lcs_fail_nomem(err);
    return 0;
}

char *lcs_tool_output_text(const lcs_run_result *r, lcs_error *err)
{
    exec_view v;
    if (result_view(r, &v, err) < 0)
        return NULL;
    char *t = view_text(&v);
    view_free(&v);
    if (!t)
        lcs_fail_nomem(err);
    return t;
}

char *lcs_tool_execution_json(const lcs_run_result *r, lcs_error *err)
{
    exec_view v;
    if (result_view(r, &v, err) < 0)
        return NULL;
    json_t *j = view_json(&v, r);
    view_free(&v);
    char *s = lcs_tl_json_text(j);
    json_decref(j);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

/* An execution that could not start: upstream's ExecutionResult(-1, stderr). */
static void exec_failed(lcs_tool_result *out, const char *msg)
{
    char *text = fmt("\xE2\x9D\x8C EXIT CODE: -1\nSTDERR:\n%s", msg);
    json_t *o = json_object();
    json_object_set_new(o, "exit_code", json_integer(-1));
    json_object_set_new(o, "stdout", json_string(""));
    json_object_set_new(o, "stderr", json_string(msg));
    json_object_set_new(o, "execution_time_seconds", json_real(0));
    json_object_set_new(o, "truncated", json_false());
    json_object_set_new(o, "timed_out", json_false());
    json_object_set_new(o, "success", json_false());
    json_object_set_new(o, "metadata", json_pack("{s:s}", "verdict", "not_started"));
    set_result(out, true, text, o);
}

/* ---- context */

static int resolve_mode(lcs_tool_context *c, lcs_error *err)
{
    if (c->o.access_mode >= 0) {
        c->mode = (lcs_access_mode)c->o.access_mode;
        return 0;
    }
    const lcs_session_options *so = &c->o.session_options;
    if (so->overrides.access_mode >= 0) {
        c->mode = (lcs_access_mode)so->overrides.access_mode;
        return 0;
    }
    if (c->o.session) {
        c->mode = LCS_ACCESS_RESTRICTED; /* replaced from the session's status below */
        return 0;
    }
    if (so->manifest) {
        c->mode = so->manifest->default_access_mode;
        return 0;
    }
    if (so->image && c->o.registry) {
        lcs_image_info info;
        if (lcs_registry_get(c->o.registry, so->image, &info, err) != 0)
            return -1;
        c->mode = info.manifest->default_access_mode;
        lcs_image_info_clear(&info);
        return 0;
    }
    /* A rootfs without a manifest gets the builtin base image's policy. */
    lcs_manifest *m = lcs_builtin_manifest_get("llmcore-sandbox-base", NULL);
    c->mode = m ? m->default_access_mode : LCS_ACCESS_RESTRICTED;
    lcs_manifest_free(m);
    return 0;
}

static void adopt_status(lcs_tool_context *c)
{
    char *st = lcs_session_status_json(c->session, NULL);
    json_t *j = st ? json_loads(st, 0, NULL) : NULL;
    lcs_free(st);
    if (!j)
        return;
    json_decref(c->status);
    c->status = j;
    json_t *pol = json_object_get(j, "policy");
    lcs_access_mode m;
    if (lcs_access_mode_parse(json_string_value(json_object_get(pol, "access_mode")), &m) == 0)
        c->mode = m;
    const char *cwd = json_string_value(json_object_get(pol, "cwd"));
    if (cwd) {
        free(c->workdir);
        c->workdir = strdup(cwd);
    }
}

lcs_tool_context *lcs_tool_context_new(const lcs_tool_options *o, lcs_error *err)
{
    lcs_tool_options defaults;
    lcs_tool_options_init(&defaults);
    if (!o)
        o = &defaults;
    if (!o->session && !o->session_options.image && !o->session_options.rootfs) {
        lcs_fail(err, LCS_E_INVALID,
                 "agent tools: no sandbox: give a session, or session options with an image or "
                 "a root filesystem");
        return NULL;
    }
    if (o->access_mode > 1) {
        lcs_fail(err, LCS_E_INVALID, "agent tools: unknown access mode %d", o->access_mode);
        return NULL;
    }
    lcs_tool_context *c = calloc(1, sizeof *c);
    if (!c) {
        lcs_fail_nomem(err);
        return NULL;
    }
    c->o = *o;
    pthread_mutex_init(&c->mu, NULL);
    if (!(c->policy = lcs_tool_policy_copy(o->policy, err)) || resolve_mode(c, err) != 0)
        goto fail;
    if (o->track && !(c->tracker = lcs_tracker_open(o->runs_dir, err)))
        goto fail;
    if (o->session) {
        c->session = o->session;
        c->session_id = strdup(lcs_session_id(o->session));
        adopt_status(c);
    }
    return c;
fail:
    lcs_tool_policy_free(c->policy);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return NULL;
}

lcs_access_mode lcs_tool_context_access_mode(lcs_tool_context *c)
{
    return c ? c->mode : LCS_ACCESS_RESTRICTED;
}

lcs_session *lcs_tool_context_session(lcs_tool_context *c)
{
    return c ? c->session : NULL;
}

const char *lcs_tool_context_run_dir(const lcs_tool_context *c)
{
    return c && c->run ? lcs_tracker_run_dir(c->run) : NULL;
}

static int ensure_session(lcs_tool_context *c, lcs_error *err)
{
    if (c->session)
        return 0;
    pthread_mutex_lock(&c->mu);
    bool aborted = c->aborted;
    pthread_mutex_unlock(&c->mu);
    if (aborted)
        return lcs_fail(err, LCS_E_INVALID, "the sandbox was shut down");
    lcs_session *s = NULL;
    if (lcs_session_create(c->o.registry, &c->o.session_options, &s, err) != 0)
        return -1;
    pthread_mutex_lock(&c->mu);
    aborted = c->aborted;
    if (!aborted)
        c->session_id = strdup(lcs_session_id(s));
    pthread_mutex_unlock(&c->mu);
    if (aborted) {
        lcs_session_destroy(s, NULL, NULL);
        return lcs_fail(err, LCS_E_INVALID, "the sandbox was shut down");
    }
    c->session = s;
    c->owns_session = true;
    adopt_status(c);
    if (c->run) {
        json_t *id = json_string(lcs_session_id(s));
        char *t = lcs_tl_json_text(id);
        json_decref(id);
        lcs_tracker_run_annotate(c->run, "session_id", t, NULL);
        free(t);
    }
    return 0;
}

static int ensure_store(lcs_tool_context *c, lcs_error *err)
{
    if (c->state)
        return 0;
    if (c->store_error[0])
        return lcs_fail(err, LCS_E_IO, "%s", c->store_error);
    lcs_error e;
    lcs_error_clear(&e);
    if (c->tracker) {
        lcs_tracker_run_options ro;
        lcs_tracker_run_options_init(&ro);
        ro.run_id = c->o.run_id;
        ro.access_level = lcs_access_mode_name(c->mode);
        ro.task_description = c->o.task_description ? c->o.task_description : "";
        ro.max_copy_bytes = c->o.max_copy_bytes;
        ro.max_copy_files = c->o.max_copy_files;
        if (!(c->run = lcs_tracker_run_create(c->tracker, &ro, &e)))
            goto fail;
        if (c->session_id) {
            json_t *id = json_string(c->session_id);
            char *t = lcs_tl_json_text(id);
            json_decref(id);
            lcs_tracker_run_annotate(c->run, "session_id", t, NULL);
            free(t);
        }
        c->state = lcs_state_open(lcs_tracker_run_state_path(c->run), &e);
    } else
        c->state = lcs_state_open(":memory:", &e);
    if (c->state)
        return 0;
fail:
    snprintf(c->store_error, sizeof c->store_error, "%s", e.message);
    if (err)
        *err = e;
    return -1;
}

/* ---- argument access */

static const char *arg_str(const json_t *a, const char *k, size_t *len)
{
    const json_t *v = json_object_get(a, k);
    if (len)
        *len = 0;
    if (!json_is_string(v))
        return NULL;
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

/* Content in the requested encoding; *buf is set when a decoded copy was made. */
static int arg_content(const json_t *a, const char *tool, const void **data, size_t *len,
                       unsigned char **buf, lcs_tool_result *out)
{
    size_t n;
    const char *s = arg_str(a, "content", &n);
    const char *enc = arg_str(a, "encoding", NULL);
    *buf = NULL;
    if (enc && !strcmp(enc, "base64")) {
        bool bad;
        *buf = lcs_tl_base64_decode(s, n, len, &bad);
        if (!*buf) {
            if (bad)
                fail_result(out, LCS_E_INVALID,
                            "%s: content is not valid base64 (encoding \"base64\" was given)",
                            tool);
            else
                fail_result(out, LCS_E_NOMEM, "%s: out of memory decoding base64", tool);
            return -1;
        }
        *data = *buf;
        return 0;
    }
    *data = s;
    *len = n;
    return 0;
}

/* A path argument: "path" must be non-empty. */
static const char *arg_path(const json_t *a, const char *dflt)
{
    const char *p = arg_str(a, "path", NULL);
    return p && *p ? p : dflt;
}

/* ---- tools: execution */

static char *join_dir(const char *base, const char *rel)
{
    return fmt("%s/%s", base, rel);
}

static void run_exec(lcs_tool_context *c, const json_t *a, const char *shell, const char *const *argv,
                     lcs_tool_result *out)
{
    lcs_exec_options eo;
    lcs_exec_options_init(&eo);
    eo.shell_command = shell;
    eo.argv = argv;
    const json_t *t = json_object_get(a, "timeout");
    if (json_is_number(t))
        eo.timeout_seconds = json_number_value(t);
    const char *wd = arg_str(a, "working_dir", NULL);
    char *wd_abs = NULL;
    if (wd && *wd && wd[0] != '/')
        wd = wd_abs = join_dir(c->workdir ? c->workdir : LCS_SANDBOX_WORKSPACE, wd);
    eo.cwd = wd && *wd ? wd : NULL;
    double timeout = eo.timeout_seconds;
    if (timeout <= 0 && c->status)
        timeout = json_number_value(json_object_get(json_object_get(c->status, "policy"),
                                                    "timeout_seconds"));
    lcs_run_result r;
    lcs_error e;
    lcs_error_clear(&e);
    memset(&r, 0, sizeof r);
    if (lcs_session_exec(c->session, &eo, &r, &e) != 0) {
        exec_failed(out, e.message);
        free(wd_abs);
        return;
    }
    free(wd_abs);
    exec_view v;
    if (make_view(&r, timeout, &v) != 0) {
        lcs_run_result_clear(&r);
        fail_result(out, LCS_E_NOMEM, "out of memory formatting the command's output");
        return;
    }
    set_result(out, !v.success, view_text(&v), view_json(&v, &r));
    view_free(&v);
    lcs_run_result_clear(&r);
}

static void tool_execute_shell(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    run_exec(c, a, arg_str(a, "command", NULL), NULL, out);
}

static void tool_execute_python(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    size_t n = 0;
    const char *code = arg_str(a, "code", &n);
    /* A unique file per call (upstream used one fixed name per sandbox, so
     * concurrent calls overwrote each other's code). */
    char hex[33], path[64];
    lcs_error e;
    lcs_error_clear(&e);
    if (lcs_random_hex(hex, 16, &e) != 0) {
        exec_failed(out, e.message);
        return;
    }
    snprintf(path, sizeof path, "/tmp/llmcore_code_%s.py", hex);
    if (lcs_session_write_data(c->session, path, code, n, false, &e) != 0) {
        char *msg = fmt("Failed to write Python code to temp file %s: %s", path, e.message);
        exec_failed(out, msg ? msg : e.message);
        free(msg);
        return;
    }
    const char *argv[] = {"python3", path, NULL};
    run_exec(c, a, NULL, argv, out);
    lcs_session_remove(c->session, path, false, NULL);
    /* python3 missing from the image: say so plainly. */
    json_t *j = out->json ? json_loads(out->json, JSON_ALLOW_NUL, NULL) : NULL;
    if (j && json_integer_value(json_object_get(j, "exit_code")) == 127) {
        char *t = fmt("%s\n(python3 was not found in this sandbox's image: use an image with "
                      "Python, e.g. llmcore-sandbox-python, or run code with execute_shell)",
                      out->text);
        if (t) {
            free(out->text);
            out->text = t;
        }
    }
    json_decref(j);
}

/* ---- tools: files */

/* Write, making missing parent directories (upstream's mkdir -p). */
static int write_with_parents(lcs_session *s, const char *path, const void *data, size_t len,
                              bool append, lcs_error *err)
{
    lcs_error e;
    lcs_error_clear(&e);
    if (lcs_session_write_data(s, path, data, len, append, &e) == 0)
        return 0;
    const char *slash = strrchr(path, '/');
    if (e.code != LCS_E_NOT_FOUND || !slash || slash == path) {
        if (err)
            *err = e;
        return -1;
    }
    char *parent = strndup(path, (size_t)(slash - path));
    if (!parent)
        return lcs_fail_nomem(err);
    int rc = lcs_session_mkdir(s, parent, true, err);
    free(parent);
    if (rc != 0)
        return -1;
    return lcs_session_write_data(s, path, data, len, append, err);
}

static void tool_save_file(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    const char *desc = arg_str(a, "description", NULL);
    const void *data;
    size_t len;
    unsigned char *buf;
    if (!path) {
        fail_result(out, LCS_E_INVALID, "save_file: the path is empty");
        return;
    }
    if (arg_content(a, "save_file", &data, &len, &buf, out) != 0)
        return;
    lcs_error e;
    lcs_error_clear(&e);
    if (write_with_parents(c->session, path, data, len, false, &e) != 0) {
        free(buf);
        fail_result(out, e.code, "Failed to save file: %s (%s)", path, e.message);
        return;
    }
    free(buf);
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "size_bytes", json_integer((json_int_t)len));
    char *warn = NULL;
    if (ensure_store(c, &e) != 0 ||
        lcs_state_record_file(c->state, path, len, desc ? desc : "", &e) != 0) {
        warn = fmt("\n(warning: the file was saved but could not be recorded: %s)", e.message);
        json_object_set_new(j, "warning", json_string(e.message));
    }
    set_result(out, false, fmt("Successfully saved file: %s%s", path, warn ? warn : ""), j);
    free(warn);
}

/* The read cap: max_read_bytes, or (0) the most any read into memory
 * takes, 1 GiB. */
#define READ_CAP_NONE ((size_t)1 << 30)
static size_t read_cap(const lcs_tool_context *c)
{
    uint64_t m = c->o.max_read_bytes;
    return m && m < READ_CAP_NONE ? (size_t)m : READ_CAP_NONE;
}

/* Read a whole file for rewriting (replace_in_file): a file larger than
 * the cap is refused, never cut. Memory is bounded by the cap whatever the
 * sandbox does to the file meanwhile (it is read up to the cap only). */
static int read_whole(lcs_tool_context *c, const char *path, char **data, size_t *len,
                      lcs_error *err)
{
    void *d = NULL;
    uint64_t size = 0;
    size_t cap = read_cap(c);
    if (lcs_session_read_prefix(c->session, path, cap, &d, len, &size, err) != 0)
        return -1;
    if (size > *len) {
        lcs_free(d);
        return lcs_fail(err, LCS_E_DENIED,
                        "%s is %llu bytes, more than the configured limit of %zu bytes "
                        "(max_read_bytes); edit it in parts with execute_shell",
                        path, (unsigned long long)size, cap);
    }
    *data = d;
    return 0;
}

static void tool_load_file(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    const char *enc = arg_str(a, "encoding", NULL);
    bool b64 = enc && !strcmp(enc, "base64");
    if (!path) {
        fail_result(out, LCS_E_INVALID, "load_file: the path is empty");
        return;
    }
    void *dv = NULL;
    size_t len = 0;
    uint64_t size = 0;
    size_t cap = read_cap(c);
    lcs_error e;
    lcs_error_clear(&e);
    /* At most `cap` bytes are read, whatever size the sandbox gave the file
     * (a sparse file of any size costs the host `cap` bytes). */
    if (lcs_session_read_prefix(c->session, path, cap, &dv, &len, &size, &e) != 0) {
        fail_result(out, e.code, "File not found or could not be read: %s (%s)", path, e.message);
        return;
    }
    char *data = dv;
    bool truncated = size > len;
    /* A cut inside a UTF-8 sequence: end at the last whole character. */
    if (truncated && !b64) {
        size_t k = 0;
        while (k < 3 && k < len && ((unsigned char)data[len - 1 - k] & 0xC0) == 0x80)
            k++;
        if (k < len && ((unsigned char)data[len - 1 - k] & 0x80) &&
            lcs_utf8_seq((const unsigned char *)data + len - 1 - k, k + 1) == 0)
            len -= k + 1;
    }
    char *text;
    if (b64) {
        text = lcs_tl_base64_encode(data, len, NULL);
    } else if (!lcs_tl_utf8_valid(data, len)) {
        lcs_free(data);
        fail_result(out, LCS_E_INVALID,
                    "File is not UTF-8 text: %s (%llu bytes); call load_file with encoding "
                    "\"base64\" to read it",
                    path, (unsigned long long)size);
        return;
    } else {
        text = malloc(len + 1);
        if (text) {
            memcpy(text, data, len);
            text[len] = '\0';
        }
    }
    lcs_free(data);
    char *note = truncated ? fmt("\n\n(truncated at %zu of %llu bytes: load_file returns at most "
                                 "max_read_bytes = %zu bytes; read the rest in parts with "
                                 "execute_shell, e.g. tail -c +%zu %s | head -c %zu)",
                                 len, (unsigned long long)size, cap, len + 1, path, cap)
                           : NULL;
    if (!text || (truncated && !note)) {
        free(text);
        free(note);
        fail_result(out, LCS_E_NOMEM, "out of memory reading %s", path);
        return;
    }
    size_t tlen = b64 ? strlen(text) : len;
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "encoding", json_string(b64 ? "base64" : "utf-8"));
    json_object_set_new(j, "size_bytes", json_integer((json_int_t)size));
    json_object_set_new(j, "content", lcs_tl_json_stringn(text, tlen));
    json_object_set_new(j, "truncated", json_boolean(truncated));
    if (truncated) {
        json_object_set_new(j, "returned_bytes", json_integer((json_int_t)len));
        json_object_set_new(j, "max_read_bytes", json_integer((json_int_t)cap));
        size_t nl = strlen(note);
        char *t2 = realloc(text, tlen + nl + 1);
        if (!t2) {
            free(text);
            free(note);
            json_decref(j);
            fail_result(out, LCS_E_NOMEM, "out of memory reading %s", path);
            return;
        }
        text = t2;
        memcpy(text + tlen, note, nl + 1);
        tlen += nl;
        free(note);
    }
    /* The text result may contain NUL bytes; out->text is NUL-terminated
     * and the JSON result carries the exact content. */
    set_result(out, false, text, j);
    out->text_len = tlen;
}

static size_t count_occurrences(const char *h, size_t hn, const char *n, size_t nn)
{
    size_t count = 0;
    for (const char *p = h; nn && (size_t)(h + hn - p) >= nn;) {
        const char *q = memmem(p, (size_t)(h + hn - p), n, nn);
        if (!q)
            break;
        count++;
        p = q + nn;
    }
    return count;
}

static void tool_replace_in_file(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    size_t on = 0, nn = 0;
    const char *old = arg_str(a, "old_value", &on);
    const char *nw = arg_str(a, "new_value", &nn);
    if (!path) {
        fail_result(out, LCS_E_INVALID, "replace_in_file: the path is empty");
        return;
    }
    char *data = NULL;
    size_t len;
    lcs_error e;
    lcs_error_clear(&e);
    if (read_whole(c, path, &data, &len, &e) != 0) {
        if (e.code == LCS_E_NOT_FOUND)
            fail_result(out, e.code, "File not found: %s", path);
        else
            fail_result(out, e.code, "Failed to read file: %s (%s)", path, e.message);
        return;
    }
    size_t count = count_occurrences(data, len, old, on);
    if (!count) {
        lcs_free(data);
        fail_result(out, LCS_E_NOT_FOUND, "'%s' not found in file %s", old, path);
        return;
    }
    /* The whole file is rewritten: nothing past any size is dropped. */
    size_t newlen = len - count * on + count * nn;
    char *res = malloc(newlen + 1);
    if (!res) {
        lcs_free(data);
        fail_result(out, LCS_E_NOMEM, "out of memory replacing in %s", path);
        return;
    }
    char *w = res;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *q = (size_t)(end - p) >= on ? memmem(p, (size_t)(end - p), old, on) : NULL;
        size_t keep = q ? (size_t)(q - p) : (size_t)(end - p);
        memcpy(w, p, keep);
        w += keep;
        if (!q)
            break;
        memcpy(w, nw, nn);
        w += nn;
        p = q + on;
    }
    lcs_free(data);
    int rc = lcs_session_write_data(c->session, path, res, newlen, false, &e);
    free(res);
    if (rc != 0) {
        fail_result(out, e.code, "Failed to write file: %s (%s)", path, e.message);
        return;
    }
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "replacements", json_integer((json_int_t)count));
    json_object_set_new(j, "size_bytes", json_integer((json_int_t)newlen));
    set_result(out, false,
               fmt("Successfully replaced '%s' with '%s' in %s (%zu occurrence%s)", old, nw, path,
                   count, count == 1 ? "" : "s"),
               j);
}

static void tool_append_to_file(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    const void *data;
    size_t len;
    unsigned char *buf;
    if (!path) {
        fail_result(out, LCS_E_INVALID, "append_to_file: the path is empty");
        return;
    }
    if (arg_content(a, "append_to_file", &data, &len, &buf, out) != 0)
        return;
    lcs_error e;
    lcs_error_clear(&e);
    int rc = write_with_parents(c->session, path, data, len, true, &e);
    free(buf);
    if (rc != 0) {
        fail_result(out, e.code, "Failed to append to file: %s (%s)", path, e.message);
        return;
    }
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "appended_bytes", json_integer((json_int_t)len));
    set_result(out, false, fmt("Successfully appended to file: %s", path), j);
}

static json_t *file_json(const lcs_file_info *f)
{
    char ts[32];
    lcs_tl_iso_time((double)f->mtime, ts);
    json_t *o = json_object();
    /* Names are the sandbox's bytes: JSON gets them as valid UTF-8. */
    json_object_set_new(o, "path", lcs_json_bytes(f->path, f->path ? strlen(f->path) : 0));
    json_object_set_new(o, "name", lcs_json_bytes(f->name, f->name ? strlen(f->name) : 0));
    json_object_set_new(o, "is_directory", json_boolean(f->is_directory));
    json_object_set_new(o, "is_symlink", json_boolean(f->is_symlink));
    json_object_set_new(o, "size_bytes", json_integer((json_int_t)f->size));
    json_object_set_new(o, "modified_at", json_string(ts));
    json_object_set_new(o, "permissions", json_sprintf("%04o", (unsigned)(f->mode & 07777)));
    return o;
}

static void tool_list_files(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, ".");
    bool recursive = json_is_true(json_object_get(a, "recursive"));
    lcs_file_list l;
    memset(&l, 0, sizeof l);
    lcs_error e;
    lcs_error_clear(&e);
    if (lcs_session_list_files(c->session, path, recursive, &l, &e) != 0) {
        if (e.code == LCS_E_NOT_FOUND)
            fail_result(out, e.code, "Directory not found: %s", path);
        else
            fail_result(out, e.code, "Failed to list %s (%s)", path, e.message);
        return;
    }
    /* Recursive listings name entries relative to the listed directory. */
    lcs_file_info top;
    memset(&top, 0, sizeof top);
    size_t prefix = 0;
    if (recursive && lcs_session_stat(c->session, path, &top, NULL) == 0 && top.path)
        prefix = strlen(top.path);
    lcs_buf b = {0};
    json_t *entries = json_array();
    for (size_t i = 0; i < l.count; i++) {
        const lcs_file_info *f = &l.items[i];
        const char *shown = f->name;
        if (recursive && f->path) {
            shown = f->path;
            if (prefix && !strncmp(f->path, top.path, prefix) && f->path[prefix] == '/')
                shown = f->path + prefix + 1;
            else if (prefix == 1 && f->path[0] == '/')
                shown = f->path + 1;
        }
        char ts[32];
        lcs_tl_iso_time((double)f->mtime, ts);
        /* One line per entry, as the model reads it: a name made by the
         * sandbox cannot forge a line or reorder text (lcs_text_escape). */
        char *esc = lcs_text_escape(shown, strlen(shown));
        if (!esc)
            b.oom = true;
        else if (f->is_directory)
            lcs_buf_appendf(&b, "%s/ (directory, modified %s)\n", esc, ts);
        else if (f->is_symlink)
            lcs_buf_appendf(&b, "%s (symlink, modified %s)\n", esc, ts);
        else
            lcs_buf_appendf(&b, "%s (%llu bytes, modified %s)\n", esc,
                            (unsigned long long)f->size, ts);
        free(esc);
        json_array_append_new(entries, file_json(f));
    }
    lcs_file_info_clear(&top);
    lcs_file_list_clear(&l);
    if (b.oom) {
        lcs_buf_free(&b);
        json_decref(entries);
        fail_result(out, LCS_E_NOMEM, "out of memory listing %s", path);
        return;
    }
    if (b.len)
        b.data[--b.len] = '\0'; /* no trailing newline */
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "recursive", json_boolean(recursive));
    json_object_set_new(j, "entries", entries);
    set_result(out, false, b.len ? b.data : strdup("(empty directory)"), j);
    if (!b.len)
        lcs_buf_free(&b);
}

static void tool_file_exists(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    if (!path) {
        fail_result(out, LCS_E_INVALID, "file_exists: the path is empty");
        return;
    }
    lcs_file_info fi;
    memset(&fi, 0, sizeof fi);
    lcs_error e;
    lcs_error_clear(&e);
    int rc = lcs_session_stat(c->session, path, &fi, &e);
    if (rc != 0 && e.code != LCS_E_NOT_FOUND) {
        fail_result(out, e.code, "Failed to check %s (%s)", path, e.message);
        return;
    }
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "exists", json_boolean(rc == 0));
    if (rc == 0) {
        json_object_set_new(j, "is_directory", json_boolean(fi.is_directory));
        json_object_set_new(j, "is_symlink", json_boolean(fi.is_symlink));
    }
    lcs_file_info_clear(&fi);
    set_result(out, false, strdup(rc == 0 ? "true" : "false"), j);
}

static void tool_delete_file(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    if (!path) {
        fail_result(out, LCS_E_INVALID, "delete_file: the path is empty");
        return;
    }
    lcs_error e;
    lcs_error_clear(&e);
    if (lcs_session_remove(c->session, path, false, &e) != 0) {
        if (e.code == LCS_E_NOT_FOUND)
            fail_result(out, e.code, "File not found: %s (nothing was deleted)", path);
        else
            fail_result(out, e.code, "Failed to delete file: %s (%s)", path, e.message);
        return;
    }
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    set_result(out, false, fmt("Successfully deleted: %s", path), j);
}

static void tool_create_directory(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    const char *path = arg_path(a, NULL);
    if (!path) {
        fail_result(out, LCS_E_INVALID, "create_directory: the path is empty");
        return;
    }
    lcs_error e;
    lcs_error_clear(&e);
    if (lcs_session_mkdir(c->session, path, true, &e) != 0) {
        fail_result(out, e.code, "Failed to create directory: %s (%s)", path, e.message);
        return;
    }
    json_t *j = ok_json();
    json_object_set_new(j, "path", json_string(path));
    set_result(out, false, fmt("Successfully created directory: %s", path), j);
}

/* ---- tools: state (host side) */

static bool state_ready(lcs_tool_context *c, lcs_tool_result *out)
{
    lcs_error e;
    lcs_error_clear(&e);
    if (ensure_store(c, &e) == 0)
        return true;
    fail_result(out, e.code, "State management not available (%s)", e.message);
    return false;
}

static void tool_get_state(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    if (!state_ready(c, out))
        return;
    const char *key = arg_str(a, "key", NULL);
    lcs_state_type t;
    char *v = NULL;
    size_t n = 0;
    lcs_error e;
    lcs_error_clear(&e);
    int rc = lcs_state_get(c->state, key, &t, &v, &n, &e);
    if (rc < 0) {
        fail_result(out, e.code, "Failed to read state '%s' (%s)", key, e.message);
        return;
    }
    json_t *j = ok_json();
    json_object_set_new(j, "key", json_string(key));
    json_object_set_new(j, "found", json_boolean(rc == 1));
    if (rc == 0) {
        set_result(out, false, strdup("(not set)"), j);
        return;
    }
    json_object_set_new(j, "type", json_string(lcs_state_type_name(t)));
    json_object_set_new(j, "value", lcs_state_value_to_json(t, v, n));
    /* Text: the value as stored (strings verbatim, JSON as written). */
    set_result(out, false, v, j);
    out->text_len = n;
}

static void tool_set_state(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    if (!state_ready(c, out))
        return;
    const char *key = arg_str(a, "key", NULL);
    const char *vt = arg_str(a, "value_type", NULL);
    const json_t *val = json_object_get(a, "value");
    lcs_error e;
    lcs_error_clear(&e);
    int rc;
    char *owned = NULL;
    const char *text;
    size_t n;
    bool typed_json = !json_is_string(val);
    if (typed_json) {
        /* A client sent a typed JSON value: keep its type. */
        owned = lcs_tl_json_text(val);
        if (!owned) {
            fail_result(out, LCS_E_NOMEM, "out of memory storing state '%s'", key);
            return;
        }
        text = owned;
        n = strlen(owned);
    } else {
        text = json_string_value(val);
        n = json_string_length(val);
    }
    if (!vt || !strcmp(vt, "auto"))
        rc = lcs_state_set_auto(c->state, key, text, n, &e);
    else {
        lcs_state_type t = LCS_STATE_STRING;
        lcs_state_type_parse(vt, &t);
        rc = lcs_state_set(c->state, key, t, text, n, &e);
    }
    free(owned);
    if (rc != 0) {
        fail_result(out, e.code, "Failed to update state '%s' (%s)", key, e.message);
        return;
    }
    lcs_state_type t = LCS_STATE_STRING;
    lcs_state_get(c->state, key, &t, NULL, NULL, NULL);
    json_t *j = ok_json();
    json_object_set_new(j, "key", json_string(key));
    json_object_set_new(j, "type", json_string(lcs_state_type_name(t)));
    set_result(out, false, fmt("State '%s' updated", key), j);
}

static void tool_list_state(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    (void)a;
    if (!state_ready(c, out))
        return;
    lcs_error e;
    lcs_error_clear(&e);
    char **keys = lcs_state_keys(c->state, &e);
    if (!keys) {
        fail_result(out, e.code, "Failed to list state (%s)", e.message);
        return;
    }
    lcs_buf b = {0};
    json_t *arr = json_array();
    for (char **k = keys; *k; k++) {
        lcs_buf_appendf(&b, "%s%s", k == keys ? "" : "\n", *k);
        json_array_append_new(arr, json_string(*k));
    }
    lcs_strv_free(keys);
    json_t *j = ok_json();
    json_object_set_new(j, "keys", arr);
    if (b.oom) {
        lcs_buf_free(&b);
        json_decref(j);
        fail_result(out, LCS_E_NOMEM, "out of memory listing state");
        return;
    }
    set_result(out, false, b.len ? b.data : strdup("(no state stored)"), j);
    if (!b.len)
        lcs_buf_free(&b);
}

static void tool_get_recorded_files(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    (void)a;
    if (!state_ready(c, out))
        return;
    lcs_error e;
    lcs_error_clear(&e);
    json_t *files = lcs_state_files_value(c->state, &e);
    if (!files) {
        fail_result(out, e.code, "Failed to list recorded files (%s)", e.message);
        return;
    }
    lcs_buf b = {0};
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *d = json_string_value(json_object_get(f, "description"));
        const char *p = json_string_value(json_object_get(f, "path"));
        char *ep = lcs_text_escape(p ? p : "", p ? strlen(p) : 0);
        char *ed = lcs_text_escape(d ? d : "", d ? strlen(d) : 0);
        if (!ep || !ed)
            b.oom = true;
        else
            lcs_buf_appendf(&b, "%s%s (%lld bytes)%s%s", i ? "\n" : "", ep,
                            (long long)json_integer_value(json_object_get(f, "size_bytes")),
                            *ed ? " - " : "", ed);
        free(ep);
        free(ed);
    }
    json_t *j = ok_json();
    json_object_set_new(j, "files", files);
    if (b.oom) {
        lcs_buf_free(&b);
        json_decref(j);
        fail_result(out, LCS_E_NOMEM, "out of memory listing recorded files");
        return;
    }
    set_result(out, false, b.len ? b.data : strdup("(no files recorded)"), j);
    if (!b.len)
        lcs_buf_free(&b);
}

/* ---- get_sandbox_info: what is enforced, read from the session */

static void info_line(lcs_buf *b, const char *label, const char *value)
{
    if (value && *value)
        lcs_buf_appendf(b, "%s: %s\n", label, value);
}

static void append_policy_list(lcs_buf *b, const lcs_tool_policy *p, lcs_access_mode m)
{
    char *pj = lcs_tool_policy_to_json(p, NULL);
    json_t *j = pj ? json_loads(pj, 0, NULL) : NULL;
    lcs_free(pj);
    json_t *md = json_object_get(j, lcs_access_mode_name(m));
    lcs_buf_append(b, "Tool Restrictions: allowed ");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(md, "allowed"), i, v)
        lcs_buf_appendf(b, "%s%s", i ? ", " : "", json_string_value(v));
    lcs_buf_append(b, "; denied ");
    size_t k = 0;
    json_array_foreach(json_object_get(j, "denied"), i, v)
        lcs_buf_appendf(b, "%s%s", k++ ? ", " : "", json_string_value(v));
    json_array_foreach(json_object_get(md, "denied"), i, v)
        lcs_buf_appendf(b, "%s%s", k++ ? ", " : "", json_string_value(v));
    if (!k)
        lcs_buf_append(b, "none");
    lcs_buf_append(b, " (the deny list applies in every mode)\n");
    json_decref(j);
}

/* A JSON string's text, or `dflt` when it is absent or not a string. */
static const char *or_text(const json_t *v, const char *dflt)
{
    const char *t = json_string_value(v);
    return t ? t : dflt;
}

static void tool_get_sandbox_info(lcs_tool_context *c, const json_t *a, lcs_tool_result *out)
{
    (void)a;
    lcs_error e;
    lcs_error_clear(&e);
    char *st = lcs_session_status_json(c->session, &e);
    json_t *s = st ? json_loads(st, 0, NULL) : NULL;
    lcs_free(st);
    if (!s) {
        fail_result(out, e.code ? e.code : LCS_E_INTERNAL, "Failed to read the sandbox status (%s)",
                    e.code ? e.message : "unreadable status JSON");
        return;
    }
    json_t *pol = json_object_get(s, "policy"), *enf = json_object_get(s, "enforced");
    json_t *lim = json_object_get(enf, "limits"), *usr = json_object_get(enf, "user");
    lcs_buf b = {0};
    /* The backend that runs the sandbox, as its monitor reported it: a
     * docker session names the engine and the API level it speaks. */
    const char *backend = json_string_value(json_object_get(enf, "backend"));
    bool docker = backend && !strcmp(backend, "docker");
    if (docker)
        lcs_buf_appendf(&b, "Provider: docker (%s, Docker Engine API %s; llmcore-sandbox %s)\n",
                        or_text(json_object_get(enf, "engine"), "engine"),
                        or_text(json_object_get(enf, "api"), "?"), lcs_version());
    else
        lcs_buf_appendf(&b, "Provider: native (llmcore-sandbox %s)\n", lcs_version());
    info_line(&b, "Sandbox ID", json_string_value(json_object_get(s, "id")));
    info_line(&b, "Status", json_string_value(json_object_get(s, "state")));
    info_line(&b, "Image", json_string_value(json_object_get(s, "image")));
    info_line(&b, "Access Level", json_string_value(json_object_get(pol, "access_mode")));
    const char *net = json_string_value(json_object_get(enf, "network"));
    if (!net) {
        const char *pn = json_string_value(json_object_get(pol, "network"));
        net = pn && !strcmp(pn, "full") ? "full (outbound)" : pn ? "none (loopback only)" : NULL;
        if (docker && pn && !strcmp(pn, "full"))
            net = "full (the engine's network; it does not keep this host unreachable)";
    }
    info_line(&b, "Network", net);
    if (json_object_get(enf, "network_blocked"))
        info_line(&b, "Unreachable",
                  "this host (every address), loopback, link-local, private and multicast "
                  "ranges; DNS through 169.254.1.1");
    info_line(&b, "Filesystem", json_string_value(json_object_get(enf, "rootfs")));
    /* Limits: the enforced values (cgroups that exist on this host), else
     * the policy's. */
    lcs_buf_append(&b, "Limits:");
    json_t *mem = json_object_get(lim, "memory_bytes");
    if (mem)
        lcs_buf_appendf(&b, " memory %lld MiB,", (long long)(json_integer_value(mem) >> 20));
    else if (json_object_get(pol, "memory_mb"))
        lcs_buf_appendf(&b, " memory %lld MiB (not enforced by a cgroup),",
                        (long long)json_integer_value(json_object_get(pol, "memory_mb")));
    json_t *cpus = json_object_get(lim, "cpus");
    json_t *nano = json_object_get(lim, "nano_cpus");
    if (cpus)
        lcs_buf_appendf(&b, " cpus %g,", json_number_value(cpus));
    else if (json_integer_value(nano) > 0)
        lcs_buf_appendf(&b, " cpus %g,", (double)json_integer_value(nano) / 1e9);
    json_t *pids = json_object_get(lim, "pids");
    if (pids)
        lcs_buf_appendf(&b, " processes %lld,", (long long)json_integer_value(pids));
    json_t *to = json_object_get(lim, "timeout_s");
    if (!to)
        to = json_object_get(pol, "timeout_seconds");
    if (to)
        lcs_buf_appendf(&b, " timeout %g s per command,", json_number_value(to));
    json_t *ob = json_object_get(lim, "output_limit_bytes");
    if (!ob)
        ob = json_object_get(pol, "output_bytes");
    if (ob)
        lcs_buf_appendf(&b, " output %lld bytes per stream,", (long long)json_integer_value(ob));
    if (b.len && b.data[b.len - 1] == ',')
        b.data[--b.len] = '\0';
    lcs_buf_append(&b, "\n");
    const char *user = json_string_value(json_object_get(pol, "user"));
    /* native reports {"uid":..}; docker the container's "UID:GID" */
    long long uidv = -1;
    if (json_is_object(usr) && json_is_integer(json_object_get(usr, "uid")))
        uidv = json_integer_value(json_object_get(usr, "uid"));
    else if (json_is_string(usr))
        uidv = strtoll(json_string_value(usr), NULL, 10);
    else if (json_is_integer(json_object_get(pol, "uid")))
        uidv = json_integer_value(json_object_get(pol, "uid"));
    if (user || uidv >= 0)
        lcs_buf_appendf(&b, "User: %s (uid %lld)\n", user ? user : "?", uidv);
    info_line(&b, "Working Directory", json_string_value(json_object_get(pol, "cwd")));
    json_t *ne = json_object_get(enf, "not_enforced");
    if (json_array_size(ne)) {
        lcs_buf_append(&b, "Not enforced by this backend:");
        size_t k;
        json_t *v;
        json_array_foreach(ne, k, v)
            lcs_buf_appendf(&b, "%s %s", k ? ";" : "", or_text(v, "?"));
        lcs_buf_append(&b, "\n");
    }
    json_t *sc = json_object_get(enf, "seccomp");
    if (sc)
        lcs_buf_appendf(&b, "Seccomp: %s\n",
                        json_is_true(json_object_get(sc, "enabled")) ? "enabled" : "disabled");
    info_line(&b, "Capabilities", json_string_value(json_object_get(enf, "capabilities")));
    if (json_object_get(enf, "no_new_privs"))
        lcs_buf_appendf(&b, "No New Privileges: %s\n",
                        json_is_true(json_object_get(enf, "no_new_privs")) ? "yes" : "no");
    json_t *deg = json_object_get(enf, "degraded");
    if (json_array_size(deg)) {
        char *d = lcs_tl_json_text(deg);
        lcs_buf_appendf(&b, "Degraded (NOT enforced on this host): %s\n", d ? d : "?");
        free(d);
    }
    if (!enf || json_is_null(enf))
        lcs_buf_append(&b, "Enforced: (the runtime reported nothing; see the policy)\n");
    lcs_access_mode m = c->mode;
    append_policy_list(&b, c->policy, m);
    if (b.oom) {
        lcs_buf_free(&b);
        json_decref(s);
        fail_result(out, LCS_E_NOMEM, "out of memory describing the sandbox");
        return;
    }
    if (b.len)
        b.data[--b.len] = '\0';
    json_t *j = ok_json();
    json_object_set_new(j, "provider", json_string(docker ? "docker" : "native"));
    json_object_set_new(j, "sandbox", s);
    char *pj = lcs_tool_policy_to_json(c->policy, NULL);
    json_object_set_new(j, "tool_policy", pj ? json_loads(pj, 0, NULL) : json_null());
    lcs_free(pj);
    set_result(out, false, b.data, j);
}

/* ---- dispatch */

typedef void (*tool_fn)(lcs_tool_context *, const json_t *, lcs_tool_result *);

static const struct {
    const char *name;
    tool_fn fn;
} impls[LCS_TOOL_COUNT] = {
    {"execute_shell", tool_execute_shell},
    {"execute_python", tool_execute_python},
    {"save_file", tool_save_file},
    {"load_file", tool_load_file},
    {"replace_in_file", tool_replace_in_file},
    {"append_to_file", tool_append_to_file},
    {"list_files", tool_list_files},
    {"file_exists", tool_file_exists},
    {"delete_file", tool_delete_file},
    {"create_directory", tool_create_directory},
    {"get_state", tool_get_state},
    {"set_state", tool_set_state},
    {"list_state", tool_list_state},
    {"get_sandbox_info", tool_get_sandbox_info},
    {"get_recorded_files", tool_get_recorded_files},
};

static void log_call(lcs_tool_context *c, const char *name, const char *args, double secs,
                     const lcs_tool_result *out)
{
    if (!c->tracker || ensure_store(c, NULL) != 0 || !c->run)
        return;
    int exit_code = out->is_error ? 1 : 0;
    json_t *j = out->json ? json_loads(out->json, JSON_ALLOW_NUL, NULL) : NULL;
    json_t *ec = json_object_get(j, "exit_code");
    if (json_is_integer(ec))
        exit_code = (int)json_integer_value(ec);
    json_decref(j);
    lcs_tracker_log_execution(c->run, name, args, exit_code, secs, !out->is_error, out->text,
                              NULL);
}

int lcs_tool_call(lcs_tool_context *c, const char *name, const char *args_json,
                  lcs_tool_result *out, lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "agent tools: no result given");
    memset(out, 0, sizeof *out);
    if (!c)
        return lcs_fail(err, LCS_E_INVALID, "agent tools: no tool context given");
    const lcs_tool_def *d = lcs_tool_def_find(name);
    if (!d) {
        lcs_buf names = {0};
        for (size_t i = 0; i < LCS_TOOL_COUNT; i++)
            lcs_buf_appendf(&names, "%s%s", i ? ", " : "", lcs_tool_name(i));
        lcs_fail(err, LCS_E_NOT_FOUND, "unknown tool '%s' (tools: %s)", name ? name : "(null)",
                 names.data ? names.data : "");
        lcs_buf_free(&names);
        return -1;
    }
    double t0 = lcs_tl_now();
    json_error_t je;
    json_t *args = args_json ? json_loads(args_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je) : json_object();
    char msg[512];
    lcs_error e;
    lcs_error_clear(&e);
    if (!args)
        fail_result(out, LCS_E_PARSE, "%s: the arguments are not valid JSON (%s)", d->name,
                    je.text);
    else if (lcs_tool_policy_check(c->policy, c->mode, d->name, &e) != 0)
        fail_result(out, LCS_E_DENIED, "%s", e.message);
    else if (lcs_tool_validate_args(d, args, msg, sizeof msg) != 0)
        fail_result(out, LCS_E_INVALID, "%s", msg);
    else if (d->needs_session && ensure_session(c, &e) != 0)
        fail_result(out, e.code,
                    "No active sandbox. Code execution is not available. (The sandbox could not "
                    "be created: %s)",
                    e.message);
    else {
        /* The session's real access mode may differ from the one assumed
         * before it existed: check again now that it is known. */
        if (d->needs_session && lcs_tool_policy_check(c->policy, c->mode, d->name, &e) != 0)
            fail_result(out, LCS_E_DENIED, "%s", e.message);
        else
            for (size_t i = 0; i < LCS_TOOL_COUNT; i++)
                if (!strcmp(impls[i].name, d->name))
                    impls[i].fn(c, args, out);
    }
    if (!out->text) {
        lcs_tool_result_clear(out);
        json_decref(args);
        return lcs_fail_nomem(err);
    }
    char *args_text = args ? lcs_tl_json_text(args) : NULL;
    log_call(c, d->name, args_text ? args_text : (args_json ? args_json : ""), lcs_tl_now() - t0, out);
    free(args_text);
    json_decref(args);
    return 0;
}

char *lcs_tool_call_json(lcs_tool_context *c, const char *name, const char *args_json,
                         lcs_error *err)
{
    lcs_tool_result r;
    if (lcs_tool_call(c, name, args_json, &r, err) != 0)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "text", lcs_tl_json_stringn(r.text, r.text_len));
    json_object_set_new(o, "is_error", json_boolean(r.is_error));
    json_object_set_new(o, "result", r.json ? json_loads(r.json, JSON_ALLOW_NUL, NULL) : json_null());
    lcs_tool_result_clear(&r);
    char *s = lcs_tl_json_text(o);
    json_decref(o);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

/* ---- shutdown */

void lcs_tool_context_abort(lcs_tool_context *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    bool was = c->aborted;
    c->aborted = true;
    char *id = c->session_id && c->owns_session && !was ? strdup(c->session_id) : NULL;
    pthread_mutex_unlock(&c->mu);
    if (!id)
        return;
    /* A second handle: the session object of the other thread is not ours
     * to touch, but the session itself can be destroyed through any handle. */
    lcs_session *s = lcs_session_open(id, NULL);
    if (s)
        lcs_session_destroy(s, NULL, NULL);
    free(id);
}

/* At the end of a run, copy the files the agent saved into outputs/. */
static void copy_recorded(lcs_tool_context *c)
{
    json_t *files = lcs_state_files_value(c->state, NULL);
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *p = json_string_value(json_object_get(f, "path"));
        lcs_error e;
        lcs_error_clear(&e);
        if (lcs_tracker_copy_output(c->run, c->session, p, NULL,
                                    json_string_value(json_object_get(f, "description")), NULL,
                                    &e) != 0) {
            char *m = fmt("could not copy %s out of the sandbox: %s", p, e.message);
            lcs_tracker_log_event(c->run, "WARNING", m ? m : e.message, NULL, NULL);
            free(m);
        }
    }
    json_decref(files);
}

int lcs_tool_context_close(lcs_tool_context *c, lcs_error *err)
{
    if (!c)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    bool aborted = c->aborted;
    pthread_mutex_unlock(&c->mu);
    if (c->run) {
        if (c->session && c->state && c->o.copy_recorded_files && !aborted)
            copy_recorded(c);
        char *fs = c->state ? lcs_state_export_json(c->state, NULL) : NULL;
        if (fs)
            lcs_tracker_save_final_state(c->run, fs, NULL);
        lcs_free(fs);
    }
    lcs_error e;
    lcs_error_clear(&e);
    if (c->session && c->owns_session) {
        if (lcs_session_destroy(c->session, NULL, &e) != 0 && !aborted) {
            rc = -1;
            if (err)
                *err = e;
        }
    }
    if (c->run)
        lcs_tracker_run_finish(c->run, !aborted,
                               aborted ? "the sandbox was shut down by a signal" : "", NULL);
    lcs_state_close(c->state);
    lcs_tracker_close(c->tracker);
    lcs_tool_policy_free(c->policy);
    json_decref(c->status);
    free(c->workdir);
    free(c->session_id);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return rc;
}
