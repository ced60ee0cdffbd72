/*
 * cgroup_v1.c - host side: limits, kill and statistics in cgroup v1
 * hierarchies (memory, pids, cpu, cpuacct, freezer).
 *
 * Only the directories that cgroup.c placed in v1 are touched here.
 * v1 has no cgroup.kill: the tree is frozen (so no process can fork while
 * we kill), every listed process gets SIGKILL, then it is thawed so the
 * signals are delivered; this repeats until the cgroup is empty.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lcs_cg_v1_limits(lcs_cgroup *cg, const lcs_cg_limits *lim, lcs_error *err)
{
    char v[64];
    if (cg->mem_v == LCS_CG_V1) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)lim->memory);
        if (lcs_write_file(cg->mem, "memory.limit_in_bytes", v) < 0)
            return lcs_fail_errno(err, "set memory.limit_in_bytes=%s in %s", v, cg->mem);
        /* Memory+swap: without it a process could page out past the limit.
         * Absent when the kernel runs without swap accounting. */
        if (lcs_write_file(cg->mem, "memory.memsw.limit_in_bytes", v) < 0 && errno != ENOENT)
            return lcs_fail_errno(err, "set memory.memsw.limit_in_bytes=%s in %s", v, cg->mem);
        lcs_write_file(cg->mem, "memory.swappiness", "0");
    }
    if (cg->pids_v == LCS_CG_V1) {
        snprintf(v, sizeof v, "%u", (unsigned)lim->pids);
        if (lcs_write_file(cg->pids, "pids.max", v) < 0)
            return lcs_fail_errno(err, "set pids.max=%s in %s", v, cg->pids);
    }
    if (cg->cpu_v == LCS_CG_V1) {
        long quota = (long)(lim->cpus * 100000.0);
        if (quota < 1000)
            quota = 1000;
        snprintf(v, sizeof v, "%ld", quota);
        if (lcs_write_file(cg->cpu, "cpu.cfs_period_us", "100000") < 0 ||
            lcs_write_file(cg->cpu, "cpu.cfs_quota_us", v) < 0)
            return lcs_fail_errno(err, "set cpu.cfs_quota_us=%s in %s", v, cg->cpu);
    }
    return 0;
}

/* SIGKILL every pid listed in dir/cgroup.procs; number of pids seen. */
static int kill_listed(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int n = 0, pid;
    while (fscanf(f, "%d", &pid) == 1) {
        if (pid > 1)
            kill(pid, SIGKILL);
        n++;
    }
    fclose(f);
    return n;
}

void lcs_cg_v1_kill_dir(const char *fz, int with_pid1)
{
    (void)with_pid1;
    for (int round = 0; round < 50; round++) {
        lcs_write_file(fz, "freezer.state", "FROZEN");
        int n = kill_listed(fz);
        lcs_write_file(fz, "freezer.state", "THAWED");
        if (n == 0)
            return;
        usleep(2000);
    }
}

void lcs_cg_v1_kill(const lcs_cgroup *cg)
{
    const char *dir = cg->freezer[0] ? cg->freezer : cg->pids[0] ? cg->pids : cg->mem;
    if (!dir[0])
        return;
    for (int round = 0; round < 50; round++) {
        if (cg->freezer[0])
            lcs_write_file(cg->freezer, "freezer.state", "FROZEN");
        int n = kill_listed(dir);
        if (cg->freezer[0])
            lcs_write_file(cg->freezer, "freezer.state", "THAWED");
        if (n == 0)
            return;
        usleep(2000);
    }
}

void lcs_cg_v1_stats(const lcs_cgroup *cg, lcs_cg_stats *st)
{
    char buf[64];
    if (cg->acct_v == LCS_CG_V1 && lcs_read_file(cg->acct, "cpuacct.usage", buf, sizeof buf) == 0) {
        st->cpu_s = (double)strtoull(buf, NULL, 10) / 1e9;
        st->have_cpu = 1;
    }
    if (cg->mem_v == LCS_CG_V1) {
        uint64_t v;
        if (lcs_read_file(cg->mem, "memory.max_usage_in_bytes", buf, sizeof buf) == 0) {
            st->peak = strtoull(buf, NULL, 10);
            st->have_peak = 1;
        }
        if (lcs_read_file(cg->mem, "memory.failcnt", buf, sizeof buf) == 0)
            st->mem_failcnt = strtoull(buf, NULL, 10);
        if (lcs_read_keyed(cg->mem, "memory.oom_control", "oom_kill", &v) == 0)
            st->oom_kills = v;
    }
    if (cg->pids_v == LCS_CG_V1) {
        uint64_t v;
        if (lcs_read_keyed(cg->pids, "pids.events", "max", &v) == 0)
            st->pids_max_hits = v;
    }
}
