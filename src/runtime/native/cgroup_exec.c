/*
 * cgroup_exec.c - the cgroups of one exec in a session: made under the
 * session's, opened for init to clone the exec into (or to move it by pid
 * where the kernel cannot), watched, killed and removed.
 */
#include "runtime/native/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* The session's memory cgroup when init is not in it, else "". */
static void exec_mem_dir(const lcs_native_sandbox *sb, lcs_native_execcg *cg)
{
    const lcs_cgroup *scg = &sb->R->cg;
    cg->mem[0] = 0;
    cg->mem_v1 = scg->mem_v == LCS_CG_V1;
    if (scg->init_apart && scg->mem_v)
        snprintf(cg->mem, sizeof cg->mem, "%s", scg->mem);
}

void lcs_native_execcg_memory_only(const lcs_native_sandbox *sb, lcs_native_execcg *cg)
{
    memset(cg, 0, sizeof *cg);
    exec_mem_dir(sb, cg);
}

int lcs_native_execcg_create(const lcs_native_sandbox *sb, uint32_t n, lcs_native_execcg *cg,
                             lcs_error *err)
{
    const lcs_cgroup *scg = &sb->R->cg;
    memset(cg, 0, sizeof *cg);
    exec_mem_dir(sb, cg);
    if (scg->v2[0]) {
        snprintf(cg->v2, sizeof cg->v2, "%s/x%u", scg->v2, (unsigned)n);
        if (mkdir(cg->v2, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            cg->v2[0] = 0;
            errno = e;
            return lcs_fail_errno(err, "create the exec cgroup under %s", scg->v2);
        }
        /* init clones the exec into it (lcs_native_execcg_open_dir): the
         * kernel checks init's own uid against this cgroup.procs and the
         * session's (given to it at the session's start, build). */
        if (lcs_cg_v2_joined(scg) && lcs_launch_give_procs(sb->R, cg->v2, err) < 0) {
            lcs_native_execcg_remove(cg);
            return -1;
        }
    }
    if (scg->freezer[0]) {
        snprintf(cg->freezer, sizeof cg->freezer, "%s/x%u", scg->freezer, (unsigned)n);
        if (mkdir(cg->freezer, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            cg->freezer[0] = 0;
            errno = e;
            lcs_native_execcg_remove(cg);
            return lcs_fail_errno(err, "create the exec cgroup under %s", scg->freezer);
        }
    }
    return 0;
}

/* The memory cgroup is joined only where the exec's own v2 directory is
 * not already inside it (a v2 memory cgroup is the session's v2 directory,
 * the parent of the exec's). */
static int mem_needed(const lcs_native_execcg *cg)
{
    size_t l = strlen(cg->mem);
    return cg->mem[0] && !(cg->v2[0] && !strncmp(cg->v2, cg->mem, l) && cg->v2[l] == '/');
}

int lcs_native_execcg_open_procs(const lcs_native_execcg *cg, int fds[3], lcs_error *err)
{
    const char *dirs[3] = {mem_needed(cg) ? cg->mem : "", cg->v2, cg->freezer};
    /* v1: "tasks", which a single-threaded child writing "0" joins without
     * the kernel's global threadgroup lock (internal.h) */
    const char *files[3] = {cg->mem_v1 ? "tasks" : "cgroup.procs", "cgroup.procs", "tasks"};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (!dirs[i][0])
            continue;
        char p[sizeof cg->v2 + 16];
        snprintf(p, sizeof p, "%.*s/%s", (int)sizeof cg->v2 - 1, dirs[i], files[i]);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            while (n > 0)
                close(fds[--n]);
            errno = e;
            return lcs_fail_errno(err, "open %s", p);
        }
        fds[n++] = fd;
    }
    return n;
}

int lcs_native_execcg_open_dir(const lcs_native_sandbox *sb, const lcs_native_execcg *cg,
                               int *procs_index)
{
    if (!lcs_cg_v2_joined(&sb->R->cg))
        return -1;
    if (!cg->v2[0]) {
        /* a warm sandbox's one exec: into the split session's work/ (its
         * memory cgroup), whose cgroup.procs init's uid was given */
        if (!sb->R->cg.v2_top[0] || !cg->mem[0] || cg->mem_v1)
            return -1;
        *procs_index = 0;
        return open(cg->mem, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    *procs_index = mem_needed(cg) ? 1 : 0;
    return open(cg->v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int lcs_native_execcg_attach(const lcs_native_execcg *cg, pid_t pid, lcs_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    const char *dirs[3] = {mem_needed(cg) ? cg->mem : "", cg->v2, cg->freezer};
    for (int i = 0; i < 3; i++)
        if (dirs[i][0] && lcs_write_file(dirs[i], "cgroup.procs", buf) < 0)
            return lcs_fail_errno(err, "move the exec into cgroup %s", dirs[i]);
    return 0;
}

void lcs_native_execcg_kill(const lcs_native_execcg *cg)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/cgroup.kill", cg->v2);
    if (cg->v2[0] && access(p, F_OK) == 0) {
        lcs_write_file(cg->v2, "cgroup.kill", "1");
        return;
    }
    if (cg->freezer[0])
        lcs_cg_v1_kill_dir(cg->freezer, 1);
}

int lcs_native_execcg_populated(const lcs_native_execcg *cg)
{
    uint64_t v = 0;
    if (cg->v2[0] && lcs_read_keyed(cg->v2, "cgroup.events", "populated", &v) == 0)
        return v != 0;
    char buf[16];
    if (cg->freezer[0] && lcs_read_file(cg->freezer, "cgroup.procs", buf, sizeof buf) == 0)
        return buf[0] != 0;
    return 0;
}

double lcs_native_execcg_cpu(const lcs_native_execcg *cg)
{
    uint64_t v;
    if (cg->v2[0] && lcs_read_keyed(cg->v2, "cpu.stat", "usage_usec", &v) == 0)
        return (double)v / 1e6;
    return -1;
}

int lcs_native_execcg_remove(lcs_native_execcg *cg)
{
    int rc = 0;
    char *dirs[2] = {cg->v2, cg->freezer};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i][0])
            continue;
        if (rmdir(dirs[i]) == 0 || errno == ENOENT)
            dirs[i][0] = 0;
        else
            rc = -1;
    }
    return rc;
}

