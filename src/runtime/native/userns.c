/*
 * userns.c - host side: the uid/gid maps of a sandbox's user namespace.
 *
 * Started by root, a sandbox maps its ids 0..65535 onto the host range
 * LCS_NATIVE_HOST_ID_BASE.. (100000..165535): the sandbox user 1000 is host
 * uid 101000 and the sandbox's root (used only by init during setup) is host
 * uid 100000, neither of which owns anything on the host. Started by an
 * ordinary user, only that user's own uid/gid is mapped (to 1000): the
 * kernel allows nothing else without a setuid helper, and nothing more is
 * needed because init's capabilities come from owning the namespace.
 *
 * Shared kernel budgets. Some kernel objects are limited per user, and the
 * kernel counts them hierarchically (kernel/ucount.c): what uid U of a user
 * namespace takes is charged to (namespace, U), then to the namespace's
 * owner in the parent namespace, and so on up to the host, each level
 * checked against its own maximum. So whatever a sandbox takes is also
 * taken from the host uid that owns its namespace. Left alone, one sandbox
 * could take all of its owner's inotify instances and watches, POSIX
 * message-queue bytes or queued signals, and then no process of that user
 * (and no other sandbox) got any. The budgets and what bounds each:
 *
 *   - the owner: started by root, the namespace is created by a helper that
 *     is host uid LCS_NATIVE_HOST_ID_BASE (the sandbox's own root), so
 *     nothing a sandbox takes is charged to host root. Not with FULL
 *     network: pasta, started by root, joins the namespace as its owner
 *     (owned by another uid it is refused init's /proc/<pid>/ns files, and
 *     run as that uid it cannot open a root-only /dev/net/tun), so such a
 *     sandbox stays owned by root. Rootless, the owner can only be the
 *     caller.
 *   - the per-user-namespace limits of /proc/sys/user (user, pid, uts, ipc,
 *     net, mnt, cgroup and time namespaces; inotify instances and watches;
 *     fanotify groups and marks) are set in the sandbox's namespace by init,
 *     which holds CAP_SYS_RESOURCE there, before any sandbox code runs:
 *     1/LCS_BUDGET_SHARE of the caller's own values. They bound each uid of
 *     the sandbox. (The shipped seccomp profile refuses namespace creation
 *     and fanotify outright; the limits hold for any profile.)
 *   - the rlimit-backed budgets (RLIMIT_MSGQUEUE, RLIMIT_SIGPENDING,
 *     RLIMIT_MEMLOCK for SHM_LOCK) are checked against the process's own
 *     rlimit at the sandbox's level: init lowers them, hard and soft, to
 *     1/LCS_BUDGET_SHARE of the caller's (nobody in the sandbox may raise a
 *     hard limit: that takes CAP_SYS_RESOURCE on the host). RLIMIT_NPROC is
 *     the sandbox's pids limit plus LCS_NPROC_SLACK, which holds even
 *     without a pids cgroup.
 *   - at the owner's level the kernel checks the rlimit-backed budgets
 *     against the rlimits the creator had when it made the namespace.
 *     When the owner is the caller (rootless, FULL network), the helper
 *     lowers its soft RLIMIT_MSGQUEUE and RLIMIT_SIGPENDING to half of the
 *     caller's first: a sandbox's charge fails once the caller's total
 *     would pass half, so the caller keeps at least half whatever the
 *     number of sandboxes. (For RLIMIT_MEMLOCK the kernel compares pages
 *     there with the byte value of the rlimit, so only the per-sandbox
 *     limit bounds it.)
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *const lcs_userns_limit_names[LCS_USERNS_LIMITS] = {
    "max_user_namespaces",   "max_pid_namespaces",    "max_uts_namespaces",
    "max_ipc_namespaces",    "max_net_namespaces",    "max_mnt_namespaces",
    "max_cgroup_namespaces", "max_time_namespaces",   "max_inotify_instances",
    "max_inotify_watches",   "max_fanotify_groups",   "max_fanotify_marks"};
const int lcs_rl_budget_res[LCS_RL_BUDGETS] = {RLIMIT_MSGQUEUE, RLIMIT_SIGPENDING,
                                               RLIMIT_MEMLOCK, RLIMIT_NPROC};
const char *const lcs_rl_budget_names[LCS_RL_BUDGETS] = {"msgqueue", "sigpending", "memlock",
                                                         "nproc"};
/* The base when the caller has no limit: the kernel's defaults for an
 * ordinary user (MQ_BYTES_MAX, MLOCK_LIMIT; 32768 queued signals). */
static const uint64_t rl_unlimited_base[LCS_RL_BUDGETS] = {819200, 32768, 8u << 20, 0};

void lcs_userns_budgets(lcs_plan *p, uint32_t pids)
{
    /* FULL network: pasta (run by root) joins the namespace as its owner;
     * it could not join one owned by another uid (userns.c, top). */
    p->owner = p->rootless || p->network == LCS_NATIVE_NET_FULL ? geteuid()
                                                                : (uid_t)LCS_NATIVE_HOST_ID_BASE;
    for (int i = 0; i < LCS_USERNS_LIMITS; i++) {
        /* /proc/sys/user shows the reader's own namespace: the caller's */
        char path[64], buf[32];
        snprintf(path, sizeof path, "/proc/sys/user/%s", lcs_userns_limit_names[i]);
        p->userns_max[i] = -1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* not built into this kernel */
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        long v = strtol(buf, NULL, 10);
        p->userns_max[i] = v > 0 ? (v / LCS_BUDGET_SHARE > 0 ? v / LCS_BUDGET_SHARE : 1) : 0;
    }
    for (int i = 0; i < LCS_RL_BUDGETS; i++) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        getrlimit(lcs_rl_budget_res[i], &rl);
        uint64_t base = rl.rlim_cur == RLIM_INFINITY ? rl_unlimited_base[i] : rl.rlim_cur;
        /* RLIMIT_NPROC: the pids limit plus a slack. The kernel checks the
         * rlimit before the pids cgroup's charge, so at equal bounds a
         * fork bomb would meet the rlimit first and the verdict (read from
         * the cgroup's counter) would say "exit"; with the slack the cgroup
         * answers wherever it exists, and the rlimit still bounds a
         * sandbox without one. */
        uint64_t v = lcs_rl_budget_res[i] == RLIMIT_NPROC ? (uint64_t)pids + LCS_NPROC_SLACK
                                                          : base / LCS_BUDGET_SHARE;
        if (v == 0)
            v = 1;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
            v = rl.rlim_max; /* init can only lower */
        p->rl[i] = v;
        p->rl_pool[i] = 0;
        if (p->owner == geteuid() && rl.rlim_cur != RLIM_INFINITY &&
            (lcs_rl_budget_res[i] == RLIMIT_MSGQUEUE ||
             lcs_rl_budget_res[i] == RLIMIT_SIGPENDING))
            p->rl_pool[i] = rl.rlim_cur / 2 > v ? rl.rlim_cur / 2 : v;
    }
}

int lcs_userns_creator_setup(const lcs_plan *p)
{
    /* This runs in a vfork'ed child that shares the caller's memory (and
     * its thread's TLS): raw system calls only; its own rlimits change, the
     * caller's do not. */
    for (int i = 0; i < LCS_RL_BUDGETS; i++) {
        if (!p->rl_pool[i])
            continue;
        struct rlimit rl;
        if (syscall(SYS_prlimit64, 0, lcs_rl_budget_res[i], NULL, &rl) < 0)
            return -1;
        rl.rlim_cur = (rlim_t)p->rl_pool[i];
        if (syscall(SYS_prlimit64, 0, lcs_rl_budget_res[i], &rl, NULL) < 0)
            return -1;
    }
    if (p->owner == geteuid())
        return 0;
    /* Root mode: become the namespace's owner, host uid/gid
     * LCS_NATIVE_HOST_ID_BASE (the sandbox's own root, which owns nothing
     * else on the host), keeping every capability (no setuid fixup): to the
     * kernel and to LSMs that restrict unprivileged user namespaces this is
     * still root creating it; only the owner differs, and with it whom the
     * budgets are charged to. No other host process runs as that uid. */
    if (syscall(SYS_prctl, PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0 ||
        syscall(SYS_setgroups, 0, NULL) < 0 ||
        syscall(SYS_setresgid, LCS_NATIVE_HOST_ID_BASE, LCS_NATIVE_HOST_ID_BASE,
                LCS_NATIVE_HOST_ID_BASE) < 0 ||
        syscall(SYS_setresuid, p->owner, p->owner, p->owner) < 0)
        return -1;
    return 0;
}

int lcs_userns_apply_budgets(const lcs_plan *p, lcs_child_err *e)
{
    /* /proc/sys/user/ names the writer's own user namespace (the sandbox's),
     * whichever proc it is reached through; init holds CAP_SYS_RESOURCE in
     * it, which the kernel asks for to write. */
    for (int i = 0; i < LCS_USERNS_LIMITS; i++) {
        if (p->userns_max[i] < 0)
            continue;
        char path[64], val[24];
        snprintf(path, sizeof path, "/proc/sys/user/%s", lcs_userns_limit_names[i]);
        int len = snprintf(val, sizeof val, "%ld", p->userns_max[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? write(fd, val, (size_t)len) : -1;
        int saved = errno;
        if (fd >= 0)
            close(fd);
        if (n != len)
            return lcs_child_fail(e, n < 0 ? saved : EIO,
                                  "set %s of the sandbox's user namespace to %ld", path,
                                  p->userns_max[i]);
    }
    /* Hard and soft: inherited by every process of the sandbox, and none of
     * them may raise a hard limit (CAP_SYS_RESOURCE on the host). */
    for (int i = 0; i < LCS_RL_BUDGETS; i++) {
        struct rlimit rl;
        if (getrlimit(lcs_rl_budget_res[i], &rl) < 0)
            return lcs_child_fail(e, errno, "getrlimit %s", lcs_rl_budget_names[i]);
        rlim_t v = (rlim_t)p->rl[i];
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
            v = rl.rlim_max;
        rl.rlim_cur = rl.rlim_max = v;
        if (setrlimit(lcs_rl_budget_res[i], &rl) < 0)
            return lcs_child_fail(e, errno, "set the sandbox's rlimit %s to %llu",
                                  lcs_rl_budget_names[i], (unsigned long long)v);
    }
    return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text, lcs_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return lcs_fail_errno(err, "open %s to set up the sandbox's user namespace", path);
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        errno = n < 0 ? saved : EIO;
        return lcs_fail_errno(err, "write \"%s\" to %s", text, path);
    }
    return 0;
}

uid_t lcs_userns_host_uid(const lcs_plan *p, uid_t inside)
{
    return p->rootless ? getuid() : (uid_t)(LCS_NATIVE_HOST_ID_BASE + inside);
}

gid_t lcs_userns_host_gid(const lcs_plan *p, gid_t inside)
{
    return p->rootless ? getgid() : (gid_t)(LCS_NATIVE_HOST_ID_BASE + inside);
}

int lcs_userns_write_maps(pid_t pid, const lcs_plan *p, lcs_error *err)
{
    char map[64];
    if (p->rootless) {
        /* Mandatory for an unprivileged writer of gid_map. */
        if (write_proc(pid, "setgroups", "deny", err) < 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->gid, (unsigned)getgid());
        if (write_proc(pid, "gid_map", map, err) < 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->uid, (unsigned)getuid());
        return write_proc(pid, "uid_map", map, err);
    }
    snprintf(map, sizeof map, "0 %u %u\n", LCS_NATIVE_HOST_ID_BASE, LCS_NATIVE_ID_COUNT);
    if (write_proc(pid, "gid_map", map, err) < 0 || write_proc(pid, "uid_map", map, err) < 0)
        return -1;
    return 0;
}
