/*
 * monitor.c - the session monitor: one detached host process per session
 * (llmcore-sandbox-monitor SESSION_DIR), outside every namespace.
 *
 * It owns the sandbox (lcs_native_sandbox: cgroups, pasta, run directory,
 * init), the control socket <dir>/control.sock (SOCK_SEQPACKET, directory
 * 0700), per-exec cgroups, timeouts and accounting, and <dir>/info.json.
 * It is exec'ed (never a fork of a caller that may be a multithreaded
 * Python process), forks once more so it is nobody's child, and holds
 * <dir>/lock for as long as it lives: a lock anyone can take means the
 * monitor is gone and the session is stale (proto.c cleans it).
 *
 * If the monitor dies, init gets SIGKILL (PR_SET_PDEATHSIG) and the pid
 * namespace goes with it; the cgroups, pasta and the run directory are
 * listed in info.json for the next command to remove.
 *
 * Exec lifecycle (messages in native.h and docs/sessions.md):
 *   client --exec(stdin, stdout, stderr, blob)--> monitor: exec cgroup,
 *   its cgroup.procs opened --EXEC(stdio, blob, procs fds)--> init: vfork,
 *   the child writes "0" into the procs files (so it is in the exec cgroup
 *   before it runs anything), drops privileges, execve;
 *   --EXITED(status)--> monitor: verdict --result--> client.
 * One message each way between monitor and init per exec. On a kernel that
 * checks a cgroup.procs write against the writer rather than the opener,
 * init falls back to the handshake: fork, child waits --STARTED(pidfd)-->
 * monitor: host pid into the exec cgroup --GO--> child runs.
 * Output never passes through the monitor: the command writes straight
 * into the client's pipes; the client enforces the output cap and asks
 * for a kill when it is exceeded ("kill"). The monitor enforces the
 * timeout by killing the exec's cgroup (cgroup.kill, or the v1 freezer),
 * which takes double-forked daemons of that exec too; the session stays.
 */
#include "session/session_int.h"
#include "util/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/rmtree.h"
#include "runtime/native/native.h"
#include "runtime/verdict.h"

/* Connections served at once. Past this (or past what the descriptor
 * limit allows) a new connection gets an error message naming the limit
 * and is closed. */
#define MAX_CLIENTS 1024
/* How often the monitor checks that its directory, lock and socket are
 * still its own, and retries removing the cgroups of ended execs whose
 * background processes were still running. */
#define CHECK_INTERVAL 1.0

typedef struct exec_t {
    int used;
    uint32_t id;
    int client;             /* index in clients, -1 once it left */
    lcs_native_execcg cg;
    int have_cg;
    int go_sent;
    double t0, deadline;
    int timed_out, output_exceeded;
    uint64_t oom0, pids0;
} exec_t;

typedef struct client_t {
    int fd;                 /* -1: free slot */
    int exec;               /* index in execs, or -1 */
} client_t;

typedef struct mon {
    char dir[PATH_MAX];
    char id[64];
    lcs_native_sandbox *sb;
    int ctl, lfd, sfd;
    int addr_fd;            /* FULL network: the host's address changes */
    client_t clients[MAX_CLIENTS];
    int max_clients;        /* MAX_CLIENTS, or less with a low fd limit */
    int nclients_hw;        /* slots in use are below this index */
    double accept_paused_until; /* accept failed (EMFILE): retry later */
    exec_t execs[LCS_NATIVE_MAX_EXECS];
    /* Cgroups of ended execs whose background processes still run: removed
     * once empty (checked every CHECK_INTERVAL, busy or not). */
    lcs_native_execcg *linger;
    size_t nlinger, linger_cap;
    double next_check;
    /* The directory, lock and socket as they were made: if any path stops
     * naming them (a tmp cleaner, an rm -rf), nobody can find or reach the
     * session any more, and the monitor shuts the sandbox down. */
    int dirfd, lockfd;
    struct stat dir_st, lock_st, sock_st;
    uint32_t next_id;
    double idle_timeout, last_active, default_timeout;
    uint64_t execs_total;
    uint64_t execs_born; /* cloned by init straight into their cgroup2 directory */
    uint64_t handshake_execs; /* moved into their cgroups by STARTED/GO */
    int destroy_requested;  /* 1 + index of the client that asked */
    int warm;               /* a warm sandbox: serves one final exec */
    int registered;         /* warm: its pool slot was made */
    int claimed;            /* warm: the final exec arrived */
    int done;               /* warm: the final exec is answered */
    json_t *spec;
    json_t *info;
    json_t *enforced, *policy;
    const char **env;       /* the session's environment */
    size_t nenv;
} mon;

/* ----------------------------------------------------------- the spec */

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int spec_from_json(mon *M, lcs_native_spec *s, lcs_error *err)
{
    json_t *j = M->spec;
    memset(s, 0, sizeof *s);
    s->rootfs = jstr(j, "rootfs");
    json_t *env = json_object_get(j, "env");
    M->nenv = json_array_size(env);
    M->env = calloc(M->nenv + 1, sizeof *M->env);
    if (!M->env)
        return lcs_fail_nomem(err);
    for (size_t i = 0; i < M->nenv; i++)
        M->env[i] = json_string_value(json_array_get(env, i));
    s->env = M->env;
    s->cwd = jstr(j, "cwd");
    s->uid = (uid_t)json_integer_value(json_object_get(j, "uid"));
    s->gid = (gid_t)json_integer_value(json_object_get(j, "gid"));
    s->network = (int)json_integer_value(json_object_get(j, "network"));
    s->writable_root = json_is_true(json_object_get(j, "writable_root"));
    s->memory_bytes = (uint64_t)json_integer_value(json_object_get(j, "memory_bytes"));
    s->cpus = json_number_value(json_object_get(j, "cpus"));
    s->pids = (uint32_t)json_integer_value(json_object_get(j, "pids"));
    s->timeout_s = json_number_value(json_object_get(j, "timeout_s"));
    s->output_limit_bytes = (uint64_t)json_integer_value(json_object_get(j, "output_limit_bytes"));
    s->fsize_bytes = (uint64_t)json_integer_value(json_object_get(j, "fsize_bytes"));
    s->nofile = (uint32_t)json_integer_value(json_object_get(j, "nofile"));
    s->tmp_bytes = (uint64_t)json_integer_value(json_object_get(j, "tmp_bytes"));
    s->layer_bytes = (uint64_t)json_integer_value(json_object_get(j, "layer_bytes"));
    s->input_dir = jstr(j, "input_dir");
    s->output_dir = jstr(j, "output_dir");
    s->seccomp_profile = jstr(j, "seccomp_profile");
    s->allow_degraded = json_is_true(json_object_get(j, "allow_degraded"));
    s->state_dir = jstr(j, "state_dir");
    M->idle_timeout = json_number_value(json_object_get(j, "idle_timeout"));
    M->warm = json_is_object(json_object_get(j, "warm"));
    /* The exec handshake, normally only a fallback, on request (tests). */
    const char *hs = getenv("LLMCORE_SANDBOX_EXEC_HANDSHAKE");
    s->exec_handshake = hs && !strcmp(hs, "1");
    M->default_timeout = s->timeout_s > 0 ? s->timeout_s : 30.0;
    if (!s->rootfs)
        return lcs_fail(err, LCS_E_INVALID, "session spec has no rootfs");
    return 0;
}

static int write_info(mon *M, lcs_error *err)
{
    char *ej = lcs_native_sandbox_enforced_json(M->sb);
    char *rj = lcs_native_sandbox_resources_json(M->sb);
    M->enforced = ej ? json_loads(ej, 0, NULL) : NULL;
    json_t *res = rj ? json_loads(rj, 0, NULL) : NULL;
    free(ej);
    free(rj);
    M->policy = json_incref(json_object_get(M->spec, "policy"));
    json_t *img = json_object_get(M->spec, "image");
    json_t *lab = json_object_get(M->spec, "label");
    M->info = json_pack("{s:s,s:O,s:O,s:f,s:i,s:i,s:O,s:O,s:o,s:f}", "id", M->id, "image",
                        img ? img : json_null(), "label", lab ? lab : json_null(), "created",
                        lcs_sess_wallclock(), "monitor_pid", (int)getpid(), "init_pid",
                        (int)lcs_native_sandbox_init_pid(M->sb), "policy",
                        M->policy ? M->policy : json_null(), "enforced",
                        M->enforced ? M->enforced : json_null(), "resources",
                        res ? res : json_object(), "idle_timeout", M->idle_timeout);
    if (!M->info)
        return lcs_fail_nomem(err);
    return lcs_sess_write_info(M->dir, M->info, err);
}

/* ------------------------------------------------------------- execs */

static void reply(mon *M, int ci, json_t *msg)
{
    if (ci >= 0 && M->clients[ci].fd >= 0)
        lcs_sess_send(M->clients[ci].fd, msg, NULL, 0, NULL);
    json_decref(msg);
}

static void kill_exec(mon *M, exec_t *x)
{
    if (x->have_cg && (x->cg.v2[0] || x->cg.freezer[0])) {
        lcs_native_execcg_kill(&x->cg);
    } else {
        lcs_native_msg m = {.type = LCS_MSG_KILL, .id = x->id};
        send(M->ctl, &m, sizeof m, MSG_NOSIGNAL);
    }
}

static void finish_exec(mon *M, exec_t *x)
{
    if (x->have_cg && lcs_native_execcg_remove(&x->cg) < 0) {
        /* Background processes of this exec still live: the cgroup stays
         * until they are gone (checked every CHECK_INTERVAL), or until
         * destroy. Without memory for the list it is still removed at
         * destroy (the session's cgroup goes with its children). */
        if (M->nlinger == M->linger_cap) {
            size_t nc = M->linger_cap ? 2 * M->linger_cap : 16;
            lcs_native_execcg *nl = realloc(M->linger, nc * sizeof *nl);
            if (nl) {
                M->linger = nl;
                M->linger_cap = nc;
            }
        }
        if (M->nlinger < M->linger_cap)
            M->linger[M->nlinger++] = x->cg;
    }
    if (x->client >= 0)
        M->clients[x->client].exec = -1;
    memset(x, 0, sizeof *x);
    M->last_active = lcs_now();
    /* A warm sandbox's one exec is over: it is used up. */
    if (M->claimed)
        M->done = 1;
}

static void send_result(mon *M, exec_t *x, const char *v, int exit_code, int sig, double cpu,
                        uint64_t peak);

static void start_exec(mon *M, int ci, json_t *req, int *fds, int nfds)
{
    lcs_error err;
    lcs_error_clear(&err);
    exec_t *x = NULL;
    if (nfds != 4 || M->clients[ci].exec >= 0) {
        lcs_fail(&err, LCS_E_INVALID, nfds != 4 ? "exec request needs 4 descriptors"
                                                : "an exec is already running on this connection");
        goto fail;
    }
    for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++)
        if (!M->execs[i].used) {
            x = &M->execs[i];
            break;
        }
    if (!x) {
        lcs_fail(&err, LCS_E_UNSUPPORTED, "too many concurrent execs in this session (max %d)",
                 LCS_NATIVE_MAX_EXECS);
        goto fail;
    }
    /* The blob (argv, environment additions, cwd) goes to init as the
     * client wrote it: init reads it into its own memory and applies the
     * additions to the session's environment (session_init.c). A memfd
     * only: init must never block reading it. */
    json_int_t blen = json_integer_value(json_object_get(req, "blob_len"));
    uint32_t nargv = (uint32_t)json_integer_value(json_object_get(req, "nargv"));
    uint32_t nadd = (uint32_t)json_integer_value(json_object_get(req, "nenv"));
    if (blen <= 0 || blen > (64 << 20) || nargv == 0) {
        lcs_fail(&err, LCS_E_INVALID, "exec request without a command");
        goto fail;
    }
    if (fcntl(fds[3], F_GET_SEALS) < 0) {
        lcs_fail(&err, LCS_E_INVALID, "exec request: the command must come in a memfd");
        goto fail;
    }
    memset(x, 0, sizeof *x);
    x->used = 1;
    x->id = ++M->next_id;
    x->client = ci;
    /* A session at its pids limit cannot start the command: its first
     * process would be one too many. (Checked here too because where init
     * is outside the session's cgroup, as with memory in cgroup v2, init's
     * fork is not counted against the limit; elsewhere that fork fails
     * with EAGAIN: exec_failed.) */
    if (lcs_native_sandbox_pids_full(M->sb)) {
        x->t0 = lcs_now();
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        send_result(M, x, "pids", -1, 0, 0.0, 0);
        return;
    }
    int pfds[3], npfds = 0;
    /* A warm sandbox's one exec has the sandbox's cgroups to itself (they
     * give its verdicts; its cpu time comes from init's rusage, a timeout
     * kills its process group and the teardown right after its answer
     * kills the rest). Every other exec gets cgroups of its own. */
    if (!M->claimed) {
        if (lcs_native_execcg_create(M->sb, x->id, &x->cg, &err) < 0) {
            memset(x, 0, sizeof *x);
            goto fail;
        }
        x->have_cg = 1;
    } else {
        /* still into the memory cgroup, which init is not in */
        lcs_native_execcg_memory_only(M->sb, &x->cg);
    }
    npfds = lcs_native_execcg_open_procs(&x->cg, pfds, &err);
    if (npfds < 0) {
        if (x->have_cg)
            lcs_native_execcg_remove(&x->cg);
        memset(x, 0, sizeof *x);
        goto fail;
    }
    double t = json_number_value(json_object_get(req, "timeout"));
    x->t0 = lcs_now();
    x->deadline = x->t0 + (t > 0 ? t : M->default_timeout);
    lcs_native_sandbox_counters(M->sb, &x->oom0, &x->pids0, NULL, NULL);
    lcs_native_msg m = {.type = LCS_MSG_EXEC, .id = x->id, .value = (int32_t)blen,
                        .nargv = nargv, .nenv = nadd};
    /* stdio, the blob, and the exec cgroup's cgroup.procs files: the
     * child moves itself in before it runs anything (session_init.c). */
    int sendfds[8] = {fds[0], fds[1], fds[2], fds[3], -1, -1, -1, -1};
    for (int i = 0; i < npfds; i++)
        sendfds[4 + i] = pfds[i];
    int nsend = 4 + npfds, pidx = -1;
    /* and, where init may clone the command straight into it, the exec's
     * cgroup2 directory (no cgroup.procs write: session_init.c) */
    int dirfd = x->have_cg ? lcs_native_execcg_open_dir(M->sb, &x->cg, &pidx) : -1;
    if (dirfd >= 0 && pidx >= 0 && pidx < npfds) {
        m.cgdir = (uint32_t)(4 + pidx + 1);
        sendfds[nsend++] = dirfd;
    }
    ssize_t sent = lcs_send_with_fds(M->ctl, &m, sizeof m, sendfds, nsend);
    for (int i = 0; i < npfds; i++)
        close(pfds[i]);
    if (dirfd >= 0)
        close(dirfd);
    if (sent != (ssize_t)sizeof m) {
        lcs_fail_errno(&err, "hand the exec to the sandbox's init");
        if (x->have_cg)
            lcs_native_execcg_remove(&x->cg);
        memset(x, 0, sizeof *x);
        goto fail;
    }
    M->clients[ci].exec = (int)(x - M->execs);
    M->execs_total++;
    M->last_active = lcs_now();
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    return;
fail:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    reply(M, ci, json_pack("{s:s,s:s,s:s}", "event", "error", "code",
                           lcs_status_name(err.code), "message", err.message));
}

static exec_t *find_exec(mon *M, uint32_t id)
{
    for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++)
        if (M->execs[i].used && M->execs[i].id == id)
            return &M->execs[i];
    return NULL;
}

static pid_t pid_of_pidfd(int pfd)
{
    char p[64], buf[4096];
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", pfd);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *l = strstr(buf, "\nPid:");
    return l ? (pid_t)atoi(l + 5) : -1;
}

static void send_result(mon *M, exec_t *x, const char *v, int exit_code, int sig, double cpu,
                        uint64_t peak)
{
    json_t *r = json_pack("{s:s,s:s,s:i,s:i,s:f,s:f,s:I,s:O,s:O}", "event", "result", "verdict", v,
                          "exit_code", exit_code, "signal", sig, "wall_seconds", lcs_now() - x->t0,
                          "cpu_seconds", cpu, "peak_memory_bytes", (json_int_t)peak, "enforced",
                          M->enforced ? M->enforced : json_null(), "policy",
                          M->policy ? M->policy : json_null());
    reply(M, x->client, r);
    finish_exec(M, x);
}

static void exec_result(mon *M, exec_t *x, const lcs_native_msg *m)
{
    int ws = m->value;
    uint64_t oom, pids;
    lcs_native_sandbox_counters(M->sb, &oom, &pids, NULL, NULL);
    const char *v = lcs_verdict(ws, x->output_exceeded, oom > x->oom0, pids > x->pids0,
                                x->timed_out, m->nargv == LCS_EXITED_DENIED);
    double cpu = x->have_cg ? lcs_native_execcg_cpu(&x->cg) : -1;
    if (cpu < 0)
        cpu = (double)(m->utime_us + m->stime_us) / 1e6;
    send_result(M, x, v, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0,
                cpu, (uint64_t)m->maxrss_kb * 1024);
}

/* Init could not start the exec. EAGAIN from its fork with the session at
 * its pids limit (the limit's counter grew, or the cgroup is full) is the
 * limit stopping the command: the pids verdict (exit 125 in the CLI), as
 * for a command whose own fork fails; anything else is an error. */
static void exec_failed(mon *M, exec_t *x, int e, int what)
{
    if (what == LCS_FAILED_CWD) {
        /* the client names the directory (it sent it) */
        reply(M, x->client, json_pack("{s:s,s:s,s:s,s:b}", "event", "error", "code", "io",
                                      "message", strerror(e), "cwd", 1));
        finish_exec(M, x);
        return;
    }
    if (e == EAGAIN) {
        uint64_t oom, pids;
        lcs_native_sandbox_counters(M->sb, &oom, &pids, NULL, NULL);
        if (pids > x->pids0 || lcs_native_sandbox_pids_full(M->sb)) {
            send_result(M, x, "pids", -1, 0, 0.0, 0);
            return;
        }
    }
    reply(M, x->client, json_pack("{s:s,s:s,s:s}", "event", "error", "code", "io", "message",
                                  strerror(e)));
    finish_exec(M, x);
}

static void from_init(mon *M)
{
    lcs_native_msg m;
    int fd = -1, nfds = 0;
    ssize_t n = lcs_recv_with_fds(M->ctl, &m, sizeof m, &fd, 1, &nfds, MSG_DONTWAIT);
    if (n <= 0)
        return;
    if (nfds <= 0)
        fd = -1;
    exec_t *x = n == (ssize_t)sizeof m ? find_exec(M, m.id) : NULL;
    if (!x) {
        if (fd >= 0)
            close(fd);
        return;
    }
    switch (m.type) {
    case LCS_MSG_STARTED: {
        pid_t hp = fd >= 0 ? pid_of_pidfd(fd) : -1;
        lcs_error err;
        lcs_error_clear(&err);
        if (hp <= 0 || lcs_native_execcg_attach(&x->cg, hp, &err) < 0) {
            /* Never let it run outside its cgroup. */
            if (hp > 0)
                kill(hp, SIGKILL);
            else
                kill_exec(M, x);
            reply(M, x->client, json_pack("{s:s,s:s,s:s}", "event", "error", "code", "io",
                                          "message", err.message[0] ? err.message
                                                                    : "lost the exec's pid"));
            x->client = -1;
            break;
        }
        lcs_native_msg g = {.type = LCS_MSG_GO, .id = x->id};
        send(M->ctl, &g, sizeof g, MSG_NOSIGNAL);
        x->go_sent = 1;
        M->handshake_execs++;
        break;
    }
    case LCS_MSG_EXITED:
        M->execs_born += m.cgdir == 1;
        exec_result(M, x, &m);
        break;
    case LCS_MSG_FAILED:
        exec_failed(M, x, m.value, (int)m.nargv);
        break;
    default:
        break;
    }
    if (fd >= 0)
        close(fd);
}

/* A warm sandbox's monitor and init are fresh processes (init a
 * copy-on-write clone): the first exec would fault in the pages its path
 * touches (~20 us each on a VM; a session's first exec is ~1 ms slower than
 * its later ones) while the caller waits. So that path runs once ahead,
 * with a command that cannot exist whatever the image holds (the sandbox's
 * own procfs has no pid 0): the child drops its privileges, its execve
 * fails (no program runs, nothing in the sandbox changes), and init reports
 * the exit. Then the answer's work. */
static void warm_up(mon *M)
{
    static const char blob[] = "/proc/0/llmcore-sandbox-warm-up\0\0"; /* argv[0], cwd "" */
    int mfd = memfd_create("lcs-warm-up", MFD_CLOEXEC);
    int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (mfd >= 0 && dn >= 0 && write(mfd, blob, sizeof blob - 1) == (ssize_t)(sizeof blob - 1)) {
        lcs_native_msg m = {.type = LCS_MSG_EXEC, .id = ++M->next_id,
                            .value = (int32_t)(sizeof blob - 1), .nargv = 1, .nenv = 0};
        int fds[4] = {dn, dn, dn, mfd};
        if (lcs_send_with_fds(M->ctl, &m, sizeof m, fds, 4) == (ssize_t)sizeof m) {
            /* its EXITED (or FAILED), within a bound */
            double end = lcs_now() + 5.0;
            for (;;) {
                struct pollfd pf = {M->ctl, POLLIN, 0};
                int ms = (int)((end - lcs_now()) * 1000);
                if (ms <= 0 || poll(&pf, 1, ms) <= 0)
                    break;
                lcs_native_msg r;
                int fd = -1, n = 0;
                ssize_t got = lcs_recv_with_fds(M->ctl, &r, sizeof r, &fd, 1, &n, MSG_DONTWAIT);
                if (n > 0)
                    close(fd);
                if (got <= 0 || (r.id == m.id && (r.type == LCS_MSG_EXITED ||
                                                  r.type == LCS_MSG_FAILED)))
                    break;
            }
        }
    }
    if (mfd >= 0)
        close(mfd);
    if (dn >= 0)
        close(dn);

    uint64_t oom, pids;
    lcs_native_sandbox_counters(M->sb, &oom, &pids, NULL, NULL);
    json_t *r = json_pack("{s:s,s:s,s:i,s:i,s:f,s:f,s:I,s:O,s:O}", "event", "result", "verdict",
                          "ok", "exit_code", 0, "signal", 0, "wall_seconds", 0.0, "cpu_seconds",
                          0.0, "peak_memory_bytes", (json_int_t)0, "enforced",
                          M->enforced ? M->enforced : json_null(), "policy",
                          M->policy ? M->policy : json_null());
    free(json_dumps(r, JSON_COMPACT));
    json_decref(r);
}

/* ----------------------------------------------------------- clients */

static void drop_client(mon *M, int ci)
{
    client_t *c = &M->clients[ci];
    if (c->exec >= 0) {
        /* The caller is gone: nobody reads the output; stop the command. */
        exec_t *x = &M->execs[c->exec];
        x->client = -1;
        kill_exec(M, x);
    }
    close(c->fd);
    c->fd = -1;
    c->exec = -1;
}

static json_t *status_json(mon *M)
{
    uint64_t oom, pids, mem, procs;
    lcs_native_sandbox_counters(M->sb, &oom, &pids, &mem, &procs);
    json_t *o = json_deep_copy(M->info);
    json_object_del(o, "resources");
    json_object_set_new(o, "state", json_string("running"));
    json_object_set_new(o, "execs", json_integer((json_int_t)M->execs_total));
    json_object_set_new(o, "handshake_execs", json_integer((json_int_t)M->handshake_execs));
    /* execs that entered their cgroups without a cgroup.procs write
     * (docs/runtime.md, "Entering cgroups at an agent's pace") */
    json_object_set_new(o, "execs_born_in_cgroup", json_integer((json_int_t)M->execs_born));
    json_object_set_new(o, "memory_bytes", json_integer((json_int_t)mem));
    json_object_set_new(o, "pids", json_integer((json_int_t)procs));
    json_object_set_new(o, "idle_seconds", json_real(lcs_now() - M->last_active));
    return o;
}

static void from_client(mon *M, int ci)
{
    json_t *req = NULL;
    int fds[4], nfds = 0;
    lcs_error err;
    lcs_error_clear(&err);
    if (lcs_sess_recv(M->clients[ci].fd, &req, fds, &nfds, 0, &err) < 0 || !req) {
        drop_client(M, ci);
        return;
    }
    const char *op = jstr(req, "op");
    M->last_active = lcs_now();
    if (!op) {
        op = "";
    }
    if (M->warm && (!strcmp(op, "root") || !strcmp(op, "exec"))) {
        /* A warm sandbox is fresh for the run that claims it: nothing may
         * touch it before, and it serves that one command only. */
        int final = json_is_true(json_object_get(req, "final"));
        if (!strcmp(op, "exec") && final && !M->claimed) {
            M->claimed = 1;
            start_exec(M, ci, req, fds, nfds);
            nfds = 0;
        } else {
            reply(M, ci, json_pack("{s:s,s:s,s:s,s:b}", "event", "error", "code", "denied",
                                   "message", "this sandbox was started for a warm run and "
                                   "serves exactly one run (llmcore-sandbox run --warm)",
                                   "ok", 0));
        }
    } else if (!strcmp(op, "exec")) {
        start_exec(M, ci, req, fds, nfds);
        nfds = 0;
    } else if (!strcmp(op, "kill")) {
        if (M->clients[ci].exec >= 0) {
            exec_t *x = &M->execs[M->clients[ci].exec];
            if (json_is_true(json_object_get(req, "output")))
                x->output_exceeded = 1;
            kill_exec(M, x);
        }
    } else if (!strcmp(op, "root")) {
        uid_t u;
        gid_t g;
        lcs_native_sandbox_owner(M->sb, &u, &g);
        int vfds[LCS_NATIVE_VIEWS], nv = 0;
        json_t *views = json_array();
        for (int i = 0; i < LCS_NATIVE_VIEWS; i++) {
            int fd = lcs_native_sandbox_view_fd(M->sb, i);
            if (fd < 0)
                continue;
            vfds[nv++] = fd;
            json_array_append_new(views, json_string(lcs_native_view_paths[i]));
        }
        json_t *r = json_pack("{s:b,s:i,s:i,s:o}", "ok", 1, "uid", (int)u, "gid", (int)g,
                              "views", views);
        lcs_sess_send(M->clients[ci].fd, r, vfds, nv, NULL);
        json_decref(r);
    } else if (!strcmp(op, "status")) {
        json_t *r = json_pack("{s:b,s:o}", "ok", 1, "status", status_json(M));
        lcs_sess_send(M->clients[ci].fd, r, NULL, 0, NULL);
        json_decref(r);
    } else if (!strcmp(op, "destroy")) {
        M->destroy_requested = ci + 1;
    } else {
        json_t *r = json_pack("{s:b,s:s}", "ok", 0, "message", "unknown request");
        lcs_sess_send(M->clients[ci].fd, r, NULL, 0, NULL);
        json_decref(r);
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    json_decref(req);
}

/* ------------------------------------------------------------ the loop */

static void accept_client(mon *M)
{
    int fd = accept4(M->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        /* Out of descriptors: the connection waits in the listen queue;
         * stop polling the listener for a moment instead of spinning. */
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            M->accept_paused_until = lcs_now() + 0.1;
        return;
    }
    for (int i = 0; i < M->max_clients; i++)
        if (M->clients[i].fd < 0) {
            M->clients[i].fd = fd;
            M->clients[i].exec = -1;
            if (i >= M->nclients_hw)
                M->nclients_hw = i + 1;
            return;
        }
    /* Too many: say so (the client reads it even after the close) rather
     * than close silently, which looks like a dead monitor. */
    char msg[200];
    snprintf(msg, sizeof msg, "the session has %d connections open, its limit; retry when "
             "some have finished", M->max_clients);
    json_t *r = json_pack("{s:b,s:s,s:s,s:s}", "ok", 0, "event", "error", "code", "busy",
                          "message", msg);
    lcs_sess_send(fd, r, NULL, 0, NULL);
    json_decref(r);
    close(fd);
}

static void gc_linger(mon *M)
{
    for (size_t i = 0; i < M->nlinger;) {
        if (lcs_native_execcg_remove(&M->linger[i]) == 0)
            M->linger[i] = M->linger[--M->nlinger];
        else
            i++;
    }
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Do the directory, its lock and its socket still name what this monitor
 * made? 0 yes; otherwise -1 with what changed in why. */
static int state_intact(mon *M, const char **why)
{
    struct stat st;
    char p[PATH_MAX + 32];
    if (fstat(M->dirfd, &st) == 0 && st.st_nlink == 0) {
        *why = "its state directory was removed";
        return -1;
    }
    if (lstat(M->dir, &st) < 0 || !same_file(&st, &M->dir_st)) {
        *why = "its state directory was removed or replaced";
        return -1;
    }
    snprintf(p, sizeof p, "%s/lock", M->dir);
    if (lstat(p, &st) < 0 || !same_file(&st, &M->lock_st)) {
        *why = "its lock file was removed or replaced";
        return -1;
    }
    snprintf(p, sizeof p, "%s/control.sock", M->dir);
    if (lstat(p, &st) < 0 || !same_file(&st, &M->sock_st)) {
        *why = "its control socket was removed or replaced";
        return -1;
    }
    return 0;
}

static int active_execs(mon *M)
{
    int n = 0;
    for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++)
        n += M->execs[i].used;
    return n;
}

static int clients_connected(mon *M)
{
    int n = 0;
    for (int i = 0; i < M->nclients_hw; i++)
        n += M->clients[i].fd >= 0;
    return n;
}

/* Returns the reason the loop ended. */
static const char *serve(mon *M)
{
    for (;;) {
        if (M->destroy_requested)
            return "destroy";
        if (M->done)
            return "warm run done";
        double now = lcs_now(), next = now + CHECK_INTERVAL;
        if (now >= M->next_check) {
            /* every interval, however busy the monitor is */
            const char *why = NULL;
            if (state_intact(M, &why) < 0)
                return why;
            gc_linger(M);
            M->next_check = now + CHECK_INTERVAL;
        }
        if (M->next_check < next)
            next = M->next_check;
        for (int i = 0; i < LCS_NATIVE_MAX_EXECS; i++) {
            exec_t *x = &M->execs[i];
            if (!x->used)
                continue;
            if (!x->timed_out && now >= x->deadline) {
                x->timed_out = 1;
                kill_exec(M, x);
                x->deadline = now + 1.0; /* re-kill once a second until it is reaped */
            } else if (x->timed_out && now >= x->deadline) {
                kill_exec(M, x);
                x->deadline = now + 1.0;
            }
            if (x->deadline < next)
                next = x->deadline;
        }
        if (M->idle_timeout > 0 && !active_execs(M) && !clients_connected(M)) {
            if (now - M->last_active >= M->idle_timeout)
                return "idle";
            if (M->last_active + M->idle_timeout < next)
                next = M->last_active + M->idle_timeout;
        }
        struct pollfd pf[5 + MAX_CLIENTS];
        int n = 0;
        int listening = now >= M->accept_paused_until;
        if (!listening && M->accept_paused_until < next)
            next = M->accept_paused_until;
        pf[n++] = (struct pollfd){listening ? M->lfd : -1, POLLIN, 0};
        pf[n++] = (struct pollfd){M->ctl, POLLIN, 0};
        pf[n++] = (struct pollfd){lcs_native_sandbox_pidfd(M->sb), POLLIN, 0};
        pf[n++] = (struct pollfd){M->sfd, POLLIN, 0};
        int map[MAX_CLIENTS];
        for (int i = 0; i < M->nclients_hw; i++)
            if (M->clients[i].fd >= 0) {
                map[n - 4] = i;
                pf[n++] = (struct pollfd){M->clients[i].fd, POLLIN, 0};
            }
        int addr_i = -1;
        if (M->addr_fd >= 0) {
            addr_i = n;
            pf[n++] = (struct pollfd){M->addr_fd, POLLIN, 0};
        }
        int ms = (int)((next - now) * 1000) + 1;
        if (ms < 1)
            ms = 1;
        int pr = poll(pf, (nfds_t)n, ms);
        if (pr < 0 && errno != EINTR)
            return "poll failed";
        if (pr <= 0)
            continue;
        if (pf[3].revents)
            return "signal";
        if (pf[2].revents)
            return "init exited";
        /* A new host address joins the sandbox's filter before any request
         * of this round is served. If that fails, the sandbox could reach
         * it: the session ends (fail closed). */
        if (addr_i >= 0 && pf[addr_i].revents) {
            lcs_error aerr = {0};
            if (lcs_native_sandbox_addr_changed(M->sb, M->addr_fd, &aerr) < 0)
                return "the network filter could not take a new host address";
        }
        if (pf[1].revents & POLLIN)
            from_init(M);
        else if (pf[1].revents)
            return "init's control socket closed";
        if (pf[0].revents)
            accept_client(M);
        for (int k = 4; k < n; k++)
            if (k != addr_i && pf[k].revents)
                from_client(M, map[k - 4]);
    }
}

/* ------------------------------------------------------------- main */

static int listen_on(mon *M, lcs_error *err)
{
    return (M->lfd = lcs_sess_listen(M->dir, err)) < 0 ? -1 : 0;
}

static void mon_free(mon *M)
{
    if (M->addr_fd >= 0)
        close(M->addr_fd);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (M->clients[i].fd >= 0)
            close(M->clients[i].fd);
    free(M->linger);
    if (M->dirfd >= 0)
        close(M->dirfd);
    if (M->lockfd >= 0)
        close(M->lockfd);
    json_decref(M->spec);
    json_decref(M->info);
    json_decref(M->enforced);
    json_decref(M->policy);
    free(M->env);
    free(M);
}

static void tell(int fd, const char *fmt, const char *a, const char *b)
{
    if (fd < 0)
        return;
    char buf[2400];
    int n = snprintf(buf, sizeof buf, fmt, a, b);
    if (n > 0 && write(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf) < 0) {
        /* the creator is gone: nothing to tell */
    }
}

int lcs_session_monitor_main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--remove-container"))
        return lcs_session_docker_remove(argv[2], argv[3]);
    if (argc != 2) {
        fprintf(stderr, "usage: llmcore-sandbox-monitor SESSION_DIR (started by the library)\n");
        return 2;
    }
    /* Nothing the creator had open may stay open here (a caller's pipes
     * would never see end-of-file while the session lives), but the
     * readiness pipe (3) and the session's lock (4), which the creator
     * took before the directory got its name: held from then on without a
     * gap, so no scan ever sees this session unlocked. */
    syscall(SYS_close_range, (unsigned)LCS_SESS_LOCK_FD + 1, ~0U, 0U);
    int ready = 3;
    if (fcntl(ready, F_GETFD) < 0)
        ready = -1;
    else
        fcntl(ready, F_SETFD, FD_CLOEXEC);
    /* Detach: the creator reaps our parent at once; we belong to nobody. */
    pid_t p = fork();
    if (p < 0) {
        tell(ready, "ERR io\tfork the session monitor: %s%s\n", strerror(errno), "");
        return 1;
    }
    if (p > 0)
        _exit(0);
    /* The session directory is 0700 already; files made for the sandbox
     * (run directory, resolv.conf) must keep their modes. */
    umask(022);
    if (chdir("/") < 0) {
        /* harmless */
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    mon *M = calloc(1, sizeof *M);
    lcs_error err;
    lcs_error_clear(&err);
    if (!M) {
        tell(ready, "ERR nomem\t%s%s\n", "out of memory", "");
        return 1;
    }
    M->ctl = M->lfd = M->sfd = M->addr_fd = -1;
    M->dirfd = -1;
    M->lockfd = LCS_SESS_LOCK_FD;
    M->max_clients = MAX_CLIENTS;
    for (int i = 0; i < MAX_CLIENTS; i++)
        M->clients[i].fd = -1, M->clients[i].exec = -1;
    snprintf(M->dir, sizeof M->dir, "%s", argv[1]);
    const char *base = strrchr(M->dir, '/');
    snprintf(M->id, sizeof M->id, "%.60s", base ? base + 1 : M->dir);
    char lockp[PATH_MAX + 16], specp[PATH_MAX + 16];
    snprintf(lockp, sizeof lockp, "%s/lock", M->dir);
    snprintf(specp, sizeof specp, "%s/spec.json", M->dir);
    /* Descriptor 4 must be this directory's lock, held (by the same open
     * file: taking it again is a no-op that fails if anyone else has it). */
    struct stat lst;
    if (fcntl(M->lockfd, F_SETFD, FD_CLOEXEC) < 0 || fstat(M->lockfd, &M->lock_st) < 0 ||
        lstat(lockp, &lst) < 0 || !same_file(&lst, &M->lock_st) ||
        flock(M->lockfd, LOCK_EX | LOCK_NB) < 0) {
        tell(ready, "ERR invalid\t%s: descriptor 4 is not its held lock (the monitor is "
             "started by the library)%s\n", M->dir, "");
        M->lockfd = -1;
        mon_free(M);
        return 1;
    }
    M->dirfd = open(M->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (M->dirfd < 0 || fstat(M->dirfd, &M->dir_st) < 0) {
        tell(ready, "ERR io\topen %s: %s\n", M->dir, strerror(errno));
        mon_free(M);
        return 1;
    }
    json_error_t je;
    lcs_native_spec spec;
    M->spec = json_load_file(specp, 0, &je);
    if (!M->spec) {
        tell(ready, "ERR parse\t%s: %s\n", specp, je.text);
        goto fail;
    }
    /* A container of an engine instead of a native sandbox: the same
     * directory, lock and socket, served by dmonitor.c. */
    if (!strcmp(jstr(M->spec, "backend") ? jstr(M->spec, "backend") : "native", "docker")) {
        int drc = lcs_session_docker_monitor(M->dir, M->id, M->spec, ready);
        mon_free(M);
        return drc;
    }
    if (spec_from_json(M, &spec, &err) < 0)
        goto fail_err;
    if (M->warm && lcs_pool_wait_quiet(M->spec, M->idle_timeout > 0 ? M->idle_timeout : 60) < 0)
        goto fail; /* runs kept coming back to back for that long */
    if (spec.network == LCS_NATIVE_NET_FULL && (M->addr_fd = lcs_native_addr_watch_open(&err)) < 0)
        goto fail_err;
    if (lcs_native_sandbox_start(&spec, M->id, &M->sb, &err) < 0 || write_info(M, &err) < 0 ||
        listen_on(M, &err) < 0)
        goto fail_err;
    M->ctl = lcs_native_sandbox_ctl_fd(M->sb);
    char sockp[PATH_MAX + 32];
    snprintf(sockp, sizeof sockp, "%s/control.sock", M->dir);
    if (lstat(sockp, &M->sock_st) < 0) {
        lcs_fail_errno(&err, "stat %s", sockp);
        goto fail_err;
    }
    /* One descriptor per connected client: as many as the hard limit
     * allows, up to MAX_CLIENTS (init and its commands are started
     * already and keep their own limits). */
    struct rlimit nf;
    if (getrlimit(RLIMIT_NOFILE, &nf) == 0) {
        rlim_t want = MAX_CLIENTS + 256;
        if (nf.rlim_cur < want && nf.rlim_max > nf.rlim_cur) {
            nf.rlim_cur = nf.rlim_max < want ? nf.rlim_max : want;
            setrlimit(RLIMIT_NOFILE, &nf);
            getrlimit(RLIMIT_NOFILE, &nf);
        }
        if (nf.rlim_cur < (rlim_t)MAX_CLIENTS + 256)
            M->max_clients = nf.rlim_cur > 320 ? (int)(nf.rlim_cur - 256) : 64;
    }
    M->next_check = lcs_now() + CHECK_INTERVAL;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    M->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    M->last_active = lcs_now();
    /* A warm sandbox offers itself only now that it serves; if another one
     * got there first, nobody needs this one. */
    if (M->warm) {
        warm_up(M);
        M->registered = lcs_pool_register(M->spec, M->id) == 0;
        M->done = !M->registered;
    }
    tell(ready, "OK\t%s%s\n", M->id, "");
    if (ready >= 0)
        close(ready);
    ready = -1;
    /* stdio to /dev/null: nobody reads it */
    int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dn >= 0) {
        dup2(dn, 0);
        dup2(dn, 1);
        dup2(dn, 2);
        close(dn);
    }

    if (!M->done)
        serve(M);
    if (M->warm && !M->claimed)
        lcs_pool_unregister(M->spec, M->id, M->registered);
    /* A claimed warm sandbox is used up: its successor starts now, while
     * this one is torn down, and waits for the next run. */
    if (M->claimed)
        lcs_pool_respawn(M->spec);

    /* Everything goes: processes (pid namespace, cgroups), pasta, run
     * directory, session directory. The destroyer gets its answer last. */
    for (size_t i = 0; i < M->nlinger; i++)
        lcs_native_execcg_remove(&M->linger[i]);
    lcs_native_sandbox_destroy(M->sb);
    M->sb = NULL;
    /* The directory goes, unless its path now names something else. */
    struct stat dst;
    if (lstat(M->dir, &dst) == 0 && same_file(&dst, &M->dir_st))
        lcs_rm_tree(M->dir);
    if (M->destroy_requested) {
        json_t *r = json_pack("{s:b}", "ok", 1);
        lcs_sess_send(M->clients[M->destroy_requested - 1].fd, r, NULL, 0, NULL);
        json_decref(r);
    }
    mon_free(M);
    return 0;
fail_err:
    tell(ready, "ERR %s\t%s\n", lcs_status_name(err.code), err.message);
fail:
    if (M->warm)
        lcs_pool_unregister(M->spec, M->id, 0);
    if (M->sb)
        lcs_native_sandbox_destroy(M->sb);
    lcs_rm_tree(M->dir);
    mon_free(M);
    return 1;
}
