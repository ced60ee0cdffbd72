/*
 * result.c - the result of a native run: the verdict, the enforced report,
 * release and JSON form.
 */
#include "runtime/native/launch.h"
#include "runtime/verdict.h"
#include "util/jsonbytes.h"

#include <jansson.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>
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

/* ---------------------------------------------------------------- report */

static const char *ver(int v)
{
    return v == LCS_CG_V2 ? "v2" : v == LCS_CG_V1 ? "v1" : "none";
}

char *lcs_launch_enforced_json(run *R)
{
    lcs_plan *p = &R->plan;
    json_t *o = json_object();
    json_object_set_new(o, "namespaces",
                        json_pack("[ssssssss]", "user", "mount", "pid", "ipc", "uts", "cgroup",
                                  "net", "time-not-used") );
    json_array_remove(json_object_get(o, "namespaces"), 7);
    char map[64];
    snprintf(map, sizeof map, p->rootless ? "%u %u 1" : "0 %u %u",
             p->rootless ? (unsigned)p->uid : LCS_NATIVE_HOST_ID_BASE,
             p->rootless ? (unsigned)getuid() : LCS_NATIVE_ID_COUNT);
    json_object_set_new(o, "user",
                        json_pack("{s:s,s:i,s:i,s:s,s:i}", "mode", p->rootless ? "rootless" : "root",
                                  "uid", (int)p->uid, "gid", (int)p->gid, "uid_map", map,
                                  "host_uid", (int)lcs_userns_host_uid(p, p->uid)));
    json_object_set_new(o, "cgroups",
                        json_pack("{s:s,s:s,s:s,s:s,s:s}", "memory", ver(R->cg.mem_v), "pids",
                                  ver(R->cg.pids_v), "cpu", ver(R->cg.cpu_v), "cpuacct",
                                  ver(R->cg.acct_v), "kill", ver(R->cg.kill_v)));
    json_t *lim = json_object();
    if (R->cg.mem_v)
        json_object_set_new(lim, "memory_bytes", json_integer((json_int_t)R->memory));
    if (R->cg.pids_v)
        json_object_set_new(lim, "pids", json_integer(R->pids));
    if (R->cg.cpu_v)
        json_object_set_new(lim, "cpus", json_real(R->cpus));
    json_object_set_new(lim, "timeout_s", json_real(R->timeout));
    json_object_set_new(lim, "output_limit_bytes", json_integer((json_int_t)R->out_limit));
    json_object_set_new(lim, "tmp_bytes", json_integer((json_int_t)R->tmp_bytes));
    if (p->layer_tmpfs)
        json_object_set_new(lim, "disk_bytes", json_integer((json_int_t)R->layer_bytes));
    json_object_set_new(o, "limits", lim);
    json_t *rl = json_pack("{s:i,s:I,s:I}", "core", 0, "fsize", (json_int_t)p->fsize, "nofile",
                           (json_int_t)p->nofile);
    for (int i = 0; i < LCS_RL_BUDGETS; i++)
        json_object_set_new(rl, lcs_rl_budget_names[i], json_integer((json_int_t)p->rl[i]));
    json_object_set_new(o, "rlimits", rl);
    /* The sandbox's share of its owner's per-user kernel budgets (userns.c) */
    json_t *bud = json_object(), *uns = json_object(), *pool = json_object();
    for (int i = 0; i < LCS_USERNS_LIMITS; i++)
        if (p->userns_max[i] >= 0)
            json_object_set_new(uns, lcs_userns_limit_names[i],
                                json_integer((json_int_t)p->userns_max[i]));
    for (int i = 0; i < LCS_RL_BUDGETS; i++)
        if (p->rl_pool[i])
            json_object_set_new(pool, lcs_rl_budget_names[i],
                                json_integer((json_int_t)p->rl_pool[i]));
    json_object_set_new(bud, "owner_host_uid", json_integer((json_int_t)p->owner));
    json_object_set_new(bud, "share", json_string("1/8 of the owner's limits for each "
                                                  "sandbox"));
    json_object_set_new(bud, "user_namespace", uns);
    json_object_set_new(bud, "all_sandboxes_rlimits", pool);
    json_object_set_new(o, "budgets", bud);
    if (p->seccomp.filter)
        json_object_set_new(o, "seccomp",
                            json_pack("{s:b,s:s,s:s,s:i,s:i,s:i}", "enabled", 1, "profile",
                                      R->seccomp_name, "default_action",
                                      R->sinfo.default_action, "rules", (int)R->sinfo.rules,
                                      "unknown_syscalls", (int)R->sinfo.unknown_names,
                                      "instructions", (int)p->seccomp.len));
    else
        json_object_set_new(o, "seccomp", json_pack("{s:b}", "enabled", 0));
    if (p->keep_caps)
        json_object_set_new(o, "capabilities",
                            json_string("build set of the sandbox's user namespace: chown "
                                        "dac_override dac_read_search fowner fsetid kill setgid "
                                        "setuid setfcap net_bind_service audit_write"));
    else
        json_object_set_new(o, "capabilities",
                            json_string("none (bounding, ambient, inheritable, permitted, "
                                        "effective cleared; securebits locked)"));
    if (p->session) {
        /* How init is kept from the OOM killer: outside the memory cgroup,
         * so a memory-limit OOM cannot choose it; its oom_score_adj is the
         * caller's (why: where the session's init is started). */
        json_object_set_new(o, "oom",
                            json_pack("{s:b,s:s}", "init_outside_memory_cgroup",
                                      R->cg.init_apart && R->cg.mem_v, "init_score_adj",
                                      "inherited (a lower value would pass to every exec)"));
    }
    if (R->upper_external)
        json_object_set_new(o, "upper_dir", json_string(p->upper));
    json_object_set_new(o, "no_new_privs", json_true());
    json_object_set_new(o, "network", json_string(p->network == LCS_NATIVE_NET_FULL
                                                      ? (R->pasta.pid > 0 ? "full (pasta)" : "none")
                                                      : "none (loopback only)"));
    if (p->network == LCS_NATIVE_NET_FULL)
        json_object_set_new(
            o, "network_blocked",
            json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "by",
                      "nftables output filter in the sandbox's network namespace, loaded "
                      "before the command; the command has no CAP_NET_ADMIN",
                      "ipv4",
                      "0/8 10/8 100.64/10 127/8 169.254/16 172.16/12 192.0.0/24 192.168/16 "
                      "198.18/15 224/3 (multicast, reserved, broadcast)",
                      "ipv6", "::/127 ::ffff:0:0/96 fc00::/7 fe80::/10 fec0::/10 ff00::/8",
                      "host_addresses", (int)p->net_host_addrs, "dns",
                      p->dns6 ? LCS_NATIVE_DNS_ADDR " and " LCS_NATIVE_DNS_ADDR6
                                " port 53 only, forwarded by pasta to the host's first IPv4 "
                                "and IPv6 resolvers"
                              : LCS_NATIVE_DNS_ADDR " port 53 only, forwarded by pasta to the "
                                "host's first resolver",
                      "new_host_addresses",
                      p->session ? "added while the session lives (its monitor watches the host)"
                                 : "not added: fixed at the start of this run"));
    json_object_set_new(o, "rootfs", json_string(p->writable_root
                                                     ? "overlay, copy-on-write root"
                                                     : "overlay, read-only root; writable "
                                                       LCS_SANDBOX_HOME " and /tmp"));
    json_object_set_new(o, "layer",
                        json_string(p->layer_tmpfs ? "tmpfs in the sandbox's mount namespace, "
                                                     "size-capped (limits.disk_bytes)"
                                    : R->upper_external ? "the caller's upper_dir (build mode)"
                                                        : "host directory, not size-capped"));
    json_object_set_new(o, "degraded", json_incref(R->degraded));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

void lcs_launch_verdict(lcs_native_result *r, const lcs_supervise_out *mo, const lcs_cg_stats *st)
{
    int ws = mo->wait_status;
    r->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    r->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    const char *v = lcs_verdict(ws, mo->output_exceeded, st->oom_kills > 0, st->pids_max_hits > 0,
                                mo->timed_out, mo->exec_denied);
    snprintf(r->verdict, sizeof r->verdict, "%s", v);
}
