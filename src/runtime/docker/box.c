/*
 * box.c - one sandbox as a container of a Docker Engine API engine (Docker,
 * or Podman's compatible service): start, exec on the hijacked stream,
 * counters, enforced report, destroy. Driven by the session monitor
 * (src/session/dmonitor.c), which runs on the engine's host.
 *
 * What the engine does not give, the host does (the engine is on this
 * host: lcs_docker_connect takes unix sockets only):
 *   - the container's files, through /proc/<its init>/root: every mount of
 *     the container as its processes see it, tmpfs included (Docker's
 *     archive endpoint cannot reach a tmpfs mount: it reads and writes the
 *     directory underneath), resolved by the same confined lookups as a
 *     native sandbox's (src/session/fsops.c);
 *   - the verdict's counters (OOM kills, pids-limit hits, CPU time) from
 *     the container's cgroup, which the engine's inspect reports only for
 *     its main process;
 *   - killing a timed-out exec's processes: an exec's first process is a
 *     session leader (runc calls setsid for it), its children inherit the
 *     session, and the engine has no call that kills an exec.
 */
#include "runtime/docker/docker.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/io.h"

struct lcs_docker_box {
    lcs_docker d;
    char id[80];
    pid_t pid;          /* the container's init, as this host numbers it */
    ino_t pidns;        /* its pid namespace: a kill never leaves it */
    int root_fd;        /* /proc/<pid>/root */
    uid_t uid;
    gid_t gid;
    int cg_v;           /* 2: unified; 1: v1 controllers; 0: none readable */
    int init_oom_adj;   /* the higher oom_score_adj of init and the keep-alive
                           as set here (1: not lowered) */
    char *cg_mem, *cg_pids, *cg_cpu;
    json_t *enforced;
};

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ------------------------------------------------------------- cgroups */

static char *cg_dir(const char *mnt, const char *rel)
{
    char p[PATH_MAX];
    int n = snprintf(p, sizeof p, "%s%s", mnt, rel);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof p || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return strdup(p);
}

/* The container's cgroups from its init's /proc/<pid>/cgroup: on a
 * cgroup2-only host its unified directory; on a hybrid one the v1 memory,
 * pids and cpuacct hierarchies. */
static void find_cgroups(lcs_docker_box *b)
{
    char p[64], line[PATH_MAX + 64];
    snprintf(p, sizeof p, "/proc/%d/cgroup", (int)b->pid);
    FILE *f = fopen(p, "re");
    if (!f)
        return;
    int unified = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        const char *ctl = c1 + 1, *rel = c2 + 1;
        if (unified && !*ctl) {
            b->cg_mem = cg_dir("/sys/fs/cgroup", rel);
            b->cg_pids = b->cg_mem ? strdup(b->cg_mem) : NULL;
            b->cg_cpu = b->cg_mem ? strdup(b->cg_mem) : NULL;
            b->cg_v = b->cg_mem ? 2 : 0;
        } else if (!unified) {
            char **slot = !strcmp(ctl, "memory")  ? &b->cg_mem
                          : !strcmp(ctl, "pids")  ? &b->cg_pids
                          : strstr(ctl, "cpuacct") ? &b->cg_cpu
                                                   : NULL;
            if (slot && !*slot) {
                char mnt[64];
                snprintf(mnt, sizeof mnt, "/sys/fs/cgroup/%s", ctl);
                *slot = cg_dir(mnt, rel);
                if (!*slot && slot == &b->cg_cpu)
                    *slot = cg_dir("/sys/fs/cgroup/cpu,cpuacct", rel);
            }
        }
    }
    fclose(f);
    if (!unified && (b->cg_mem || b->cg_pids))
        b->cg_v = 1;
}

/* "key N" of a flat-keyed cgroup file, and a file's single number; 0
 * when absent (a controller this host does not have). */
static uint64_t cg_key(const char *dir, const char *file, const char *key)
{
    uint64_t v = 0;
    return dir && lcs_read_keyed(dir, file, key, &v) == 0 ? v : 0;
}

static uint64_t cg_value(const char *dir, const char *file)
{
    char buf[64];
    return dir && lcs_read_file(dir, file, buf, sizeof buf) == 0 ? strtoull(buf, NULL, 10) : 0;
}

void lcs_docker_box_counters(lcs_docker_box *b, lcs_docker_counters *c)
{
    memset(c, 0, sizeof *c);
    if (b->cg_v == 2) {
        c->oom_kills = cg_key(b->cg_mem, "memory.events", "oom_kill");
        c->pids_max = cg_key(b->cg_pids, "pids.events", "max");
        c->cpu_ns = cg_key(b->cg_cpu, "cpu.stat", "usage_usec") * 1000;
        c->memory_peak = cg_value(b->cg_mem, "memory.peak");
        c->memory = cg_value(b->cg_mem, "memory.current");
    } else if (b->cg_v == 1) {
        c->oom_kills = cg_key(b->cg_mem, "memory.oom_control", "oom_kill");
        c->pids_max = cg_key(b->cg_pids, "pids.events", "max");
        c->cpu_ns = cg_value(b->cg_cpu, "cpuacct.usage");
        c->memory_peak = cg_value(b->cg_mem, "memory.max_usage_in_bytes");
        c->memory = cg_value(b->cg_mem, "memory.usage_in_bytes");
    }
    c->pids = cg_value(b->cg_pids, "pids.current");
}

/* ---------------------------------------------------------- the start */

static json_t *inspect(lcs_docker_box *b, lcs_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "/containers/%s/json", b->id);
    json_t *j = NULL;
    if (lcs_docker_call(&b->d, "GET", path, NULL, 30000, NULL, &j, err) < 0)
        return NULL;
    return j;
}

/* Writes the lowest oom_score_adj this process may set (-1000 with
 * CAP_SYS_RESOURCE, else 0) through fd, and closes it; returns the value
 * set, or 1 when neither could be written. */
static int oom_lower(int fd)
{
    int v = 1;
    if (fd < 0)
        return v;
    if (write(fd, "-1000", 5) == 5)
        v = -1000;
    else if (write(fd, "0", 1) == 1)
        v = 0;
    close(fd);
    return v;
}

/* The init's host pid, checked to be this container's (its cgroup path
 * names the container's id), and its root opened. */
static int attach_host(lcs_docker_box *b, json_t *ins, lcs_error *err)
{
    json_t *state = json_object_get(ins, "State");
    b->pid = (pid_t)json_integer_value(json_object_get(state, "Pid"));
    if (!json_is_true(json_object_get(state, "Running")) || b->pid <= 0)
        return lcs_fail(err, LCS_E_INTERNAL, "container %.12s is not running after its start "
                        "(state %s)", b->id, jstr(state, "Status") ? jstr(state, "Status") : "?");
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/root", (int)b->pid);
    /* Opened first, checked after: the descriptor then pins the process's
     * root, and the check proves that process is the container's. */
    b->root_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b->root_fd < 0)
        return lcs_fail_errno(err, "open the container's root %s (the engine must run on this "
                              "host, and this process must be allowed to look into it)", p);
    /* Also opened before the check, so a write goes to that process or
     * fails (ESRCH), never to a process that reused the pid. */
    snprintf(p, sizeof p, "/proc/%d/oom_score_adj", (int)b->pid);
    int oomfd = open(p, O_WRONLY | O_CLOEXEC);
    snprintf(p, sizeof p, "/proc/%d/cgroup", (int)b->pid);
    char cg[8192];
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, cg, sizeof cg - 1) : -1;
    if (fd >= 0)
        close(fd);
    cg[n > 0 ? n : 0] = 0;
    if (n <= 0 || !strstr(cg, b->id)) {
        if (oomfd >= 0)
            close(oomfd);
        return lcs_fail(err, LCS_E_INTERNAL, "process %d is not container %.12s's (its cgroup "
                        "does not name it): the engine is not on this host?", (int)b->pid, b->id);
    }
    /* The engine's init and the session's keep-alive command share the
     * container's memory cgroup with every exec: an exec's OOM could pick
     * one of them and end the sandbox. The body gives every process of
     * the container OomScoreAdj 1000 (execs included: the engine starts
     * them with it); these two are lowered again, to OOM_SCORE_ADJ_MIN
     * where this process has CAP_SYS_RESOURCE, else to 0, which the kernel
     * lets anyone who may write the file do. The OOM killer then takes an
     * exec's process first. */
    b->init_oom_adj = oom_lower(oomfd);
    char kids[512] = "";
    snprintf(p, sizeof p, "/proc/%d/task/%d", (int)b->pid, (int)b->pid);
    for (int i = 0; i < 100; i++) { /* init forks it right after its start */
        if (lcs_read_file(p, "children", kids, sizeof kids) < 0)
            kids[0] = 0;
        if (kids[0])
            break;
        usleep(2000);
    }
    int got = 0;
    for (char *k = kids, *e; *k; k = e) {
        long kp = strtol(k, &e, 10);
        if (e == k)
            break;
        char kf[64];
        snprintf(kf, sizeof kf, "/proc/%ld/oom_score_adj", kp);
        int v = oom_lower(open(kf, O_WRONLY | O_CLOEXEC));
        if (v > b->init_oom_adj)
            b->init_oom_adj = v;
        got++;
    }
    if (!got)
        b->init_oom_adj = 1; /* the keep-alive was not seen: not exempted */
    snprintf(p, sizeof p, "/proc/%d/status", (int)b->pid);
    FILE *f = fopen(p, "re");
    char line[256];
    unsigned u = 0, g = 0;
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "Uid: %u", &u);
        sscanf(line, "Gid: %u", &g);
    }
    if (f)
        fclose(f);
    b->uid = u;
    b->gid = g;
    struct stat st;
    snprintf(p, sizeof p, "/proc/%d/ns/pid", (int)b->pid);
    if (stat(p, &st) < 0)
        return lcs_fail_errno(err, "stat %s", p);
    b->pidns = st.st_ino;
    find_cgroups(b);
    return 0;
}

static void copy_field(json_t *to, const char *name, json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    json_object_set_new(to, name, v ? json_deep_copy(v) : json_null());
}

/* What the engine says it applied (inspect), and what the kernel shows
 * for the container's init (/proc/<pid>/status). */
static json_t *enforced_json(lcs_docker_box *b, json_t *ins)
{
    json_t *hc = json_object_get(ins, "HostConfig"), *cfg = json_object_get(ins, "Config");
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)b->pid);
    FILE *f = fopen(p, "re");
    int seccomp = -1, nnp = -1;
    char capeff[32] = "", capbnd[32] = "";
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "Seccomp: %d", &seccomp);
        sscanf(line, "NoNewPrivs: %d", &nnp);
        sscanf(line, "CapEff: %31s", capeff);
        sscanf(line, "CapBnd: %31s", capbnd);
    }
    if (f)
        fclose(f);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "backend", "docker", "engine", b->d.engine, "api",
                          b->d.api + 1, "container", b->id);
    json_t *lim = json_object();
    if (!o || !lim) {
        json_decref(o);
        json_decref(lim);
        return NULL;
    }
    /* report field <- inspect field (null when the engine left it out) */
    static const char *const limits[][2] = {{"memory_bytes", "Memory"},
                                            {"memory_swap_bytes", "MemorySwap"},
                                            {"nano_cpus", "NanoCpus"},
                                            {"pids", "PidsLimit"}};
    static const char *const applied[][2] = {
        {"cap_drop", "CapDrop"}, {"security_opt", "SecurityOpt"},
        {"readonly_rootfs", "ReadonlyRootfs"}, {"tmpfs", "Tmpfs"}, {"ulimits", "Ulimits"},
        {"network_mode", "NetworkMode"}, {"init", "Init"}};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
        copy_field(lim, limits[i][0], hc, limits[i][1]);
    json_object_set_new(o, "limits", lim);
    copy_field(o, "user", cfg, "User");
    for (size_t i = 0; i < sizeof applied / sizeof *applied; i++)
        copy_field(o, applied[i][0], hc, applied[i][1]);
    /* the seccomp profile's text is long: only whether one is set */
    json_t *so = json_object_get(o, "security_opt");
    for (size_t i = 0; i < json_array_size(so); i++) {
        const char *s = json_string_value(json_array_get(so, i));
        if (s && !strncmp(s, "seccomp=", 8) && strlen(s) > 200)
            json_array_set_new(so, i, json_string("seccomp=(the profile's text)"));
    }
    json_object_set_new(o, "kernel",
                        json_pack("{s:i,s:i,s:s,s:s,s:i,s:i}", "seccomp_mode", seccomp,
                                  "no_new_privs", nnp, "cap_eff", capeff, "cap_bnd", capbnd,
                                  "uid", (int)b->uid, "gid", (int)b->gid));
    json_object_set_new(o, "cgroups",
                        json_string(b->cg_v == 2 ? "v2" : b->cg_v == 1 ? "v1" : "unreadable"));
    /* the same fields as the native report, from the kernel's view */
    bool no_caps = capeff[0] && strspn(capeff, "0") == strlen(capeff);
    json_object_set_new(o, "seccomp", json_pack("{s:b}", "enabled", seccomp == 2));
    json_object_set_new(o, "capabilities",
                        no_caps ? json_string("none (effective and bounding sets of the "
                                              "container's init)")
                                : json_sprintf("effective set of the container's init: %s",
                                               capeff));
    json_object_set_new(o, "no_new_privs", json_boolean(nnp == 1));
    json_t *adj = json_object_get(hc, "OomScoreAdj");
    bool exempt = b->init_oom_adj <= 0 && json_integer_value(adj) > 0;
    json_object_set_new(o, "oom", json_pack("{s:i,s:O,s:b}", "init_oom_score_adj", b->init_oom_adj,
                                            "exec_oom_score_adj", adj ? adj : json_null(),
                                            "init_exempt", exempt));
    json_t *ne = json_pack("[s,s,s]",
                  "a timed-out exec's processes are killed by session: a process that starts "
                  "its own session (setsid) outlives the timeout until the sandbox is destroyed",
                  "the engine's init (pid 1, uid 1000, no capabilities, the same seccomp "
                  "filter) is readable by the command: /proc/1/{exe,environ,mem,root}",
                  "FULL: the engine's network does not keep the host's own addresses "
                  "unreachable");
    if (!exempt)
        json_array_append_new(ne, json_string("the engine's init could not be exempted from "
                                              "the OOM killer: an exec that runs out of memory "
                                              "may end the sandbox"));
    json_object_set_new(o, "not_enforced", ne);
    return o;
}

int lcs_docker_box_start(const lcs_docker_start *st, lcs_docker_box **out, lcs_error *err)
{
    *out = NULL;
    lcs_docker_box *b = calloc(1, sizeof *b);
    if (!b)
        return lcs_fail_nomem(err);
    b->root_fd = -1;
    json_t *body = NULL, *r = NULL, *ins = NULL;
    if (lcs_docker_connect(&b->d, st->engine, err) < 0) {
        free(b);
        return -1;
    }
    json_t *src = b->d.flavour == LCS_ENGINE_PODMAN ? st->create_podman : st->create_docker;
    if (!src || !(body = json_deep_copy(src))) {
        lcs_fail(err, LCS_E_INVALID, "no container body for this engine (%s)", b->d.engine);
        goto fail;
    }
    if (st->session_id)
        json_object_set_new(json_object_get(body, "Labels"), "llmcore-sandbox.session",
                            json_string(st->session_id));
    char path[256];
    snprintf(path, sizeof path, "/containers/create?name=llmcore-sandbox-%.64s",
             st->session_id ? st->session_id : "run");
    long code = 0;
    for (int attempt = 0;; attempt++) {
        json_decref(r);
        r = NULL;
        if (lcs_docker_call(&b->d, "POST", path, body, 120000, &code, &r, err) < 0)
            goto fail;
        if (code < 300)
            break;
        /* not in the engine yet: loaded from the store, once */
        if (code == 404 && !attempt && st->oci_dir) {
            const char *tag = strrchr(st->image, ':');
            if (lcs_docker_load_oci(st->engine, st->oci_dir, tag ? tag + 1 : "latest", st->image,
                                    err) < 0)
                goto fail;
            continue;
        }
        if (code == 404)
            lcs_fail(err, LCS_E_NOT_FOUND, "image %s is not in the engine (%s) and not built in "
                     "the store: build it, then llmcore-sandbox images load %s", st->image,
                     b->d.engine, st->image);
        goto fail; /* err holds the engine's message */
    }
    snprintf(b->id, sizeof b->id, "%.64s", jstr(r, "Id") ? jstr(r, "Id") : "");
    if (!b->id[0]) {
        lcs_fail(err, LCS_E_INTERNAL, "engine: create gave no container id");
        goto fail;
    }
    snprintf(path, sizeof path, "/containers/%s/start", b->id);
    if (lcs_docker_call(&b->d, "POST", path, NULL, 120000, NULL, NULL, err) < 0)
        goto fail;
    if (!(ins = inspect(b, err)) || attach_host(b, ins, err) < 0)
        goto fail;
    if (!(b->enforced = enforced_json(b, ins))) {
        lcs_fail_nomem(err);
        goto fail;
    }
    json_decref(ins);
    json_decref(body);
    json_decref(r);
    *out = b;
    return 0;
fail:
    json_decref(ins);
    json_decref(body);
    json_decref(r);
    lcs_docker_box_destroy(b);
    return -1;
}

const char *lcs_docker_box_id(const lcs_docker_box *b)
{
    return b->id;
}

int lcs_docker_box_root_fd(const lcs_docker_box *b)
{
    return b->root_fd;
}

void lcs_docker_box_owner(const lcs_docker_box *b, uid_t *uid, gid_t *gid)
{
    *uid = b->uid;
    *gid = b->gid;
}

const json_t *lcs_docker_box_enforced(const lcs_docker_box *b)
{
    return b->enforced;
}

const lcs_docker *lcs_docker_box_engine(const lcs_docker_box *b)
{
    return &b->d;
}

json_t *lcs_docker_box_stats(lcs_docker_box *b, lcs_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "/containers/%s/stats?stream=false", b->id);
    json_t *j = NULL;
    if (lcs_docker_call(&b->d, "GET", path, NULL, 30000, NULL, &j, err) < 0)
        return NULL;
    return j;
}

int lcs_docker_remove(lcs_docker *d, const char *id, lcs_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "/containers/%.64s?force=1&v=1", id);
    long code = 0;
    if (lcs_docker_call(d, "DELETE", path, NULL, 60000, &code, NULL, err) < 0)
        return -1;
    if (code >= 300 && code != 404)
        return -1;
    return 0;
}

int lcs_docker_box_alive(const lcs_docker_box *b)
{
    char p[64];
    struct stat st;
    snprintf(p, sizeof p, "/proc/%d/ns/pid", (int)b->pid);
    return stat(p, &st) == 0 && st.st_ino == b->pidns;
}

void lcs_docker_box_destroy_container(lcs_docker_box *b)
{
    lcs_error e;
    if (b && b->id[0] && lcs_docker_remove(&b->d, b->id, &e) == 0)
        b->id[0] = 0;
}

void lcs_docker_box_destroy(lcs_docker_box *b)
{
    if (!b)
        return;
    if (b->root_fd >= 0)
        close(b->root_fd);
    if (b->id[0]) {
        lcs_error e;
        lcs_docker_remove(&b->d, b->id, &e);
    }
    lcs_docker_disconnect(&b->d);
    free(b->cg_mem);
    free(b->cg_pids);
    free(b->cg_cpu);
    json_decref(b->enforced);
    free(b);
}

/* --------------------------------------------------------------- exec */

/* SIGKILL to every process of session sid inside the container's pid
 * namespace, until none is left (a fork between the scan and the kill
 * shows up in the next scan). The namespace check keeps a host process
 * whose session id happens to match out of reach. */
static void kill_session(lcs_docker_box *b, pid_t sid)
{
    for (int round = 0; round < 50; round++) {
        DIR *d = opendir("/proc");
        if (!d)
            return;
        int found = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 1 || pid == b->pid)
                continue;
            char p[64], st[512];
            snprintf(p, sizeof p, "/proc/%ld/stat", pid);
            int fd = open(p, O_RDONLY | O_CLOEXEC);
            ssize_t n = fd >= 0 ? read(fd, st, sizeof st - 1) : -1;
            if (fd >= 0)
                close(fd);
            if (n <= 0)
                continue;
            st[n] = 0;
            char *rp = strrchr(st, ')');
            int ppid, pgrp, sess;
            char state;
            if (!rp || sscanf(rp + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sess) != 4 ||
                sess != sid || state == 'Z')
                continue;
            struct stat ns;
            snprintf(p, sizeof p, "/proc/%ld/ns/pid", pid);
            if (stat(p, &ns) < 0 || ns.st_ino != b->pidns)
                continue;
            kill((pid_t)pid, SIGKILL);
            found = 1;
        }
        closedir(d);
        if (!found)
            return;
        usleep(2000);
    }
}

static json_t *strv(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static pid_t exec_pid(lcs_docker_box *b, const char *eid, int *running, int *exit_code)
{
    char path[160];
    snprintf(path, sizeof path, "/exec/%s/json", eid);
    json_t *j = NULL;
    lcs_error e;
    if (lcs_docker_call(&b->d, "GET", path, NULL, 10000, NULL, &j, &e) < 0 || !j)
        return -1;
    pid_t p = (pid_t)json_integer_value(json_object_get(j, "Pid"));
    if (running)
        *running = json_is_true(json_object_get(j, "Running"));
    if (exit_code)
        *exit_code = json_is_integer(json_object_get(j, "ExitCode"))
                         ? (int)json_integer_value(json_object_get(j, "ExitCode"))
                         : -1;
    json_decref(j);
    return p;
}

/* Writes what it can of *pend to fd without blocking. -1: fd is gone. */
static int flush_out(int fd, const unsigned char **pend, size_t *len)
{
    while (*len) {
        ssize_t w = write(fd, *pend, *len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return 0;
        if (w <= 0)
            return -1;
        *pend += w;
        *len -= (size_t)w;
    }
    return 0;
}

int lcs_docker_box_exec(lcs_docker_box *b, const lcs_docker_exec *x, lcs_docker_exec_result *res,
                        lcs_error *err)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    double t0 = lcs_now();
    json_t *body = json_pack("{s:b,s:b,s:b,s:b,s:o,s:o,s:s,s:s}", "AttachStdin", 1, "AttachStdout",
                             1, "AttachStderr", 1, "Tty", 0, "Cmd", strv(x->argv), "Env",
                             strv(x->env), "WorkingDir", x->cwd, "User", x->user);
    if (!body)
        return lcs_fail_nomem(err);
    char path[160];
    snprintf(path, sizeof path, "/containers/%s/exec", b->id);
    json_t *r = NULL;
    long code = 0;
    int rc = lcs_docker_call(&b->d, "POST", path, body, 30000, &code, &r, err);
    json_decref(body);
    if (rc < 0)
        return -1;
    if (code >= 300) {
        json_decref(r);
        return -1;
    }
    char eid[80];
    snprintf(eid, sizeof eid, "%.64s", jstr(r, "Id") ? jstr(r, "Id") : "");
    json_decref(r);
    if (!eid[0])
        return lcs_fail(err, LCS_E_INTERNAL, "engine: exec create gave no id");
    lcs_docker_counters c0, c1;
    lcs_docker_box_counters(b, &c0);
    lcs_docker_stream *st = malloc(sizeof *st);
    if (!st)
        return lcs_fail_nomem(err);
    snprintf(path, sizeof path, "/exec/%s/start", eid);
    body = json_pack("{s:b,s:b}", "Detach", 0, "Tty", 0);
    rc = lcs_docker_hijack(&b->d, path, body, st, err);
    json_decref(body);
    if (rc < 0) {
        free(st);
        return -1;
    }
    /* The exec's first process leads its own session: its id is what a
     * timeout kills. Asked now, while it runs. */
    pid_t sid = exec_pid(b, eid, NULL, NULL);
    int sfd = st->fd, in_fd = x->in_fd;
    fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK);
    if (in_fd >= 0)
        fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
    fcntl(x->out_fd, F_SETFL, fcntl(x->out_fd, F_GETFL) | O_NONBLOCK);
    fcntl(x->err_fd, F_SETFL, fcntl(x->err_fd, F_GETFL) | O_NONBLOCK);
    unsigned char ibuf[65536], obuf[65536], sbuf[65536];
    size_t ilen = 0, ioff = 0, olen = st->pending_len, ooff = 0;
    memcpy(obuf, st->pending, olen);
    const unsigned char *pend = NULL;
    size_t pend_len = 0;
    int watch = x->watch_fd, ended = 0;
    int pend_fd = -1, out_open = 1, err_open = 1, in_open = in_fd >= 0, eof = 0;
    if (!in_open)
        shutdown(sfd, SHUT_WR);
    lcs_docker_demux_state ds = {{0}, 0, 0, 0};
    double deadline = x->timeout_s > 0 ? t0 + x->timeout_s : 0;
    while (!eof) {
        /* frames already read, to their streams first */
        while (!pend_len && ooff < olen) {
            int stream;
            size_t pl;
            size_t at = lcs_docker_demux(&ds, obuf + ooff, olen - ooff, &stream, &pl);
            if (stream < 0) {
                ooff = olen;
                break;
            }
            pend = obuf + ooff + at;
            pend_len = pl;
            ooff += at + pl;
            pend_fd = stream == 2 ? x->err_fd : stream == 1 ? x->out_fd : -1;
            int *open_flag = stream == 2 ? &err_open : &out_open;
            if (pend_fd < 0 || !*open_flag)
                pend_len = 0; /* stdin echo or a closed reader: dropped */
        }
        if (pend_len) {
            int *open_flag = pend_fd == x->err_fd ? &err_open : &out_open;
            if (flush_out(pend_fd, &pend, &pend_len) < 0) {
                *open_flag = 0;
                pend_len = 0;
            }
        }
        struct pollfd p[4];
        int np = 0, ip = -1, sp = -1, op = -1, wp = -1;
        short sev = 0;
        if (!pend_len && ooff >= olen)
            sev |= POLLIN;
        if (ilen > ioff)
            sev |= POLLOUT;
        p[sp = np++] = (struct pollfd){sfd, sev, 0};
        if (in_open && ilen == ioff)
            p[ip = np++] = (struct pollfd){in_fd, POLLIN, 0};
        if (pend_len)
            p[op = np++] = (struct pollfd){pend_fd, POLLOUT, 0};
        if (watch >= 0)
            p[wp = np++] = (struct pollfd){watch, POLLIN, 0};
        /* A quiet stream is checked once a second: after a kill, Podman
         * may keep the connection open when the exec has ended. Once it
         * has, one more round without waiting takes what the stream still
         * holds, and a quiet round after that is the end. */
        int wait = ended && !pend_len ? 0 : 1000;
        if (deadline) {
            double left = deadline - lcs_now();
            int dl = left <= 0 ? 0 : (int)(left * 1000) + 1;
            wait = dl < wait ? dl : wait;
        }
        int n = poll(p, (nfds_t)np, wait);
        if (n < 0 && errno != EINTR)
            break;
        if (n == 0 && !pend_len && ooff >= olen) {
            if (ended)
                break;
            int running = 1;
            ended = exec_pid(b, eid, &running, NULL) >= 0 && !running;
        }
        if (deadline && lcs_now() >= deadline && !res->timed_out) {
            res->timed_out = 1;
            if (sid <= 0)
                sid = exec_pid(b, eid, NULL, NULL);
            if (sid > 0)
                kill_session(b, sid);
            deadline = 0;
        }
        if (n <= 0)
            continue;
        if (wp >= 0 && p[wp].revents && x->on_watch(x->ctx)) {
            res->killed = 1;
            watch = -1;
            if (sid <= 0)
                sid = exec_pid(b, eid, NULL, NULL);
            if (sid > 0)
                kill_session(b, sid);
        }
        if (ip >= 0 && p[ip].revents) {
            ssize_t r2 = read(in_fd, ibuf, sizeof ibuf);
            if (r2 > 0) {
                ilen = (size_t)r2;
                ioff = 0;
            } else if (r2 == 0 || (errno != EAGAIN && errno != EINTR)) {
                in_open = 0;
                shutdown(sfd, SHUT_WR); /* the command's stdin ends here */
            }
        }
        if (p[sp].revents & POLLOUT && ilen > ioff) {
            ssize_t w = write(sfd, ibuf + ioff, ilen - ioff);
            if (w > 0)
                ioff += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                in_open = 0; /* the command is not reading any more */
                ilen = ioff = 0;
            }
        }
        if (p[sp].revents & (POLLIN | POLLHUP | POLLERR) && !pend_len && ooff >= olen) {
            ssize_t r2 = read(sfd, sbuf, sizeof sbuf);
            if (r2 > 0) {
                memcpy(obuf, sbuf, (size_t)r2);
                olen = (size_t)r2;
                ooff = 0;
            } else if (r2 == 0 || (errno != EAGAIN && errno != EINTR)) {
                eof = 1;
            }
        }
    }
    lcs_docker_stream_close(st);
    free(st);
    /* The stream ends with the command's output; its exit code follows
     * shortly after in the exec's state. */
    int running = 1, code2 = -1;
    for (int i = 0; i < 500 && running; i++) {
        if (exec_pid(b, eid, &running, &code2) < 0)
            break;
        if (running)
            usleep(2000);
    }
    lcs_docker_box_counters(b, &c1);
    res->exit_code = code2;
    /* runc reports a signal's death as 128 + the signal */
    if (code2 > 128 && code2 <= 128 + 64) {
        res->signal = code2 - 128;
        res->exit_code = -1;
    }
    res->oom = c1.oom_kills > c0.oom_kills;
    res->pids_hit = c1.pids_max > c0.pids_max;
    res->cpu_seconds = b->cg_v ? (double)(c1.cpu_ns - c0.cpu_ns) / 1e9 : -1;
    res->peak_memory_bytes = c1.memory_peak;
    res->wall_seconds = lcs_now() - t0;
    if (running)
        return lcs_fail(err, LCS_E_INTERNAL, "exec %.12s: the engine still reports it running "
                        "after its output ended", eid);
    return 0;
}
