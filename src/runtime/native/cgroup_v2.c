/*
 * cgroup_v2.c - host side: limits, kill and statistics in the sandbox's
 * cgroup2 directory.
 *
 * memory.max with memory.swap.max=0 (no paging past the limit) and, for a
 * one-shot run, memory.oom.group=1 (an OOM kill takes the whole sandbox,
 * not a random victim). A session's cgroup also holds its init: there
 * oom.group is 0, so an OOM kill takes the victim alone (execs make
 * themselves the preferred victims: session_init.c); cgroup.kill (Linux 5.14+) kills every process of the tree in one
 * write, including daemons that left their session.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int lcs_cg_v2_limits(lcs_cgroup *cg, const lcs_cg_limits *lim, lcs_error *err)
{
    char v[64];
    if (cg->mem_v == LCS_CG_V2) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)lim->memory);
        if (lcs_write_file(cg->mem, "memory.max", v) < 0)
            return lcs_fail_errno(err, "set memory.max=%s in %s", v, cg->mem);
        if (lcs_write_file(cg->mem, "memory.swap.max", "0") < 0 && errno != ENOENT)
            return lcs_fail_errno(err, "set memory.swap.max=0 in %s", cg->mem);
        if (lcs_write_file(cg->mem, "memory.oom.group", lim->oom_group ? "1" : "0") < 0 &&
            errno != ENOENT && !lim->oom_group)
            return lcs_fail_errno(err, "set memory.oom.group=0 in %s", cg->mem);
    }
    if (cg->pids_v == LCS_CG_V2) {
        snprintf(v, sizeof v, "%u", (unsigned)lim->pids);
        if (lcs_write_file(cg->pids, "pids.max", v) < 0)
            return lcs_fail_errno(err, "set pids.max=%s in %s", v, cg->pids);
    }
    if (cg->cpu_v == LCS_CG_V2) {
        long quota = (long)(lim->cpus * 100000.0);
        if (quota < 1000)
            quota = 1000;
        snprintf(v, sizeof v, "%ld 100000", quota);
        if (lcs_write_file(cg->cpu, "cpu.max", v) < 0)
            return lcs_fail_errno(err, "set cpu.max=%s in %s", v, cg->cpu);
    }
    return 0;
}

void lcs_cg_v2_kill(const lcs_cgroup *cg)
{
    /* top/ of a split session: init and every exec */
    const char *d = cg->v2_top[0] ? cg->v2_top : cg->v2;
    if (d[0])
        lcs_write_file(d, "cgroup.kill", "1");
}

void lcs_cg_v2_stats(const lcs_cgroup *cg, lcs_cg_stats *st)
{
    uint64_t v;
    if (cg->acct_v == LCS_CG_V2 && lcs_read_keyed(cg->acct, "cpu.stat", "usage_usec", &v) == 0) {
        st->cpu_s = (double)v / 1e6;
        st->have_cpu = 1;
    }
    if (cg->mem_v == LCS_CG_V2) {
        char buf[64];
        if (lcs_read_file(cg->mem, "memory.peak", buf, sizeof buf) == 0) {
            unsigned long long p = 0;
            if (sscanf(buf, "%llu", &p) == 1) {
                st->peak = p;
                st->have_peak = 1;
            }
        }
        if (lcs_read_keyed(cg->mem, "memory.events", "oom_kill", &v) == 0)
            st->oom_kills = v;
        if (lcs_read_keyed(cg->mem, "memory.events", "max", &v) == 0)
            st->mem_failcnt = v;
    }
    if (cg->pids_v == LCS_CG_V2 && lcs_read_keyed(cg->pids, "pids.events", "max", &v) == 0)
        st->pids_max_hits = v;
}
