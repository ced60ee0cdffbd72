/*
 * dmonitor.c - the session monitor for the Docker backend: the same
 * process, socket, lock and messages as a native session's (monitor.c,
 * docs/sessions.md), serving a container of a Docker Engine API engine
 * (src/runtime/docker/box.c) instead of a native sandbox.
 *
 * The main thread accepts connections and answers the short requests
 * (root, status, destroy). An exec takes its connection to a thread of its
 * own, because it is a conversation with the engine for as long as the
 * command runs: the thread feeds the client's stdin descriptor into the
 * hijacked stream, writes the decoded frames into the client's stdout and
 * stderr descriptors, and watches the connection for "kill" (the client's
 * output cap) or its end (the caller is gone). Up to MAX_EXECS run at once.
 *
 * File operations work as on native: "root" hands the client the
 * container's root (/proc/<init>/root) and the sandbox user's ids, and the
 * confined lookups of fsops.c run in the client.
 */
#include "session/session_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/docker/docker.h"
#include "runtime/verdict.h"
#include "session/fsops.h"
#include "util/sandbox_paths.h"
#include "util/clock.h"
#include "util/rmtree.h"

#define MAX_CLIENTS 256
#define MAX_EXECS 64

typedef struct dmon {
    char dir[PATH_MAX];
    char id[64];
    json_t *spec, *info;
    lcs_docker_box *box;
    int lfd, sfd;
    char **env;            /* the session's environment (spec "env") */
    size_t nenv;
    const char *cwd;
    double idle_timeout, default_timeout;
    pthread_mutex_t mu;    /* guards the fields below */
    pthread_cond_t cv;
    int active;            /* execs running */
    unsigned long execs_total;
    double last_active;
    int clients[MAX_CLIENTS];
} dmon;

typedef struct dexec {
    dmon *M;
    int client;
    int fds[4];            /* stdin, stdout, stderr, the request blob */
    json_t *req;
    int output_exceeded;
} dexec;

static void tell(int fd, const char *msg)
{
    if (fd >= 0 && write(fd, msg, strlen(msg)) < 0) {
        /* the creator is gone: nobody to tell */
    }
}

static void reply(int fd, json_t *msg)
{
    if (msg) {
        lcs_sess_send(fd, msg, NULL, 0, NULL);
        json_decref(msg);
    }
}

/* The request blob (session.c): argv, environment additions, cwd, each
 * NUL-terminated. Read whole from its memfd (at most 64 MiB). */
static char *read_blob(int fd, size_t len)
{
    char *b = malloc(len + 1);
    size_t got = 0;
    while (b && got < len) {
        ssize_t r = pread(fd, b + got, len - got, (off_t)got);
        if (r <= 0) {
            free(b);
            return NULL;
        }
        got += (size_t)r;
    }
    if (b)
        b[len] = 0;
    return b;
}

/* The connection spoke during the exec: "kill" (the client's output cap)
 * or its end (nobody reads the output any more) stop the command. */
static int on_client(void *ctx)
{
    dexec *x = ctx;
    json_t *m = NULL;
    int fds[4], nfds = 0;
    if (lcs_sess_recv(x->client, &m, fds, &nfds, 0, NULL) < 0 || !m)
        return 1;
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    int kill_it = !strcmp(json_string_value(json_object_get(m, "op")) ?: "", "kill");
    if (kill_it && json_is_true(json_object_get(m, "output")))
        x->output_exceeded = 1;
    json_decref(m);
    return kill_it;
}

static void *exec_main(void *arg)
{
    dexec *x = arg;
    dmon *M = x->M;
    lcs_error err;
    lcs_error_clear(&err);
    json_t *req = x->req;
    size_t blen = (size_t)json_integer_value(json_object_get(req, "blob_len"));
    size_t nargv = (size_t)json_integer_value(json_object_get(req, "nargv"));
    size_t nadd = (size_t)json_integer_value(json_object_get(req, "nenv"));
    char *blob = blen > 0 && blen <= (64u << 20) && nargv ? read_blob(x->fds[3], blen) : NULL;
    const char **argv = calloc(nargv + 1, sizeof *argv);
    const char **env = calloc(M->nenv + nadd + 1, sizeof *env);
    const char *cwd = NULL;
    if (!blob || !argv || !env) {
        lcs_fail(&err, LCS_E_INVALID, "exec request without a command");
        goto fail;
    }
    /* the blob's strings, in order; a blob that ends early is refused */
    const char *p = blob, *end = blob + blen;
    size_t ne = 0;
    for (size_t i = 0; i < M->nenv; i++)
        env[ne++] = M->env[i];
    for (size_t i = 0; i < nargv + nadd + 1; i++) {
        if (p >= end) {
            lcs_fail(&err, LCS_E_INVALID, "exec request: the command is cut short");
            goto fail;
        }
        if (i < nargv)
            argv[i] = p;
        else if (i < nargv + nadd) {
            /* an addition replaces the session's variable of its name */
            size_t kl = strcspn(p, "=");
            for (size_t k = 0; k < ne; k++)
                if (!strncmp(env[k], p, kl + 1)) {
                    env[k] = env[--ne];
                    break;
                }
            env[ne++] = p;
        } else
            cwd = *p ? p : NULL;
        p += strlen(p) + 1;
    }
    /* A working directory the command could not enter is an exec error
     * naming it, as on native (the engine would report it as the command's
     * own failure, exit 126/127). It is resolved inside the container's
     * root (RESOLVE_IN_ROOT: links and ".." stay in it) and only looked
     * at; the engine does the chdir. */
    if (cwd && cwd[0] == '/') {
        int dfd = lcs_fs_open_in_root(lcs_docker_box_root_fd(M->box), cwd, O_PATH | O_DIRECTORY);
        if (dfd < 0) {
            reply(x->client, json_pack("{s:s,s:s,s:s,s:b}", "event", "error", "code",
                                       lcs_status_name(LCS_E_IO), "message", strerror(errno),
                                       "cwd", 1));
            goto done;
        }
        close(dfd);
    }
    double t = json_number_value(json_object_get(req, "timeout"));
    lcs_docker_exec ex = {argv, env, cwd ? cwd : (M->cwd ? M->cwd : LCS_SANDBOX_WORKSPACE),
                          "1000:1000", x->fds[0], x->fds[1], x->fds[2],
                          t > 0 ? t : M->default_timeout, x->client, on_client, x};
    lcs_docker_exec_result r;
    if (lcs_docker_box_exec(M->box, &ex, &r, &err) < 0)
        goto fail;
    int ws = r.signal ? r.signal : (r.exit_code & 0xff) << 8;
    const char *v = lcs_verdict(ws, x->output_exceeded, r.oom, r.pids_hit, r.timed_out, 0);
    json_t *info = M->info;
    reply(x->client,
          json_pack("{s:s,s:s,s:i,s:i,s:f,s:f,s:I,s:O,s:O}", "event", "result", "verdict", v,
                    "exit_code", r.exit_code, "signal", r.signal, "wall_seconds", r.wall_seconds,
                    "cpu_seconds", r.cpu_seconds, "peak_memory_bytes",
                    (json_int_t)r.peak_memory_bytes, "enforced", json_object_get(info, "enforced"),
                    "policy", json_object_get(info, "policy")));
    goto done;
fail:
    reply(x->client, json_pack("{s:s,s:s,s:s}", "event", "error", "code",
                               lcs_status_name(err.code), "message", err.message));
done:
    free(blob);
    free(argv);
    free(env);
    for (int i = 0; i < 4; i++)
        close(x->fds[i]);
    close(x->client);
    json_decref(req);
    free(x);
    pthread_mutex_lock(&M->mu);
    M->active--;
    M->last_active = lcs_now();
    pthread_cond_broadcast(&M->cv);
    pthread_mutex_unlock(&M->mu);
    return NULL;
}

static void start_exec(dmon *M, int ci, json_t *req, int *fds, int nfds)
{
    const char *why = NULL;
    pthread_mutex_lock(&M->mu);
    int full = M->active >= MAX_EXECS;
    pthread_mutex_unlock(&M->mu);
    if (nfds != 4)
        why = "exec request needs 4 descriptors";
    else if (full)
        why = "too many concurrent execs in this session";
    dexec *x = why ? NULL : calloc(1, sizeof *x);
    if (!why && !x)
        why = "out of memory";
    if (why) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        reply(M->clients[ci], json_pack("{s:s,s:s,s:s}", "event", "error", "code",
                                        full ? "unsupported" : "invalid", "message", why));
        json_decref(req);
        return;
    }
    x->M = M;
    x->client = M->clients[ci];
    memcpy(x->fds, fds, sizeof x->fds);
    x->req = req;
    M->clients[ci] = -1; /* the connection is the exec's now */
    pthread_mutex_lock(&M->mu);
    M->active++;
    M->execs_total++;
    pthread_mutex_unlock(&M->mu);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    if (pthread_create(&th, &at, exec_main, x) != 0) {
        pthread_mutex_lock(&M->mu);
        M->active--;
        pthread_mutex_unlock(&M->mu);
        reply(x->client, json_pack("{s:s,s:s,s:s}", "event", "error", "code", "io", "message",
                                   "no thread for the exec"));
        for (int i = 0; i < 4; i++)
            close(fds[i]);
        close(x->client);
        json_decref(req);
        free(x);
    }
    pthread_attr_destroy(&at);
}

static json_t *status_json(dmon *M)
{
    json_t *o = json_deep_copy(M->info);
    json_object_del(o, "resources");
    json_object_set_new(o, "state", json_string("running"));
    pthread_mutex_lock(&M->mu);
    json_object_set_new(o, "execs", json_integer((json_int_t)M->execs_total));
    json_object_set_new(o, "idle_seconds", json_real(lcs_now() - M->last_active));
    pthread_mutex_unlock(&M->mu);
    /* the engine's own numbers, and the cgroup's where it has none */
    lcs_error err;
    json_t *st = lcs_docker_box_stats(M->box, &err);
    lcs_docker_counters c;
    lcs_docker_box_counters(M->box, &c);
    json_t *mem = json_object_get(json_object_get(st, "memory_stats"), "usage");
    json_t *pids = json_object_get(json_object_get(st, "pids_stats"), "current");
    json_object_set_new(o, "memory_bytes",
                        json_integer(mem ? json_integer_value(mem) : (json_int_t)c.memory));
    json_object_set_new(o, "pids",
                        json_integer(pids ? json_integer_value(pids) : (json_int_t)c.pids));
    json_object_set_new(o, "stats_from", json_string(st ? "engine" : "cgroup"));
    json_decref(st);
    return o;
}

/* 1: destroy asked */
static int from_client(dmon *M, int ci)
{
    json_t *req = NULL;
    int fds[4], nfds = 0;
    if (lcs_sess_recv(M->clients[ci], &req, fds, &nfds, 0, NULL) < 0 || !req) {
        close(M->clients[ci]);
        M->clients[ci] = -1;
        return 0;
    }
    const char *op = json_string_value(json_object_get(req, "op"));
    op = op ? op : "";
    pthread_mutex_lock(&M->mu);
    M->last_active = lcs_now();
    pthread_mutex_unlock(&M->mu);
    int destroy = 0;
    if (!strcmp(op, "exec")) {
        start_exec(M, ci, req, fds, nfds);
        return 0;
    } else if (!strcmp(op, "root")) {
        uid_t u;
        gid_t g;
        lcs_docker_box_owner(M->box, &u, &g);
        int rfd = lcs_docker_box_root_fd(M->box);
        json_t *r = json_pack("{s:b,s:i,s:i,s:[s]}", "ok", 1, "uid", (int)u, "gid", (int)g,
                              "views", "/");
        lcs_sess_send(M->clients[ci], r, &rfd, 1, NULL);
        json_decref(r);
    } else if (!strcmp(op, "status")) {
        reply(M->clients[ci], json_pack("{s:b,s:o}", "ok", 1, "status", status_json(M)));
    } else if (!strcmp(op, "destroy")) {
        destroy = 1;
    } else if (strcmp(op, "kill")) { /* a kill with no exec on this connection: nothing */
        reply(M->clients[ci], json_pack("{s:b,s:s}", "ok", 0, "message", "unknown request"));
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    json_decref(req);
    return destroy;
}

static int write_info(dmon *M, lcs_error *err)
{
    json_t *enf = json_deep_copy(lcs_docker_box_enforced(M->box));
    json_t *docker = json_object_get(M->spec, "docker");
    M->info = json_pack(
        "{s:s,s:O,s:O,s:f,s:i,s:s,s:O,s:o,s:{s:{s:O,s:s}},s:f}", "id", M->id, "image",
        json_object_get(M->spec, "image") ?: json_null(), "label",
        json_object_get(M->spec, "label") ?: json_null(), "created", lcs_sess_wallclock(),
        "monitor_pid", (int)getpid(), "backend", "docker", "policy",
        json_object_get(M->spec, "policy") ?: json_null(), "enforced", enf ? enf : json_null(),
        "resources", "docker", "engine", json_object_get(docker, "engine") ?: json_null(),
        "container", lcs_docker_box_id(M->box), "idle_timeout", M->idle_timeout);
    if (!M->info)
        return lcs_fail_nomem(err);
    return lcs_sess_write_info(M->dir, M->info, err);
}

static int listen_on(dmon *M, lcs_error *err)
{
    return (M->lfd = lcs_sess_listen(M->dir, err)) < 0 ? -1 : 0;
}

/* Returns the reason the loop ended; *destroyer the connection that asked. */
static const char *serve(dmon *M, int *destroyer)
{
    for (;;) {
        double now = lcs_now();
        struct stat st;
        if (lstat(M->dir, &st) < 0)
            return "its state directory was removed";
        pthread_mutex_lock(&M->mu);
        int idle = M->active == 0 && M->idle_timeout > 0 &&
                   now - M->last_active >= M->idle_timeout;
        pthread_mutex_unlock(&M->mu);
        if (idle)
            return "idle";
        if (!lcs_docker_box_alive(M->box))
            return "the container's init exited";
        struct pollfd pf[2 + MAX_CLIENTS];
        int map[MAX_CLIENTS], n = 0;
        pf[n++] = (struct pollfd){M->lfd, POLLIN, 0};
        pf[n++] = (struct pollfd){M->sfd, POLLIN, 0};
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (M->clients[i] >= 0) {
                map[n - 2] = i;
                pf[n++] = (struct pollfd){M->clients[i], POLLIN, 0};
            }
        int pr = poll(pf, (nfds_t)n, 1000);
        if (pr < 0 && errno != EINTR)
            return "poll failed";
        if (pr <= 0)
            continue;
        if (pf[1].revents)
            return "signal";
        if (pf[0].revents) {
            int fd = accept4(M->lfd, NULL, NULL, SOCK_CLOEXEC);
            int slot = -1;
            for (int i = 0; fd >= 0 && i < MAX_CLIENTS && slot < 0; i++)
                if (M->clients[i] < 0)
                    slot = i;
            if (fd >= 0 && slot < 0) {
                reply(fd, json_pack("{s:b,s:s}", "ok", 0, "message",
                                    "too many connections to this session"));
                close(fd);
            } else if (fd >= 0)
                M->clients[slot] = fd;
        }
        for (int k = 2; k < n; k++)
            if (pf[k].revents && M->clients[map[k - 2]] >= 0 && from_client(M, map[k - 2])) {
                *destroyer = M->clients[map[k - 2]];
                M->clients[map[k - 2]] = -1;
                return "destroy";
            }
    }
}

int lcs_session_docker_monitor(const char *dir, const char *id, json_t *spec, int ready)
{
    dmon *M = calloc(1, sizeof *M);
    lcs_error err;
    lcs_error_clear(&err);
    char msg[2200];
    if (!M) {
        tell(ready, "ERR nomem\tout of memory\n");
        return 1;
    }
    snprintf(M->dir, sizeof M->dir, "%s", dir);
    snprintf(M->id, sizeof M->id, "%s", id);
    M->spec = spec;
    M->lfd = M->sfd = -1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        M->clients[i] = -1;
    pthread_mutex_init(&M->mu, NULL);
    pthread_cond_init(&M->cv, NULL);
    json_t *envj = json_object_get(spec, "env");
    M->nenv = json_array_size(envj);
    M->env = calloc(M->nenv + 1, sizeof *M->env);
    for (size_t i = 0; M->env && i < M->nenv; i++)
        M->env[i] = (char *)json_string_value(json_array_get(envj, i));
    M->cwd = json_string_value(json_object_get(spec, "cwd"));
    M->idle_timeout = json_number_value(json_object_get(spec, "idle_timeout"));
    double t = json_number_value(json_object_get(spec, "timeout_s"));
    M->default_timeout = t > 0 ? t : 30.0;
    json_t *dk = json_object_get(spec, "docker");
    lcs_docker_start ds = {json_string_value(json_object_get(dk, "engine")),
                           json_object_get(dk, "create_docker"),
                           json_object_get(dk, "create_podman"),
                           json_string_value(json_object_get(dk, "image")),
                           json_string_value(json_object_get(dk, "oci")), id};
    if (!M->env) {
        lcs_fail_nomem(&err);
        goto fail;
    }
    if (!ds.engine || !ds.image) {
        lcs_fail(&err, LCS_E_INVALID, "session spec: no engine or image for the Docker backend");
        goto fail;
    }
    /* Podman opens seccomp= as a file on its host: the profile is written
     * here, beside the session's spec, and named in Podman's body. */
    const char *stext = json_string_value(json_object_get(dk, "seccomp_text"));
    const char *ph = json_string_value(json_object_get(dk, "seccomp_placeholder"));
    json_t *so = json_object_get(json_object_get(ds.create_podman, "HostConfig"), "SecurityOpt");
    if (stext && ph) {
        char sp[PATH_MAX + 32], opt[PATH_MAX + 48];
        snprintf(sp, sizeof sp, "%s/seccomp.json", M->dir);
        FILE *f = fopen(sp, "we");
        int ok = f && fputs(stext, f) >= 0;
        if (f && fclose(f) != 0)
            ok = 0;
        if (!ok) {
            lcs_fail_errno(&err, "write %s", sp);
            goto fail;
        }
        snprintf(opt, sizeof opt, "seccomp=%s", sp);
        for (size_t i = 0; i < json_array_size(so); i++)
            if (!strcmp(json_string_value(json_array_get(so, i)) ?: "", ph))
                json_array_set_new(so, i, json_string(opt));
    }
    if (lcs_docker_box_start(&ds, &M->box, &err) < 0 || write_info(M, &err) < 0 ||
        listen_on(M, &err) < 0)
        goto fail;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    M->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    M->last_active = lcs_now();
    snprintf(msg, sizeof msg, "OK\t%s\n", M->id);
    tell(ready, msg);
    if (ready >= 0)
        close(ready);
    int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dn >= 0) {
        dup2(dn, 0);
        dup2(dn, 1);
        dup2(dn, 2);
        close(dn);
    }
    int destroyer = -1;
    serve(M, &destroyer);
    /* The container goes first: its removal kills every exec's processes,
     * their streams end and their threads answer; then the rest. */
    lcs_docker_box_destroy_container(M->box);
    pthread_mutex_lock(&M->mu);
    double until = lcs_now() + 30;
    while (M->active > 0 && lcs_now() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&M->cv, &M->mu, &ts);
    }
    int left = M->active;
    pthread_mutex_unlock(&M->mu);
    lcs_rm_tree(M->dir);
    if (destroyer >= 0) {
        reply(destroyer, json_pack("{s:b}", "ok", 1));
        close(destroyer);
    }
    if (left)
        _exit(0); /* a thread still talks to the engine: nothing may be freed under it */
    lcs_docker_box_destroy(M->box);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (M->clients[i] >= 0)
            close(M->clients[i]);
    close(M->lfd);
    close(M->sfd);
    json_decref(M->info);
    free(M->env);
    pthread_mutex_destroy(&M->mu);
    pthread_cond_destroy(&M->cv);
    free(M);
    return 0;
fail:
    snprintf(msg, sizeof msg, "ERR %s\t%.2100s\n", lcs_status_name(err.code), err.message);
    tell(ready, msg);
    lcs_docker_box_destroy(M->box);
    if (M->lfd >= 0)
        close(M->lfd);
    lcs_rm_tree(M->dir);
    json_decref(M->info);
    free(M->env);
    free(M);
    return 1;
}

int lcs_session_docker_remove(const char *engine, const char *id)
{
    lcs_docker d;
    lcs_error err;
    lcs_error_clear(&err);
    if (lcs_docker_connect(&d, engine, &err) < 0 || lcs_docker_remove(&d, id, &err) < 0) {
        fprintf(stderr, "llmcore-sandbox-monitor: remove container %.12s: %s\n", id,
                err.message);
        lcs_docker_disconnect(&d);
        return 1;
    }
    lcs_docker_disconnect(&d);
    return 0;
}
