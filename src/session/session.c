/*
 * session.c - the public sessions API, client side (see sandbox.h
 * "sessions" and docs/sessions.md).
 *
 * A session handle is just the session's id and directory: every call
 * connects to the monitor's control socket, so handles survive nothing and
 * need nothing; any process of the same user can open a session by id.
 *
 * Creation computes the policy here (the caller's registry), writes
 * spec.json and starts the monitor executable with posix_spawn (safe from a
 * multithreaded caller); the monitor detaches itself and reports readiness
 * on a pipe (bounded wait).
 *
 * exec: the caller's pipes go to the command directly (SCM_RIGHTS via the
 * monitor to init), so output streams with no copy through the monitor and
 * the pipe itself is the bounded buffer. The output cap is enforced here:
 * past it the output is dropped, the *_truncated flag set, and the monitor
 * asked to kill the exec (verdict "output").
 *
 * Files: the monitor hands over its root fd (a detached clone of the
 * sandbox's overlay root) and the file operations of src/session/fsops.c
 * run here, resolved inside that root (openat2 RESOLVE_IN_ROOT).
 */
#include "session/session_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image.h"
#include "util/clock.h"
#include "util/random.h"
#include "util/rmtree.h"
#include "runtime/native/native.h"
#include "policy/policy_json.h"
#include "runtime/prepare.h"
#include "session/fsops.h"
#include "runtime/docker/docker.h"
#include "image/builtin.h"
#include <sys/resource.h>

extern char **environ;

struct lcs_session {
    char id[LCS_SESS_ID_LEN + 1];
    char dir[PATH_MAX + 32];
    uint64_t output_bytes; /* the session's output cap per stream; 0: not read yet */
};

/* The session's own output cap (its policy, in info.json; read once per
 * handle): an exec without a cap of its own gets that one. */
static uint64_t session_output_cap(lcs_session *s)
{
    if (!s->output_bytes) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/info.json", s->dir);
        json_t *info = json_load_file(p, 0, NULL);
        json_int_t v = json_integer_value(
            json_object_get(json_object_get(info, "policy"), "output_bytes"));
        json_decref(info);
        s->output_bytes = v > 0 ? (uint64_t)v : LCS_POLICY_DEFAULT_OUTPUT_BYTES;
    }
    return s->output_bytes;
}

void lcs_session_options_init(lcs_session_options *o)
{
    memset(o, 0, sizeof *o);
    lcs_policy_overrides_init(&o->overrides);
}

void lcs_exec_options_init(lcs_exec_options *o)
{
    memset(o, 0, sizeof *o);
}

const char *lcs_session_id(const lcs_session *s)
{
    return s ? s->id : NULL;
}

void lcs_session_close(lcs_session *s)
{
    free(s);
}

/* ------------------------------------------------------------- create */

static json_t *strv_json(char **v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

json_t *lcs_sess_spec_json(const lcs_native_spec *s, double idle_timeout, const char *label,
                           const lcs_policy *pol, const char *image)
{
    json_t *policy = lcs_policy_json(pol);
    json_t *j = json_pack("{s:s,s:o,s:i,s:i,s:i,s:b,s:I,s:f,s:i,s:f,s:I,s:I,s:i,s:I,s:b,s:f,s:o}",
                          "rootfs", s->rootfs, "env", strv_json(pol->env), "uid", (int)s->uid,
                          "gid", (int)s->gid, "network", s->network, "writable_root",
                          s->writable_root, "memory_bytes", (json_int_t)s->memory_bytes, "cpus",
                          s->cpus, "pids", (int)s->pids, "timeout_s", s->timeout_s,
                          "output_limit_bytes", (json_int_t)s->output_limit_bytes,
                          "fsize_bytes", (json_int_t)s->fsize_bytes, "nofile", (int)s->nofile,
                          "tmp_bytes", (json_int_t)s->tmp_bytes, "allow_degraded",
                          s->allow_degraded, "idle_timeout", idle_timeout, "policy",
                          policy ? policy : json_null());
    if (!j)
        return NULL;
    json_object_set_new(j, "layer_bytes", json_integer((json_int_t)s->layer_bytes));
    if (s->cwd)
        json_object_set_new(j, "cwd", json_string(s->cwd));
    if (s->input_dir)
        json_object_set_new(j, "input_dir", json_string(s->input_dir));
    if (s->output_dir)
        json_object_set_new(j, "output_dir", json_string(s->output_dir));
    json_object_set_new(j, "seccomp_profile", json_string(s->seccomp_profile));
    json_object_set_new(j, "image", image ? json_string(image) : json_null());
    json_object_set_new(j, "label", label ? json_string(label) : json_null());
    return j;
}

/* *fd moved to a descriptor >= min (close-on-exec). */
static int replace_fd_above(int *fd, int min)
{
    int n = fcntl(*fd, F_DUPFD_CLOEXEC, min);
    if (n < 0)
        return -1;
    close(*fd);
    *fd = n;
    return 0;
}

/* Start the monitor for the session directory dir (spec.json written),
 * handing it lockfd (the session's lock, held) as its descriptor 4.
 * wait: wait (bounded) for its start-up verdict; otherwise return once it
 * runs detached. */
static int spawn_monitor(const char *dir, int lockfd, int wait, lcs_error *err)
{
    char path[PATH_MAX];
    if (lcs_sess_monitor_path(path, sizeof path, err) < 0)
        return -1;
    int rp[2] = {-1, -1};
    if (wait && pipe2(rp, O_CLOEXEC) < 0)
        return lcs_fail_errno(err, "pipe");
    /* Sources above the targets 3 and 4, so that neither dup2 of the
     * spawn overwrites the other's source. */
    int lk = fcntl(lockfd, F_DUPFD_CLOEXEC, 10);
    if (lk < 0 || (wait && replace_fd_above(&rp[1], 10) < 0)) {
        int e = errno;
        if (lk >= 0)
            close(lk);
        if (wait) {
            close(rp[0]);
            close(rp[1]);
        }
        errno = e;
        return lcs_fail_errno(err, "descriptors for the session monitor");
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (wait)
        posix_spawn_file_actions_adddup2(&fa, rp[1], 3);
    posix_spawn_file_actions_adddup2(&fa, lk, LCS_SESS_LOCK_FD);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    char *const argv[] = {"llmcore-sandbox-monitor", (char *)dir, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(lk);
    if (wait)
        close(rp[1]);
    if (rc != 0) {
        if (wait)
            close(rp[0]);
        errno = rc;
        return lcs_fail_errno(err, "start the session monitor %s", path);
    }
    /* The monitor forks and its first process exits at once: reap it. */
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!wait)
        return 0;
    char line[2400];
    size_t len = 0;
    double deadline = lcs_now() + 90.0;
    while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
        int ms = (int)((deadline - lcs_now()) * 1000);
        if (ms <= 0)
            break;
        struct pollfd pf = {rp[0], POLLIN, 0};
        if (poll(&pf, 1, ms) <= 0)
            continue;
        ssize_t n = read(rp[0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(rp[0]);
    line[len] = 0;
    line[strcspn(line, "\n")] = 0;
    if (!strncmp(line, "OK\t", 3))
        return 0;
    if (!strncmp(line, "ERR ", 4)) {
        char *tab = strchr(line, '\t');
        const char *code = line + 4;
        lcs_status c = LCS_E_IO;
        if (tab) {
            *tab = 0;
            if (!strcmp(code, "unsupported"))
                c = LCS_E_UNSUPPORTED;
            else if (!strcmp(code, "invalid"))
                c = LCS_E_INVALID;
            else if (!strcmp(code, "not_found"))
                c = LCS_E_NOT_FOUND;
            else if (!strcmp(code, "denied"))
                c = LCS_E_DENIED;
        }
        return lcs_fail(err, c, "%s", tab ? tab + 1 : line);
    }
    return lcs_fail(err, LCS_E_IO, "the session monitor did not report a start within 90 s "
                                   "(status %d)", st);
}

const char *lcs_sess_backend(const char *asked, lcs_error *err)
{
    const char *b = asked ? asked : getenv("LLMCORE_SANDBOX_BACKEND");
    if (!b || !*b || !strcmp(b, "native"))
        return "native";
    if (!strcmp(b, "docker"))
        return "docker";
    lcs_fail(err, LCS_E_INVALID, "unknown backend '%s'%s: use native or docker", b,
             asked ? "" : " (from LLMCORE_SANDBOX_BACKEND)");
    return NULL;
}

/* A Docker-backend session's part of the spec: the engine, the image (and
 * the store's OCI layout of it, loaded when the engine lacks it), and the
 * container's body rendered for both engine flavours, since which one the
 * engine is only the monitor learns. Podman opens seccomp= as a file: the
 * monitor writes the profile into the session's directory and names it
 * there (SECCOMP_FILE below). */
#define SECCOMP_FILE "@session-seccomp-file@"
static int docker_spec(json_t *spec, const lcs_prepared *p, const lcs_session_options *o,
                       lcs_error *err)
{
    if (o->rootfs)
        return lcs_fail(err, LCS_E_UNSUPPORTED, "the docker backend runs images, not a root "
                        "directory (--rootfs %s): give an image", o->rootfs);
    char engine[4200];
    if (lcs_docker_engine_default(o->engine, engine, sizeof engine, err) < 0)
        return -1;
    char *text = NULL;
    if (!strcmp(p->spec.seccomp_profile, LCS_NATIVE_SECCOMP_BUILTIN)) {
        text = strdup(lcs_seccomp_default_sources[0]);
    } else {
        json_error_t je;
        json_t *prof = json_load_file(p->spec.seccomp_profile, 0, &je);
        if (!prof)
            return lcs_fail(err, LCS_E_PARSE, "seccomp profile %s: %s", p->spec.seccomp_profile,
                            je.text);
        text = json_dumps(prof, JSON_COMPACT);
        json_decref(prof);
    }
    if (!text)
        return lcs_fail_nomem(err);
    struct rlimit rl;
    uint64_t nproc = 32768;
    if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < nproc)
        nproc = rl.rlim_cur;
    lcs_docker_create c = {&p->policy, p->image, NULL, NULL, text, NULL, LCS_ENGINE_DOCKER, 0};
    json_t *bd = lcs_docker_render_create(&c, err);
    c.seccomp = SECCOMP_FILE;
    c.flavour = LCS_ENGINE_PODMAN;
    c.nproc = nproc;
    json_t *bp = bd ? lcs_docker_render_create(&c, err) : NULL;
    char oci[PATH_MAX + 16], idx[PATH_MAX + 32];
    const char *slash = strrchr(p->rootfs, '/');
    snprintf(oci, sizeof oci, "%.*s/oci", slash ? (int)(slash - p->rootfs) : 0, p->rootfs);
    snprintf(idx, sizeof idx, "%s/index.json", oci);
    int have_oci = slash && access(idx, R_OK) == 0;
    json_t *dk = bp ? json_pack("{s:s,s:s,s:o,s:o,s:s,s:s}", "engine", engine, "image", p->image,
                                "create_docker", bd, "create_podman", bp, "seccomp_text", text,
                                "seccomp_placeholder", "seccomp=" SECCOMP_FILE)
                    : NULL;
    free(text);
    if (!dk) {
        if (!bp)
            json_decref(bd);
        return err->code ? -1 : lcs_fail_nomem(err);
    }
    if (have_oci)
        json_object_set_new(dk, "oci", json_string(oci));
    json_object_set_new(spec, "backend", json_string("docker"));
    json_object_set_new(spec, "docker", dk);
    return 0;
}

int lcs_session_create(const lcs_registry *reg, const lcs_session_options *o, lcs_session **out,
                       lcs_error *err)
{
    if (!out)
        return lcs_fail(err, LCS_E_INVALID, "no session out-parameter");
    *out = NULL;
    if (!o)
        return lcs_fail(err, LCS_E_INVALID, "no session options");
    const char *backend = lcs_sess_backend(o->backend, err);
    if (!backend)
        return -1;
    lcs_sessions_cleanup_stale(NULL);
    json_t *spec = NULL;
    int rc = -1;
    lcs_prepare_req pq = {o->image, o->rootfs, o->manifest, &o->overrides, o->seccomp_profile, 1};
    lcs_prepared p;
    if (lcs_prepare(reg, &pq, &p, err) != 0)
        return -1;
    /* jansson cannot encode inf or nan (the spec would fail as "out of
     * memory"): a bounded, finite number only */
    if (!(o->idle_timeout_seconds >= 0) || o->idle_timeout_seconds > LCS_SESS_IDLE_MAX) {
        lcs_fail(err, LCS_E_INVALID,
                 "idle timeout %g s is not a number of seconds from 0 to %d (365 days)",
                 o->idle_timeout_seconds, LCS_SESS_IDLE_MAX);
        goto out;
    }
    if (!(spec = lcs_sess_spec_json(&p.spec, o->idle_timeout_seconds, o->label, &p.policy,
                                    p.image))) {
        lcs_fail_nomem(err);
        goto out;
    }
    if (!strcmp(backend, "docker") && docker_spec(spec, &p, o, err) < 0)
        goto out;
    if (!(*out = lcs_sess_start(spec, 1, err)))
        goto out;
    rc = 0;
out:
    json_decref(spec);
    lcs_prepared_clear(&p);
    return rc;
}

lcs_session *lcs_sess_handle(const char *root, const char *id)
{
    lcs_session *s = calloc(1, sizeof *s);
    if (s) {
        snprintf(s->id, sizeof s->id, "%.16s", id);
        snprintf(s->dir, sizeof s->dir, "%s/%.16s", root, id);
    }
    return s;
}

/* A new session directory appears under its id only complete: it is
 * filled under a temporary name (spec.json, the lock file, locked) and
 * then renamed. A scan (create, open, ps) therefore never sees a session
 * directory whose lock is not held by its creator or its monitor: the
 * monitor inherits the locked descriptor, so the lock is held without a
 * gap from before the name exists until the monitor exits. */
lcs_session *lcs_sess_start(json_t *spec, int wait, lcs_error *err)
{
    char root[PATH_MAX - 64], id[LCS_SESS_ID_LEN + 1];
    if (lcs_sess_root(root, sizeof root, err) < 0)
        return NULL;
    if (lcs_random_hex(id, LCS_SESS_ID_LEN / 2, err) < 0)
        return NULL;
    lcs_session *s = lcs_sess_handle(root, id);
    if (!s) {
        lcs_fail_nomem(err);
        return NULL;
    }
    char tmp[PATH_MAX + 32], p[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s/" LCS_SESS_NEW_PREFIX "%s", root, id);
    int lockfd = -1, named = 0;
    if (mkdir(tmp, 0700) < 0) {
        lcs_fail_errno(err, "create %s", tmp);
        free(s);
        return NULL;
    }
    snprintf(p, sizeof p, "%s/spec.json", tmp);
    if (json_dump_file(spec, p, JSON_COMPACT) < 0) {
        lcs_fail_errno(err, "write %s", p);
        goto fail;
    }
    snprintf(p, sizeof p, "%s/lock", tmp);
    lockfd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    /* Waiting is safe: nobody else holds the lock of a directory this young
     * for longer than a liveness test (scans leave it alone until it is
     * LCS_SESS_LOCKLESS_AGE old). */
    if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
        lcs_fail_errno(err, "lock %s", p);
        goto fail;
    }
    if (rename(tmp, s->dir) < 0) {
        lcs_fail_errno(err, "rename %s to %s", tmp, s->dir);
        goto fail;
    }
    named = 1;
    if (spawn_monitor(s->dir, lockfd, wait, err) < 0) {
        /* A monitor that ran and failed removed the directory itself; one
         * that is still running holds the lock (cleanup leaves it). */
        close(lockfd);
        lcs_sess_cleanup_dir(s->dir, NULL);
        free(s);
        return NULL;
    }
    close(lockfd); /* the monitor holds the same lock */
    return s;
fail:
    /* Nobody else has seen this directory (no monitor ran): remove it
     * while we hold its lock. */
    lcs_rm_tree(named ? s->dir : tmp);
    if (lockfd >= 0)
        close(lockfd);
    free(s);
    return NULL;
}

lcs_session *lcs_session_open(const char *id, lcs_error *err)
{
    if (!id || !id[0] || strchr(id, '/') || strlen(id) > LCS_SESS_ID_LEN) {
        lcs_fail(err, LCS_E_INVALID, "bad session id \"%s\"", id ? id : "");
        return NULL;
    }
    lcs_sessions_cleanup_stale(NULL);
    char root[PATH_MAX - 64];
    if (lcs_sess_root(root, sizeof root, err) < 0)
        return NULL;
    DIR *d = opendir(root);
    if (!d) {
        lcs_fail_errno(err, "open %s", root);
        return NULL;
    }
    char found[LCS_SESS_ID_LEN + 1] = "";
    int matches = 0;
    struct dirent *de;
    size_t il = strlen(id);
    while ((de = readdir(d))) {
        if (strlen(de->d_name) == LCS_SESS_ID_LEN && !strncmp(de->d_name, id, il)) {
            matches++;
            snprintf(found, sizeof found, "%.16s", de->d_name);
        }
    }
    closedir(d);
    if (matches != 1) {
        lcs_fail(err, matches ? LCS_E_INVALID : LCS_E_NOT_FOUND,
                 matches ? "session id prefix %s is ambiguous" : "no session %s (see: "
                                                                 "llmcore-sandbox ps)", id);
        return NULL;
    }
    lcs_session *s = lcs_sess_handle(root, found);
    if (!s) {
        lcs_fail_nomem(err);
        return NULL;
    }
    if (!lcs_sess_alive(s->dir)) {
        lcs_fail(err, LCS_E_NOT_FOUND, "session %s is starting or gone", found);
        free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------ requests */

/* Send a request; if that fails, the monitor may have refused the
 * connection (too many clients) and said why before closing it. */
static int send_request(const lcs_session *s, int sock, json_t *req, const int *fds, int nfds,
                        lcs_error *err)
{
    if (lcs_sess_send(sock, req, fds, nfds, err) == 0)
        return 0;
    json_t *m = NULL;
    if (lcs_sess_recv(sock, &m, NULL, NULL, 0, NULL) == 0 && m) {
        const char *msg = json_string_value(json_object_get(m, "message"));
        if (msg)
            lcs_fail(err, LCS_E_IO, "session %s: %s", s->id, msg);
        json_decref(m);
    }
    return -1;
}

static json_t *call(lcs_session *s, json_t *req, int *fds, int *nfds, int timeout_ms,
                    lcs_error *err)
{
    if (!s) {
        json_decref(req);
        lcs_fail(err, LCS_E_INVALID, "no session");
        return NULL;
    }
    int sock = lcs_sess_connect(s->dir, err);
    json_t *r = NULL;
    if (sock >= 0 && send_request(s, sock, req, NULL, 0, err) == 0 &&
        lcs_sess_recv(sock, &r, fds, nfds, timeout_ms, err) == 0 && !r)
        lcs_fail(err, LCS_E_IO, "session %s: the monitor closed the connection", s->id);
    if (sock >= 0)
        close(sock);
    json_decref(req);
    if (r && !json_is_true(json_object_get(r, "ok"))) {
        const char *m = json_string_value(json_object_get(r, "message"));
        lcs_fail(err, LCS_E_IO, "session %s: %s", s->id, m ? m : "request failed");
        json_decref(r);
        if (fds && nfds)
            for (int i = 0; i < *nfds; i++)
                close(fds[i]);
        return NULL;
    }
    return r;
}

char *lcs_session_status_json(lcs_session *s, lcs_error *err)
{
    json_t *r = call(s, json_pack("{s:s}", "op", "status"), NULL, NULL, 30000, err);
    if (!r)
        return NULL;
    char *t = json_dumps(json_object_get(r, "status"), JSON_COMPACT);
    json_decref(r);
    if (!t)
        lcs_fail_nomem(err);
    return t;
}

/* The sandbox's mounts the host may operate on, each a detached clone
 * (fsops never crosses a mount point): "/" (the overlay), "/tmp",
 * "/home/sandbox/input", "/home/sandbox/output". A path is served by the
 * longest view that contains it, relative to that view. */
typedef struct rootref {
    int fd[LCS_NATIVE_VIEWS];
    char *prefix[LCS_NATIVE_VIEWS];
    int n;
    uid_t uid;
    gid_t gid;
} rootref;

static void put_root(rootref *rr)
{
    for (int i = 0; i < rr->n; i++) {
        close(rr->fd[i]);
        free(rr->prefix[i]);
    }
    rr->n = 0;
}

static int get_root(lcs_session *s, rootref *rr, lcs_error *err)
{
    memset(rr, 0, sizeof *rr);
    int fds[4], nfds = 0;
    json_t *r = call(s, json_pack("{s:s}", "op", "root"), fds, &nfds, 30000, err);
    if (!r)
        return -1;
    rr->uid = (uid_t)json_integer_value(json_object_get(r, "uid"));
    rr->gid = (gid_t)json_integer_value(json_object_get(r, "gid"));
    json_t *views = json_object_get(r, "views");
    for (int i = 0; i < nfds; i++) {
        const char *pfx = json_string_value(json_array_get(views, (size_t)i));
        if (i < LCS_NATIVE_VIEWS && pfx && (rr->prefix[rr->n] = strdup(pfx))) {
            rr->fd[rr->n++] = fds[i];
        } else {
            close(fds[i]);
        }
    }
    json_decref(r);
    if (rr->n < 1 || strcmp(rr->prefix[0], "/")) {
        put_root(rr);
        return lcs_fail(err, LCS_E_INTERNAL, "session %s: no root descriptor received", s->id);
    }
    return 0;
}

/* Pick the view for path: *fd and *sub (the path inside that view, caller
 * frees), *view_prefix ("" for the root view). */
static int pick_view(const rootref *rr, const char *path, int *fd, char **sub,
                     const char **view_prefix, lcs_error *err)
{
    char *clean = lcs_fs_clean_path(path, err);
    if (!clean)
        return -1;
    int best = 0;
    size_t best_len = 0;
    for (int i = 1; i < rr->n; i++) {
        size_t l = strlen(rr->prefix[i]);
        if (l > best_len && !strncmp(clean, rr->prefix[i], l) &&
            (clean[l] == 0 || clean[l] == '/')) {
            best = i;
            best_len = l;
        }
    }
    *fd = rr->fd[best];
    *view_prefix = best ? rr->prefix[best] : "";
    if (!best) {
        *sub = clean;
        return 0;
    }
    *sub = strdup(clean[best_len] ? clean + best_len : "/");
    free(clean);
    if (!*sub)
        return lcs_fail_nomem(err);
    return 0;
}

/* Paths reported by fsops are relative to the view: make them sandbox paths. */
static int fix_path(char **p, const char *prefix)
{
    if (!prefix[0] || !*p)
        return 0;
    size_t pl = strlen(prefix), l = strlen(*p);
    char *n = malloc(pl + l + 1);
    if (!n)
        return -1;
    memcpy(n, prefix, pl);
    if (strcmp(*p, "/"))
        memcpy(n + pl, *p, l + 1);
    else
        n[pl] = 0;
    free(*p);
    *p = n;
    return 0;
}

/* --------------------------------------------------------------- exec */

static int add_str(FILE *f, const char *v)
{
    return fwrite(v, 1, strlen(v) + 1, f) == strlen(v) + 1 ? 0 : -1;
}

typedef struct outbuf {
    int fd;
    char *buf;
    size_t len, cap;
    bool truncated;
} outbuf;

static int pump(outbuf *o, int stream, uint64_t limit, const lcs_exec_options *eo, int *over)
{
    char tmp[65536];
    ssize_t n = read(o->fd, tmp, sizeof tmp);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        close(o->fd);
        o->fd = -1;
        return 0;
    }
    size_t room = limit > o->len ? (size_t)(limit - o->len) : 0;
    size_t take = (size_t)n < room ? (size_t)n : room;
    if (take) {
        if (o->len + take + 1 > o->cap) {
            size_t nc = o->cap ? o->cap : 4096;
            while (nc < o->len + take + 1)
                nc *= 2;
            char *nb = realloc(o->buf, nc);
            if (!nb)
                return -1;
            o->buf = nb;
            o->cap = nc;
        }
        memcpy(o->buf + o->len, tmp, take);
        o->len += take;
        o->buf[o->len] = 0;
        if (eo->on_output)
            eo->on_output(eo->ctx, stream, tmp, take);
    }
    if ((size_t)n > take) {
        o->truncated = true;
        *over = 1;
    }
    return 0;
}

int lcs_session_exec(lcs_session *s, const lcs_exec_options *o, lcs_run_result *res,
                     lcs_error *err)
{
    return lcs_sess_exec(s, o, 0, res, err);
}

int lcs_sess_exec(lcs_session *s, const lcs_exec_options *o, int final, lcs_run_result *res,
                  lcs_error *err)
{
    if (!res)
        return lcs_fail(err, LCS_E_INVALID, "no result given");
    memset(res, 0, sizeof *res);
    /* 0 = the session's default; else as a policy's timeout. (jansson
     * cannot encode inf or nan: the request would fail as "out of memory".) */
    if (o && (!(o->timeout_seconds >= 0) || o->timeout_seconds > LCS_SESS_EXEC_TIMEOUT_MAX ||
              (o->timeout_seconds > 0 && o->timeout_seconds < 0.01)))
        return lcs_fail(err, LCS_E_INVALID, "exec timeout %g s is outside 0.01 s..7 days",
                        o->timeout_seconds);
    if (!s || !o || (!o->shell_command && (!o->argv || !o->argv[0] || !o->argv[0][0])))
        return lcs_fail(err, LCS_E_INVALID, "exec needs a session and a command");
    if (o->cwd && o->cwd[0] != '/')
        return lcs_fail(err, LCS_E_INVALID, "working directory %s must be absolute", o->cwd);
    int rc = -1, sock = -1, mfd = -1, nullfd = -1;
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1};
    outbuf ob = {-1, NULL, 0, 0, false}, eb = {-1, NULL, 0, 0, false};
    json_t *req = NULL, *result = NULL;
    /* the request blob: argv, env additions, cwd */
    mfd = memfd_create("lcs-exec-request", MFD_CLOEXEC);
    FILE *f = mfd >= 0 ? fdopen(dup(mfd), "w") : NULL;
    if (!f) {
        lcs_fail_errno(err, "memfd for the exec request");
        goto out;
    }
    uint32_t nargv = 0, nenv = 0;
    int bad = 0;
    if (o->shell_command) {
        bad |= add_str(f, "/bin/sh") | add_str(f, "-c") | add_str(f, o->shell_command);
        nargv = 3;
    } else {
        for (; o->argv[nargv]; nargv++)
            bad |= add_str(f, o->argv[nargv]);
    }
    for (; o->env && o->env[nenv]; nenv++) {
        if (!strchr(o->env[nenv], '=')) {
            fclose(f);
            lcs_fail(err, LCS_E_INVALID, "environment entry \"%s\" has no '='", o->env[nenv]);
            goto out;
        }
        bad |= add_str(f, o->env[nenv]);
    }
    bad |= add_str(f, o->cwd ? o->cwd : "");
    long blen = ftell(f);
    if (fclose(f) != 0 || bad || blen <= 0) {
        lcs_fail_errno(err, "write the exec request");
        goto out;
    }
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        lcs_fail_errno(err, "pipes for the exec");
        goto out;
    }
    int stdin_fd;
    if (o->stdin_len) {
        if (pipe2(inp, O_CLOEXEC) < 0) {
            lcs_fail_errno(err, "pipe for stdin");
            goto out;
        }
        stdin_fd = inp[0];
        fcntl(inp[1], F_SETFL, O_NONBLOCK);
    } else {
        if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
            lcs_fail_errno(err, "open /dev/null");
            goto out;
        }
        stdin_fd = nullfd;
    }
    if ((sock = lcs_sess_connect(s->dir, err)) < 0)
        goto out;
    req = json_pack("{s:s,s:f,s:I,s:i,s:i,s:b}", "op", "exec", "timeout", o->timeout_seconds,
                    "blob_len", (json_int_t)blen, "nargv", (int)nargv, "nenv", (int)nenv,
                    "final", final);
    int fds[4] = {stdin_fd, outp[1], errp[1], mfd};
    if (send_request(s, sock, req, fds, 4, err) < 0)
        goto out;
    /* The command holds the other ends now. */
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    if (inp[0] >= 0) {
        close(inp[0]);
        inp[0] = -1;
    }
    ob.fd = outp[0];
    eb.fd = errp[0];
    outp[0] = errp[0] = -1;
    fcntl(ob.fd, F_SETFL, O_NONBLOCK);
    fcntl(eb.fd, F_SETFL, O_NONBLOCK);
    uint64_t limit = o->output_bytes ? o->output_bytes : session_output_cap(s);
    size_t in_off = 0;
    int over = 0, kill_sent = 0;
    double drain_until = 0;
    for (;;) {
        if (result && ((ob.fd < 0 && eb.fd < 0) || lcs_now() >= drain_until))
            break;
        struct pollfd pf[4];
        int n = 0, io = -1, ie = -1, ii = -1, is = -1;
        if (ob.fd >= 0)
            pf[io = n++] = (struct pollfd){ob.fd, POLLIN, 0};
        if (eb.fd >= 0)
            pf[ie = n++] = (struct pollfd){eb.fd, POLLIN, 0};
        if (inp[1] >= 0)
            pf[ii = n++] = (struct pollfd){inp[1], POLLOUT, 0};
        if (!result && sock >= 0)
            pf[is = n++] = (struct pollfd){sock, POLLIN, 0};
        int ms = result ? (int)((drain_until - lcs_now()) * 1000) + 1 : 1000;
        int pr = poll(pf, (nfds_t)n, ms < 1 ? 1 : ms);
        if (pr < 0 && errno != EINTR) {
            lcs_fail_errno(err, "poll");
            goto out;
        }
        if (pr <= 0)
            continue;
        if (io >= 0 && pf[io].revents && pump(&ob, 1, limit, o, &over) < 0) {
            lcs_fail_nomem(err);
            goto out;
        }
        if (ie >= 0 && pf[ie].revents && pump(&eb, 2, limit, o, &over) < 0) {
            lcs_fail_nomem(err);
            goto out;
        }
        if (over && !kill_sent && !result) {
            json_t *k = json_pack("{s:s,s:b}", "op", "kill", "output", 1);
            lcs_sess_send(sock, k, NULL, 0, NULL);
            json_decref(k);
            kill_sent = 1;
        }
        if (ii >= 0 && pf[ii].revents) {
            ssize_t w = (pf[ii].revents & (POLLERR | POLLHUP))
                            ? -1
                            : write(inp[1], (const char *)o->stdin_data + in_off,
                                    o->stdin_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off >= o->stdin_len) {
                close(inp[1]);
                inp[1] = -1;
            }
        }
        if (is >= 0 && pf[is].revents) {
            json_t *m = NULL;
            if (lcs_sess_recv(sock, &m, NULL, NULL, 0, err) < 0)
                goto out;
            if (!m) {
                lcs_fail(err, LCS_E_IO, "session %s: the monitor went away during the exec",
                         s->id);
                goto out;
            }
            const char *ev = json_string_value(json_object_get(m, "event"));
            if (ev && !strcmp(ev, "result")) {
                result = m;
                /* Background processes may keep the pipes open: take what
                 * is there, briefly, then stop reading. */
                drain_until = lcs_now() + 0.25;
                continue;
            }
            if (ev && !strcmp(ev, "error")) {
                const char *msg = json_string_value(json_object_get(m, "message"));
                if (json_is_true(json_object_get(m, "cwd")))
                    lcs_fail(err, LCS_E_IO,
                             "session %s: exec failed: cannot change to the working directory "
                             "%s: %s",
                             s->id, o->cwd ? o->cwd : "(the session's)", msg ? msg : "?");
                else
                    lcs_fail(err, LCS_E_IO, "session %s: exec failed: %s", s->id,
                             msg ? msg : "?");
                json_decref(m);
                goto out;
            }
            json_decref(m);
        }
    }
    /* Output past the cap is the verdict, first in priority as for one-shot
     * runs, also when the command ended before the monitor's kill did. */
    snprintf(res->verdict, sizeof res->verdict, "%s",
             ob.truncated || eb.truncated ? "output"
                                          : json_string_value(json_object_get(result, "verdict")));
    res->exit_code = (int)json_integer_value(json_object_get(result, "exit_code"));
    res->signal = (int)json_integer_value(json_object_get(result, "signal"));
    res->wall_seconds = json_number_value(json_object_get(result, "wall_seconds"));
    res->cpu_seconds = json_number_value(json_object_get(result, "cpu_seconds"));
    res->peak_memory_bytes = (uint64_t)json_integer_value(json_object_get(result,
                                                                          "peak_memory_bytes"));
    res->stdout_data = ob.buf ? ob.buf : strdup("");
    res->stdout_len = ob.len;
    res->stdout_truncated = ob.truncated;
    res->stderr_data = eb.buf ? eb.buf : strdup("");
    res->stderr_len = eb.len;
    res->stderr_truncated = eb.truncated;
    ob.buf = eb.buf = NULL;
    res->enforced_json = json_dumps(json_object_get(result, "enforced"), JSON_COMPACT);
    res->policy_json = json_dumps(json_object_get(result, "policy"), JSON_COMPACT);
    if (!res->stdout_data || !res->stderr_data || !res->enforced_json || !res->policy_json) {
        lcs_run_result_clear(res);
        lcs_fail_nomem(err);
        goto out;
    }
    rc = 0;
out:
    json_decref(req);
    json_decref(result);
    int all[] = {sock, mfd, nullfd, outp[0], outp[1], errp[0], errp[1], inp[0], inp[1], ob.fd,
                 eb.fd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] >= 0)
            close(all[i]);
    free(ob.buf);
    free(eb.buf);
    if (rc < 0) {
        memset(res, 0, sizeof *res);
        snprintf(res->verdict, sizeof res->verdict, "internal");
        res->exit_code = -1;
    }
    return rc;
}

/* -------------------------------------------------------------- files */

/* File operations run as the sandbox user: a filesystem mounted in the
 * sandbox's user namespace refuses to create files for a host id it does
 * not map (EOVERFLOW), and permission checks should be the sandbox user's
 * anyway. setfsuid/setfsgid change only the calling thread's filesystem
 * ids (the raw syscalls are per thread) and are restored afterwards;
 * rootless callers already are the sandbox user. */
typedef struct fsids {
    int changed;
    int uid, gid;
} fsids;

static void become_sandbox_user(const rootref *rr, fsids *saved)
{
    /* every field set on every path: restore_ids reads only what this
     * wrote, and a compiler need not prove that */
    *saved = (fsids){.changed = geteuid() == 0, .uid = -1, .gid = -1};
    if (!saved->changed)
        return;
    saved->gid = setfsgid(rr->gid);
    saved->uid = setfsuid(rr->uid);
}

static void restore_ids(const fsids *saved)
{
    if (!saved->changed)
        return;
    setfsuid((uid_t)saved->uid);
    setfsgid((gid_t)saved->gid);
}

/* Run body with: fd (the view's root), sub (the path in it), pfx (the
 * view's sandbox path, "" for "/"), rr.uid/rr.gid, as the sandbox user. */
#define WITH_VIEW(s, path, err, body)                                                          \
    do {                                                                                       \
        rootref rr;                                                                            \
        fsids ids_;                                                                            \
        int fd;                                                                                \
        char *sub;                                                                             \
        const char *pfx;                                                                       \
        if (get_root((s), &rr, (err)) < 0)                                                     \
            return -1;                                                                         \
        if (pick_view(&rr, (path), &fd, &sub, &pfx, (err)) < 0) {                              \
            put_root(&rr);                                                                     \
            return -1;                                                                         \
        }                                                                                      \
        become_sandbox_user(&rr, &ids_);                                                       \
        int rc_ = (body);                                                                      \
        restore_ids(&ids_);                                                                    \
        if (rc_ < 0 && pfx[0] && err)                                                          \
            lcs_error_prefix(err, "%s: ", pfx);                                                \
        free(sub);                                                                             \
        put_root(&rr);                                                                         \
        return rc_;                                                                            \
    } while (0)

int lcs_session_write_file(lcs_session *s, const char *path, int src_fd, uint32_t mode,
                           lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_write(fd, sub, src_fd, mode, false, rr.uid, rr.gid, err));
}

int lcs_session_write_data(lcs_session *s, const char *path, const void *data, size_t len,
                           bool append, lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_write_data(fd, sub, data, len, 0, append, rr.uid, rr.gid, err));
}

int lcs_session_read_file(lcs_session *s, const char *path, int dst_fd, lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_read(fd, sub, dst_fd, err));
}

int lcs_session_read_data(lcs_session *s, const char *path, void **data, size_t *len,
                          lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_read_data(fd, sub, data, len, err));
}

int lcs_session_read_file_max(lcs_session *s, const char *path, int dst_fd, uint64_t max_bytes,
                              uint64_t *written, lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_read_max(fd, sub, dst_fd, max_bytes, written, err));
}

int lcs_session_read_prefix(lcs_session *s, const char *path, size_t max, void **data, size_t *len,
                            uint64_t *size, lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_read_prefix(fd, sub, max, data, len, size, err));
}

static int list_fixed(int fd, const char *sub, const char *pfx, bool recursive,
                      lcs_file_list *out, lcs_error *err)
{
    if (lcs_fs_list(fd, sub, recursive, out, err) < 0)
        return -1;
    for (size_t i = 0; i < out->count; i++)
        if (fix_path(&out->items[i].path, pfx) < 0) {
            lcs_file_list_clear(out);
            return lcs_fail_nomem(err);
        }
    return 0;
}

static int stat_fixed(int fd, const char *sub, const char *pfx, lcs_file_info *out,
                      lcs_error *err)
{
    if (lcs_fs_stat(fd, sub, out, err) < 0)
        return -1;
    if (fix_path(&out->path, pfx) < 0) {
        lcs_file_info_clear(out);
        return lcs_fail_nomem(err);
    }
    return 0;
}

int lcs_session_list_files(lcs_session *s, const char *path, bool recursive, lcs_file_list *out,
                           lcs_error *err)
{
    WITH_VIEW(s, path ? path : LCS_FS_WORKSPACE, err,
              list_fixed(fd, sub, pfx, recursive, out, err));
}

int lcs_session_stat(lcs_session *s, const char *path, lcs_file_info *out, lcs_error *err)
{
    WITH_VIEW(s, path, err, stat_fixed(fd, sub, pfx, out, err));
}

int lcs_session_remove(lcs_session *s, const char *path, bool recursive, lcs_error *err)
{
    /* Never the workspace or a directory above it: the session's working
     * directory would vanish under its commands. */
    char *clean = lcs_fs_clean_path(path, err);
    if (!clean)
        return -1;
    if (lcs_fs_holds_workspace(clean)) {
        lcs_fail(err, LCS_E_DENIED, "refusing to remove %s: it is %s", clean,
                 strcmp(clean, LCS_FS_WORKSPACE) ? "a directory the workspace is in"
                                                 : "the workspace itself");
        free(clean);
        return -1;
    }
    free(clean);
    WITH_VIEW(s, path, err, lcs_fs_remove(fd, sub, recursive, err));
}

int lcs_session_mkdir(lcs_session *s, const char *path, bool parents, lcs_error *err)
{
    WITH_VIEW(s, path, err, lcs_fs_mkdir(fd, sub, parents, 0, rr.uid, rr.gid, err));
}

int lcs_session_export(lcs_session *s, const char *path, int tar_fd, lcs_error *err)
{
    return lcs_session_export_max(s, path, tar_fd, 0, err);
}

int lcs_session_export_max(lcs_session *s, const char *path, int tar_fd, uint64_t max_bytes,
                           lcs_error *err)
{
    WITH_VIEW(s, path ? path : LCS_FS_WORKSPACE, err,
              lcs_fs_export_tar_max(fd, sub, tar_fd, max_bytes, err));
}

/* The exporting half of keeping a workspace, on its own thread: it writes
 * the tar stream into a pipe that the caller's thread unpacks, so the
 * archive is never held anywhere (a memory file would hold all of it). */
typedef struct export_job {
    lcs_session *s;
    int fd;
    uint64_t max_bytes;
    int rc;
    lcs_error err;
} export_job;

static void *export_main(void *arg)
{
    export_job *j = arg;
    /* An unpacker that gave up closes its end: this thread then gets EPIPE
     * instead of a SIGPIPE that would kill the caller's process (the
     * signal stays pending on this thread and goes with it). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    j->rc = lcs_session_export_max(j->s, NULL, j->fd, j->max_bytes, &j->err);
    close(j->fd);
    return NULL;
}

static int keep_workspace(lcs_session *s, const char *dir, uint64_t max_bytes, lcs_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return lcs_fail_errno(err, "pipe for the workspace");
    export_job j = {.s = s, .fd = p[1], .max_bytes = max_bytes};
    lcs_error_clear(&j.err);
    pthread_t th;
    int e = pthread_create(&th, NULL, export_main, &j);
    if (e != 0) {
        close(p[0]);
        close(p[1]);
        errno = e;
        return lcs_fail_errno(err, "thread for the workspace export");
    }
    lcs_error xe;
    lcs_error_clear(&xe);
    int xrc = lcs_tar_extract_max(p[0], dir, max_bytes, &xe);
    close(p[0]); /* unblocks the exporter if the unpacking stopped early */
    pthread_join(th, NULL);
    /* The exporter's own failure (its budget, a read error) is the cause;
     * a broken stream is then only its consequence on this side. */
    if (j.rc < 0 && j.err.sys_errno != EPIPE) {
        if (err)
            *err = j.err;
        return -1;
    }
    if (xrc < 0 || j.rc < 0) {
        if (err)
            *err = xrc < 0 ? xe : j.err;
        return -1;
    }
    return 0;
}

int lcs_session_destroy(lcs_session *s, const char *keep_workspace_dir, lcs_error *err)
{
    return lcs_session_destroy_keep(s, keep_workspace_dir, 0, err);
}

int lcs_session_destroy_keep(lcs_session *s, const char *keep_workspace_dir, uint64_t max_bytes,
                             lcs_error *err)
{
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "no session");
    if (keep_workspace_dir) {
        if (mkdir(keep_workspace_dir, 0755) < 0 && errno != EEXIST) {
            lcs_fail_errno(err, "create %s", keep_workspace_dir);
            return -1; /* the session is kept: nothing is lost */
        }
        if (keep_workspace(s, keep_workspace_dir, max_bytes, err) < 0) {
            lcs_error_prefix(err, "session %s kept (copying its workspace out failed): ", s->id);
            return -1;
        }
    }
    json_t *r = call(s, json_pack("{s:s}", "op", "destroy"), NULL, NULL, 60000, err);
    int rc = r ? 0 : -1;
    json_decref(r);
    if (rc < 0 && !lcs_sess_alive(s->dir)) {
        /* the monitor died meanwhile: clean up after it */
        lcs_sess_cleanup_dir(s->dir, NULL);
        rc = 0;
    }
    free(s);
    return rc;
}

/* ------------------------------------------------------------- listing */

static int scan(json_t *list, lcs_error *err)
{
    char root[PATH_MAX - 64];
    if (lcs_sess_root(root, sizeof root, err) < 0)
        return -1;
    DIR *d = opendir(root);
    if (!d)
        return lcs_fail_errno(err, "open %s", root);
    int cleaned = 0;
    struct dirent *de;
    size_t npfx = strlen(LCS_SESS_NEW_PREFIX);
    while ((de = readdir(d))) {
        char dir[PATH_MAX + 32], p[PATH_MAX + 64];
        if (!strncmp(de->d_name, LCS_SESS_NEW_PREFIX, npfx) &&
            strlen(de->d_name) == npfx + LCS_SESS_ID_LEN) {
            /* A creator that died before naming its directory. One still
             * at work holds the lock or has not made it yet. The age is
             * checked first: a young directory's lock is not even tested,
             * since a test could land between the creator's creating the
             * lock file and locking it. */
            snprintf(dir, sizeof dir, "%s/%.24s", root, de->d_name);
            struct stat st;
            if (lstat(dir, &st) == 0 &&
                lcs_sess_wallclock() - (double)st.st_mtime >= LCS_SESS_LOCKLESS_AGE &&
                lcs_sess_lock_state(dir) != LCS_SESS_LIVE)
                cleaned += lcs_sess_cleanup_dir(dir, NULL) > 0;
            continue;
        }
        if (strlen(de->d_name) != LCS_SESS_ID_LEN)
            continue;
        snprintf(dir, sizeof dir, "%s/%.16s", root, de->d_name);
        int ls = lcs_sess_lock_state(dir);
        if (ls == LCS_SESS_DEAD || ls == LCS_SESS_NO_LOCK) {
            /* proven dead, or lockless (cleaned once old: proto.c) */
            cleaned += lcs_sess_cleanup_dir(dir, NULL) > 0;
            continue;
        }
        if (!list)
            continue;
        snprintf(p, sizeof p, "%s/info.json", dir);
        json_t *info = json_load_file(p, 0, NULL);
        if (!info)
            continue; /* still starting */
        json_object_del(info, "resources");
        json_object_set_new(info, "state", json_string("running"));
        json_array_append_new(list, info);
    }
    closedir(d);
    return cleaned;
}

char *lcs_sessions_list_json(lcs_error *err)
{
    json_t *list = json_array();
    if (!list || scan(list, err) < 0) {
        json_decref(list);
        return NULL;
    }
    char *t = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    if (!t)
        lcs_fail_nomem(err);
    return t;
}

int lcs_sessions_cleanup_stale(lcs_error *err)
{
    return scan(NULL, err);
}
