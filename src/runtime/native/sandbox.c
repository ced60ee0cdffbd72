/*
 * sandbox.c - a session's sandbox: started once (launch.c builds it with
 * init serving execs), then the handle the session monitor holds: its
 * control socket, pidfd, views of its mounts, owner, enforced report,
 * counters, the resources to clean up after a crash, and teardown.
 */
#include "runtime/native/launch.h"
#include "util/fdpass.h"
#include "util/sandbox_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* Init died after it began to load the seccomp filter and before it was
 * ready: the profile refuses a system call init needs (every exec needs
 * the same ones: a session cannot run under it). Its signal, when it is
 * dead within a second, says how (SIGSYS: a kill action; SIGSEGV: its own
 * exit was refused). */
static int init_died_under_filter(run *R, lcs_error *err)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct pollfd pf = {R->pidfd, POLLIN, 0};
    if (R->pidfd >= 0 && poll(&pf, 1, 1000) > 0)
        waitid((idtype_t)P_PIDFD, (id_t)R->pidfd, &si, WEXITED | WNOHANG | WNOWAIT);
    char how[64] = "";
    if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
        snprintf(how, sizeof how, " (killed by signal %d%s)", si.si_status,
                 si.si_status == SIGSYS ? ", the filter's kill action" : "");
    return lcs_fail(err, LCS_E_DENIED,
                    "the seccomp profile %s stopped the session's init%s: it refuses system "
                    "calls the runtime needs to serve execs (a session needs at least what its "
                    "commands need)",
                    R->seccomp_name, how);
}

/* Wait (bounded) for init's 'R' on the status pipe, then take the root
 * clone init sent on the control socket before it. */
static int wait_ready(run *R, lcs_error *err)
{
    unsigned char buf[1200];
    size_t len = 0;
    int filter_loading = 0;
    double deadline = lcs_now() + 30.0;
    for (;;) {
        while (len >= 3) {
            size_t rl = (size_t)buf[1] | ((size_t)buf[2] << 8);
            if (len < 3 + rl)
                break;
            if (buf[0] == 'E') {
                char msg[1100];
                size_t n = rl < sizeof msg - 1 ? rl : sizeof msg - 1;
                memcpy(msg, buf + 3, n);
                msg[n] = 0;
                return lcs_fail(err, LCS_E_IO, "sandbox setup failed: %s", msg);
            }
            if (buf[0] == 'R')
                goto ready;
            if (buf[0] == 'L')
                filter_loading = 1;
            memmove(buf, buf + 3 + rl, len - 3 - rl);
            len -= 3 + rl;
        }
        double left = deadline - lcs_now();
        if (left <= 0)
            return lcs_fail(err, LCS_E_IO, "sandbox setup did not finish within 30 s");
        struct pollfd pf = {R->status_p[0], POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR)
            return lcs_fail_errno(err, "wait for the sandbox's init");
        if (pr <= 0)
            continue;
        if (len == sizeof buf)
            len = 0;
        ssize_t n = read(R->status_p[0], buf + len, sizeof buf - len);
        if (n == 0 && filter_loading)
            return init_died_under_filter(R, err);
        if (n == 0)
            return lcs_fail(err, LCS_E_IO, "sandbox init exited during setup without reporting "
                                           "why");
        if (n > 0)
            len += (size_t)n;
    }
ready:;
    lcs_native_msg m;
    int fds[LCS_NATIVE_VIEWS], nfds = 0, k = 0;
    ssize_t n = lcs_recv_with_fds(R->in_sp[0], &m, sizeof m, fds, LCS_NATIVE_VIEWS, &nfds,
                                  MSG_DONTWAIT);
    if (n != (ssize_t)sizeof m || m.type != LCS_MSG_ROOT || nfds <= 0) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return lcs_fail(err, LCS_E_INTERNAL, "sandbox init did not hand over its root");
    }
    /* the views that came, in order (m.value says which) */
    for (int i = 0; i < LCS_NATIVE_VIEWS && k < nfds; i++)
        if (m.value & (1 << i))
            R->view_fd[i] = fds[k++];
    while (k < nfds)
        close(fds[k++]);
    if (R->view_fd[0] < 0)
        return lcs_fail(err, LCS_E_INTERNAL, "sandbox init did not hand over its root");
    close(R->status_p[0]);
    R->status_p[0] = -1;
    return 0;
}

int lcs_native_sandbox_start(const lcs_native_spec *s, const char *id, lcs_native_sandbox **out,
                             lcs_error *err)
{
    *out = NULL;
    if (!s || !id)
        return lcs_fail(err, LCS_E_INVALID, "sandbox start: spec and id are required");
    if (s->upper_dir)
        return lcs_fail(err, LCS_E_INVALID, "sessions do not take an upper_dir");
    run *R = lcs_launch_new(err);
    if (!R)
        return -1;
    lcs_native_spec copy = *s;
    static const char *const noargv[] = {"/bin/true", NULL};
    copy.argv = noargv; /* init never runs argv in session mode */
    char name[40];
    snprintf(name, sizeof name, "lcs-%.32s", id);
    if (lcs_launch_build(R, &copy, name, 1, err) < 0 || wait_ready(R, err) < 0)
        goto fail;
    /* init's output pipes are unused in session mode */
    lcs_close_pair(R->out_p);
    lcs_close_pair(R->err_p);
    /* init's oom_score_adj stays as inherited. The OOM killer of the
     * memory limit cannot choose init (it is not in the memory cgroup:
     * make_cgroups), and a lower value would be no protection worth having:
     * every exec inherits it, and at -1000 (OOM_SCORE_ADJ_MIN) the memory
     * limit's OOM killer finds no victim at all (the writer loops on
     * ENOMEM instead of dying); an exec cannot raise its own either, since
     * a vfork child shares init's memory and the kernel keeps all sharers
     * of one memory at one value. */
    lcs_native_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb) {
        lcs_fail_nomem(err);
        goto fail;
    }
    sb->R = R;
    *out = sb;
    return 0;
fail:
    lcs_launch_teardown(R);
    lcs_launch_free(R);
    return -1;
}

void lcs_native_sandbox_destroy(lcs_native_sandbox *sb)
{
    if (!sb)
        return;
    lcs_launch_teardown(sb->R);
    lcs_launch_free(sb->R);
    free(sb);
}

int lcs_native_sandbox_ctl_fd(const lcs_native_sandbox *sb) { return sb->R->in_sp[0]; }
int lcs_native_sandbox_pidfd(const lcs_native_sandbox *sb) { return sb->R->pidfd; }
pid_t lcs_native_sandbox_init_pid(const lcs_native_sandbox *sb) { return sb->R->pid; }
int lcs_native_addr_watch_open(lcs_error *err) { return lcs_net_addr_watch_open(err); }
int lcs_native_sandbox_addr_changed(lcs_native_sandbox *sb, int fd, lcs_error *err)
{
    run *R = sb->R;
    if (!lcs_net_addr_watch_read(fd) || R->plan.network != LCS_NATIVE_NET_FULL)
        return 0;
    return lcs_net_filter_add_hosts(R->ns_user_fd, R->ns_net_fd, R->plan.rootless, R->plan.nft,
                                    err);
}
const char *const lcs_native_view_paths[LCS_NATIVE_VIEWS] = {"/", "/tmp", LCS_SANDBOX_INPUT,
                                                             LCS_SANDBOX_OUTPUT};
int lcs_native_sandbox_root_fd(const lcs_native_sandbox *sb) { return sb->R->view_fd[0]; }
int lcs_native_sandbox_view_fd(const lcs_native_sandbox *sb, int view)
{
    return view >= 0 && view < LCS_NATIVE_VIEWS ? sb->R->view_fd[view] : -1;
}

void lcs_native_sandbox_owner(const lcs_native_sandbox *sb, uid_t *uid, gid_t *gid)
{
    *uid = lcs_userns_host_uid(&sb->R->plan, sb->R->plan.uid);
    *gid = lcs_userns_host_gid(&sb->R->plan, sb->R->plan.gid);
}

char *lcs_native_sandbox_enforced_json(const lcs_native_sandbox *sb)
{
    return lcs_launch_enforced_json(sb->R);
}

char *lcs_native_sandbox_resources_json(const lcs_native_sandbox *sb)
{
    run *R = sb->R;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "memory", R->cg.mem,
                          "pids", R->cg.pids, "cpu", R->cg.cpu, "cpuacct", R->cg.acct, "freezer",
                          R->cg.freezer, "v2", R->cg.v2, "v2_top", R->cg.v2_top, "v2_init",
                          R->cg.v2_init, "rundir", R->rundir, "pasta_pid", (int)R->pasta.pid,
                          "pasta_pidfile", R->pasta.pidfile);
    if (!o)
        return NULL;
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

void lcs_native_sandbox_counters(const lcs_native_sandbox *sb, uint64_t *oom_kills,
                                 uint64_t *pids_hits, uint64_t *memory_bytes, uint64_t *procs)
{
    /* Only the files a verdict needs (this runs twice per exec); memory and
     * process counts only when asked for (status). */
    const lcs_cgroup *cg = &sb->R->cg;
    uint64_t v = 0;
    *oom_kills = *pids_hits = 0;
    if (cg->mem_v == LCS_CG_V2 && lcs_read_keyed(cg->mem, "memory.events", "oom_kill", &v) == 0)
        *oom_kills = v;
    else if (cg->mem_v == LCS_CG_V1 &&
             lcs_read_keyed(cg->mem, "memory.oom_control", "oom_kill", &v) == 0)
        *oom_kills = v;
    if (cg->pids_v && lcs_read_keyed(cg->pids, "pids.events", "max", &v) == 0)
        *pids_hits = v;
    if (!memory_bytes)
        return;
    char buf[64];
    *memory_bytes = 0;
    *procs = 0;
    if (cg->mem_v == LCS_CG_V2 && lcs_read_file(cg->mem, "memory.current", buf, sizeof buf) == 0)
        *memory_bytes = strtoull(buf, NULL, 10);
    else if (cg->mem_v == LCS_CG_V1 &&
             lcs_read_file(cg->mem, "memory.usage_in_bytes", buf, sizeof buf) == 0)
        *memory_bytes = strtoull(buf, NULL, 10);
    if (cg->pids_v && lcs_read_file(cg->pids, "pids.current", buf, sizeof buf) == 0)
        *procs = strtoull(buf, NULL, 10);
}

int lcs_native_sandbox_pids_full(const lcs_native_sandbox *sb)
{
    const lcs_cgroup *cg = &sb->R->cg;
    char cur[32], max[32];
    if (!cg->pids_v || lcs_read_file(cg->pids, "pids.current", cur, sizeof cur) < 0 ||
        lcs_read_file(cg->pids, "pids.max", max, sizeof max) < 0 || !strncmp(max, "max", 3))
        return 0;
    return strtoull(cur, NULL, 10) >= strtoull(max, NULL, 10);
}

int lcs_native_cleanup_resources(const char *resources_json, lcs_error *err)
{
    json_error_t je;
    json_t *o = json_loads(resources_json, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return lcs_fail(err, LCS_E_PARSE, "session resources: %s", je.text);
    }
    lcs_cgroup cg;
    memset(&cg, 0, sizeof cg);
    struct {
        const char *key;
        char *dst;
    } map[] = {{"memory", cg.mem}, {"pids", cg.pids}, {"cpu", cg.cpu},
               {"cpuacct", cg.acct}, {"freezer", cg.freezer}, {"v2", cg.v2},
               {"v2_top", cg.v2_top}, {"v2_init", cg.v2_init}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = json_string_value(json_object_get(o, map[i].key));
        /* only directories named like ours: never rmdir anything else */
        if (v && strstr(v, "/lcs-") && strlen(v) < PATH_MAX)
            snprintf(map[i].dst, PATH_MAX, "%s", v);
    }
    if (cg.v2[0] && access(cg.v2, F_OK) == 0) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/cgroup.kill", cg.v2);
        if (access(p, F_OK) == 0)
            cg.kill_v = LCS_CG_V2;
    }
    if (!cg.kill_v && cg.freezer[0])
        cg.kill_v = LCS_CG_V1;
    lcs_cg_kill(&cg);
    lcs_cg_rmdir_children(cg.v2);
    lcs_cg_rmdir_children(cg.freezer);
    lcs_cg_destroy(&cg);
    /* pasta exits with its namespace; make sure, but only if the pid still
     * is that pasta (its command line names our pid file). */
    int ppid = (int)json_integer_value(json_object_get(o, "pasta_pid"));
    const char *pf = json_string_value(json_object_get(o, "pasta_pidfile"));
    if (ppid > 0 && pf && pf[0]) {
        char path[64], cmd[4096];
        snprintf(path, sizeof path, "/proc/%d/cmdline", ppid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, cmd, sizeof cmd - 1);
            close(fd);
            if (n > 0) {
                cmd[n] = 0;
                for (ssize_t i = 0; i < n; i++)
                    if (!cmd[i])
                        cmd[i] = ' ';
                if (strstr(cmd, "pasta") && strstr(cmd, pf))
                    kill(ppid, SIGKILL);
            }
        }
    }
    const char *rd = json_string_value(json_object_get(o, "rundir"));
    if (rd && strstr(rd, "/lcs-"))
        lcs_rm_tree(rd);
    json_decref(o);
    return 0;
}
