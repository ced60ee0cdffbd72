/*
 * mcp.c - the Model Context Protocol server: the agent tools over stdio.
 *
 * Transport: newline-delimited JSON-RPC 2.0 messages on in_fd/out_fd (the
 * MCP stdio transport; nothing else is ever written to out_fd). Lifecycle:
 * initialize (protocol version negotiation, capabilities {tools}) ->
 * notifications/initialized -> tools/list, tools/call, ping -> end of input
 * (or lcs_mcp_server_stop), after which the connection's sandbox is
 * destroyed. One tool context, hence one sandbox session, per connection;
 * the session is created by the first tool call that needs it.
 *
 * Robustness: a message is at most max_message_bytes (longer lines are
 * answered with a parse error and skipped); malformed JSON gets -32700,
 * a non-request -32600, an unknown method -32601, bad params -32602; none of
 * them ends the connection. Tool failures (denied, bad arguments, a command
 * that failed) are results with isError true, as the MCP spec asks, so the
 * model sees them. Requests are served one at a time, in order.
 *
 * End of input while a tool call runs (the client closed our stdin, or
 * went away) is the client's shutdown, as the MCP stdio transport defines
 * it: a watcher thread, alive only during the call, sees the hang-up and
 * stops the server, which destroys the sandbox and with it the running
 * command; the call returns and the server exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/common.h"
#include "tools/internal.h"

enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
};

/* Newest first; the first is offered to clients asking for something else. */
static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

struct lcs_mcp_server {
    lcs_mcp_options o;
    lcs_tool_context *ctx;
    pthread_mutex_t mu; /* guards ctx against lcs_mcp_server_stop */
    int wake[2];
    atomic_bool stopping;
    bool initialized;
    char protocol[16];
    int in_fd, out_fd;
    bool out_broken;
};

void lcs_mcp_options_init(lcs_mcp_options *o)
{
    memset(o, 0, sizeof *o);
    lcs_tool_options_init(&o->tools);
    o->max_message_bytes = (size_t)64 << 20;
}

lcs_mcp_server *lcs_mcp_server_new(const lcs_mcp_options *o, lcs_error *err)
{
    lcs_mcp_options defaults;
    lcs_mcp_options_init(&defaults);
    if (!o)
        o = &defaults;
    lcs_mcp_server *s = calloc(1, sizeof *s);
    if (!s) {
        lcs_fail_nomem(err);
        return NULL;
    }
    s->o = *o;
    if (!s->o.max_message_bytes)
        s->o.max_message_bytes = defaults.max_message_bytes;
    s->wake[0] = s->wake[1] = -1;
    atomic_init(&s->stopping, false);
    pthread_mutex_init(&s->mu, NULL);
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        lcs_fail_errno(err, "MCP server: cannot create a pipe");
        lcs_mcp_server_free(s);
        return NULL;
    }
    if (!(s->ctx = lcs_tool_context_new(&o->tools, err))) {
        lcs_mcp_server_free(s);
        return NULL;
    }
    return s;
}

void lcs_mcp_server_stop(lcs_mcp_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    if (s->wake[1] >= 0) {
        ssize_t w = write(s->wake[1], "x", 1);
        (void)w;
    }
    pthread_mutex_lock(&s->mu);
    if (s->ctx)
        lcs_tool_context_abort(s->ctx);
    pthread_mutex_unlock(&s->mu);
}

static int close_context(lcs_mcp_server *s, lcs_error *err)
{
    pthread_mutex_lock(&s->mu);
    lcs_tool_context *c = s->ctx;
    s->ctx = NULL;
    pthread_mutex_unlock(&s->mu);
    return lcs_tool_context_close(c, err);
}

void lcs_mcp_server_free(lcs_mcp_server *s)
{
    if (!s)
        return;
    close_context(s, NULL);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- output */

static void send_json(lcs_mcp_server *s, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(msg);
    if (!text || s->out_broken) {
        free(text);
        return;
    }
    size_t n = strlen(text);
    text[n] = '\n';
    const char *p = text;
    size_t left = n + 1;
    while (left) {
        ssize_t w = write(s->out_fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {s->out_fd, POLLOUT, 0};
                poll(&pf, 1, 1000);
                continue;
            }
            s->out_broken = true; /* the client is gone (EPIPE): stop serving */
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    free(text);
}

static void send_result(lcs_mcp_server *s, json_t *id, json_t *result)
{
    json_t *m = json_object();
    json_object_set_new(m, "jsonrpc", json_string("2.0"));
    json_object_set(m, "id", id);
    json_object_set_new(m, "result", result);
    send_json(s, m);
}

static void send_error(lcs_mcp_server *s, json_t *id, int code, const char *message)
{
    json_t *m = json_object();
    json_object_set_new(m, "jsonrpc", json_string("2.0"));
    json_object_set(m, "id", id ? id : json_null());
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", json_string(message));
    json_object_set_new(m, "error", e);
    send_json(s, m);
}

/* ---- methods */

static void do_initialize(lcs_mcp_server *s, json_t *id, json_t *params)
{
    if (s->initialized) {
        send_error(s, id, RPC_INVALID_REQUEST, "initialize was already received on this connection");
        return;
    }
    const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
    if (!asked) {
        send_error(s, id, RPC_INVALID_PARAMS,
                   "initialize: params.protocolVersion (a string such as \"2025-06-18\") is "
                   "required");
        return;
    }
    const char *v = versions[0];
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++)
        if (!strcmp(asked, versions[i]))
            v = versions[i];
    snprintf(s->protocol, sizeof s->protocol, "%s", v);
    s->initialized = true;
    json_t *r = json_object();
    json_object_set_new(r, "protocolVersion", json_string(v));
    json_t *caps = json_object();
    json_object_set_new(caps, "tools", json_pack("{s:b}", "listChanged", 0));
    json_object_set_new(r, "capabilities", caps);
    json_t *info = json_object();
    json_object_set_new(info, "name", json_string("llmcore-sandbox"));
    if (strcmp(v, "2025-06-18") >= 0)
        json_object_set_new(info, "title", json_string("llmcore-sandbox agent tools"));
    json_object_set_new(info, "version", json_string(lcs_version()));
    json_object_set_new(r, "serverInfo", info);
    json_object_set_new(
        r, "instructions",
        json_sprintf("Tools run in one isolated, disposable %s-mode sandbox that lives as long as "
                     "this connection; files you write persist between calls. Relative paths "
                     "are relative to the workspace.",
                     lcs_access_mode_name(lcs_tool_context_access_mode(s->ctx))));
    send_result(s, id, r);
}

static void do_tools_list(lcs_mcp_server *s, json_t *id)
{
    lcs_access_mode m = lcs_tool_context_access_mode(s->ctx);
    /* The listing shows what this connection may call. */
    lcs_tool_policy *p = NULL;
    if (!s->o.list_denied_tools)
        p = lcs_tool_policy_copy(s->o.tools.policy, NULL);
    json_t *tools = lcs_tool_list_mcp(p, m);
    lcs_tool_policy_free(p);
    if (!tools) {
        send_error(s, id, RPC_INTERNAL_ERROR, "tools/list: out of memory");
        return;
    }
    if (strcmp(s->protocol, "2025-06-18") < 0) {
        /* title and annotations.title are newer than this client's version. */
        size_t i;
        json_t *t;
        json_array_foreach(tools, i, t) json_object_del(t, "title");
    }
    send_result(s, id, json_pack("{s:o}", "tools", tools));
}

/* The hang-up watcher of one tool call: polls the input for POLLHUP
 * only (events 0 plus POLLRDHUP: pending requests are not read, and a
 * regular file never hangs up), and a pipe of its own that ends it. */
typedef struct hup_watch {
    lcs_mcp_server *s;
    int done[2];
    pthread_t th;
    bool running;
} hup_watch;

static void *watch_hangup(void *arg)
{
    hup_watch *w = arg;
    for (;;) {
        struct pollfd pf[2] = {{w->s->in_fd, POLLRDHUP, 0}, {w->done[0], POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (pf[1].revents)
            return NULL; /* the call is over */
        if (pf[0].revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) {
            lcs_mcp_server_stop(w->s);
            return NULL;
        }
    }
}

static void watch_start(lcs_mcp_server *s, hup_watch *w)
{
    w->s = s;
    w->running = false;
    if (pipe2(w->done, O_CLOEXEC) != 0)
        return;
    w->running = pthread_create(&w->th, NULL, watch_hangup, w) == 0;
    if (!w->running) {
        close(w->done[0]);
        close(w->done[1]);
    }
}

static void watch_end(hup_watch *w)
{
    if (!w->running)
        return;
    ssize_t n = write(w->done[1], "x", 1);
    (void)n;
    pthread_join(w->th, NULL);
    close(w->done[0]);
    close(w->done[1]);
}

static void do_tools_call(lcs_mcp_server *s, json_t *id, json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    json_t *args = json_object_get(params, "arguments");
    if (!name) {
        send_error(s, id, RPC_INVALID_PARAMS, "tools/call: params.name (the tool's name) is required");
        return;
    }
    if (args && !json_is_object(args) && !json_is_null(args)) {
        send_error(s, id, RPC_INVALID_PARAMS, "tools/call: params.arguments must be an object");
        return;
    }
    if (!lcs_tool_def_find(name)) {
        char msg[300];
        snprintf(msg, sizeof msg, "Unknown tool: %.200s (tools/list shows the tools)", name);
        send_error(s, id, RPC_INVALID_PARAMS, msg);
        return;
    }
    char *atext = args && json_is_object(args) ? lcs_tl_json_text(args) : NULL;
    lcs_tool_result r;
    lcs_error e;
    lcs_error_clear(&e);
    hup_watch w;
    watch_start(s, &w);
    int rc = lcs_tool_call(s->ctx, name, atext, &r, &e);
    watch_end(&w);
    free(atext);
    if (rc != 0) {
        send_error(s, id, e.code == LCS_E_NOT_FOUND ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR,
                   e.message);
        return;
    }
    json_t *res = json_object();
    json_t *content = json_array();
    json_array_append_new(content, json_pack("{s:s,s:o}", "type", "text", "text",
                                             lcs_tl_json_stringn(r.text, r.text_len)));
    json_object_set_new(res, "content", content);
    if (r.json && strcmp(s->protocol, "2025-06-18") >= 0) {
        json_t *sc = json_loads(r.json, JSON_ALLOW_NUL, NULL);
        if (sc)
            json_object_set_new(res, "structuredContent", sc);
    }
    json_object_set_new(res, "isError", json_boolean(r.is_error));
    lcs_tool_result_clear(&r);
    send_result(s, id, res);
}

static void handle_message(lcs_mcp_server *s, const char *line, size_t len)
{
    json_error_t je;
    json_t *m = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!m) {
        char msg[300];
        snprintf(msg, sizeof msg, "Parse error: %s (line %d, column %d)", je.text, je.line,
                 je.column);
        send_error(s, NULL, RPC_PARSE_ERROR, msg);
        return;
    }
    if (json_is_array(m)) {
        send_error(s, NULL, RPC_INVALID_REQUEST,
                   "Invalid Request: JSON-RPC batches are not supported; send one message per "
                   "line");
        goto out;
    }
    if (!json_is_object(m)) {
        send_error(s, NULL, RPC_INVALID_REQUEST, "Invalid Request: a message must be a JSON object");
        goto out;
    }
    json_t *id = json_object_get(m, "id");
    bool id_ok = id && (json_is_string(id) || json_is_integer(id));
    json_t *reply_id = id_ok ? id : NULL;
    const char *jv = json_string_value(json_object_get(m, "jsonrpc"));
    if (!jv || strcmp(jv, "2.0")) {
        send_error(s, reply_id, RPC_INVALID_REQUEST, "Invalid Request: \"jsonrpc\" must be \"2.0\"");
        goto out;
    }
    json_t *method = json_object_get(m, "method");
    if (!method) {
        /* A response from the client: this server sends no requests. */
        if (json_object_get(m, "result") || json_object_get(m, "error"))
            goto out;
        send_error(s, reply_id, RPC_INVALID_REQUEST, "Invalid Request: no \"method\"");
        goto out;
    }
    if (!json_is_string(method)) {
        send_error(s, reply_id, RPC_INVALID_REQUEST, "Invalid Request: \"method\" must be a string");
        goto out;
    }
    if (id && !id_ok) {
        send_error(s, NULL, RPC_INVALID_REQUEST,
                   "Invalid Request: \"id\" must be a string or an integer");
        goto out;
    }
    const char *name = json_string_value(method);
    json_t *params = json_object_get(m, "params");
    if (!id) {
        /* Notifications (initialized, cancelled, ...) need no answer. */
        goto out;
    }
    if (params && !json_is_object(params)) {
        send_error(s, id, RPC_INVALID_PARAMS, "Invalid params: \"params\" must be an object");
        goto out;
    }
    if (!strcmp(name, "initialize"))
        do_initialize(s, id, params);
    else if (!strcmp(name, "ping"))
        send_result(s, id, json_object());
    else if (!s->initialized)
        send_error(s, id, RPC_INVALID_REQUEST,
                   "Invalid Request: the connection is not initialized; send initialize first");
    else if (!strcmp(name, "tools/list"))
        do_tools_list(s, id);
    else if (!strcmp(name, "tools/call"))
        do_tools_call(s, id, params);
    else {
        char msg[300];
        snprintf(msg, sizeof msg, "Method not found: %.200s", name);
        send_error(s, id, RPC_METHOD_NOT_FOUND, msg);
    }
out:
    json_decref(m);
}

/* ---- the loop */

int lcs_mcp_serve(lcs_mcp_server *s, int in_fd, int out_fd, lcs_error *err)
{
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "MCP server: no server given");
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    size_t max = s->o.max_message_bytes, cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return lcs_fail_nomem(err);
    bool skipping = false; /* inside an oversized message: drop until newline */
    bool eof = false;
    int rc = 0;
    while (!eof && !s->out_broken && !atomic_load(&s->stopping)) {
        struct pollfd pf[2] = {{in_fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = lcs_fail_errno(err, "MCP server: poll on the input failed");
            break;
        }
        if (pf[1].revents)
            break;
        if (!pf[0].revents)
            continue;
        if (cap - len < 65536) {
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = lcs_fail_nomem(err);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(in_fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            rc = lcs_fail_errno(err, "MCP server: reading the input failed");
            break;
        }
        if (r == 0)
            eof = true;
        len += (size_t)r;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl && !(eof && start < len))
                break;
            size_t end = nl ? (size_t)(nl - buf) : len;
            size_t n = end - start;
            if (skipping)
                skipping = false;
            else {
                if (n && buf[start + n - 1] == '\r')
                    n--;
                bool empty = true;
                for (size_t i = 0; i < n && empty; i++)
                    empty = buf[start + i] == ' ' || buf[start + i] == '\t';
                if (n > max) {
                    char msg[160];
                    snprintf(msg, sizeof msg,
                             "Parse error: message of %zu bytes exceeds the limit of %zu bytes",
                             n, max);
                    send_error(s, NULL, RPC_PARSE_ERROR, msg);
                } else if (!empty)
                    handle_message(s, buf + start, n);
            }
            start = nl ? end + 1 : len;
            if (s->out_broken || atomic_load(&s->stopping))
                break;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (!skipping && len > max) {
            /* An oversized line still arriving: answer once, then skip it
               (while skipping, more of the same line is no new message). */
            char msg[160];
            snprintf(msg, sizeof msg, "Parse error: message exceeds the limit of %zu bytes", max);
            send_error(s, NULL, RPC_PARSE_ERROR, msg);
            len = 0;
            skipping = true;
        }
        if (skipping) {
            /* Drop buffered bytes of the oversized line up to its end. */
            char *nl = memchr(buf, '\n', len);
            if (nl) {
                size_t k = (size_t)(nl - buf) + 1;
                memmove(buf, buf + k, len - k);
                len -= k;
                skipping = false;
            } else
                len = 0;
        }
    }
    free(buf);
    lcs_error e;
    lcs_error_clear(&e);
    if (close_context(s, &e) != 0 && rc == 0) {
        if (err)
            *err = e;
        rc = -1;
    }
    return rc;
}
