/*
 * privs.c - child side: shed every privilege before the command runs.
 *
 * Called in the command's process (a child of init) right before execve:
 * supplementary groups cleared, capabilities gone from every set (bounding,
 * ambient, inheritable, permitted, effective), securebits locked so that
 * uid 0 or a set-uid file can never bring them back, uid/gid switched to the
 * sandbox user, no_new_privs, rlimits lowered (never raised: the host may
 * not allow it), and finally the seccomp program.
 *
 * Capabilities are dropped with raw prctl/capset rather than libcap because
 * this runs after a raw clone of a possibly multithreaded process, where
 * libcap's allocations could deadlock.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int lower_rlimit(int res, const char *name, uint64_t want, lcs_child_err *e)
{
    struct rlimit rl;
    if (getrlimit(res, &rl) < 0)
        return lcs_child_fail(e, errno, "getrlimit %s", name);
    rlim_t v = (rlim_t)want;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
        v = rl.rlim_max;
    rl.rlim_cur = v;
    rl.rlim_max = v;
    if (setrlimit(res, &rl) < 0)
        return lcs_child_fail(e, errno, "setrlimit %s to %llu", name, (unsigned long long)v);
    return 0;
}

int lcs_privs_drop_bounding(const lcs_plan *p, lcs_child_err *e)
{
    uint64_t keep = p->keep_caps;
    for (int cap = 0; cap <= 63; cap++) {
        if (keep & (1ull << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break; /* past the last capability this kernel knows */
            return lcs_child_fail(e, errno, "drop capability %d from the bounding set", cap);
        }
    }
    return 0;
}

int lcs_privs_drop(const lcs_plan *p, lcs_child_err *e)
{
    /* Root-started sandboxes may clear the supplementary groups inherited
     * from the host (e.g. gid 0). A rootless userns has setgroups denied and
     * keeps the caller's own groups, which grant nothing the caller lacks. */
    if (!p->rootless && syscall(SYS_setgroups, 0, NULL) < 0)
        return lcs_child_fail(e, errno, "setgroups(0)");
    uint64_t keep = p->keep_caps;
    /* A session's init emptied its bounding set already (inherited). */
    if (!p->session && lcs_privs_drop_bounding(p, e) < 0)
        return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return lcs_child_fail(e, errno, "clear ambient capabilities");
    /* Lock the root-is-special rules off: exec of set-uid-root files or
     * becoming uid 0 can never grant capabilities again. Build mode keeps
     * the classic root rules (uid 0 holds the kept set across execve, a
     * switch to another uid drops it, as apt's _apt sandbox expects); the
     * bounding set caps what uid 0 can ever hold, and no_new_privs stops
     * any gain through execve. */
    unsigned long sb = keep ? SECBIT_KEEP_CAPS_LOCKED
                            : SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
#ifdef SECBIT_NO_CAP_AMBIENT_RAISE
    sb |= SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
#endif
    if (prctl(PR_SET_SECUREBITS, sb, 0, 0, 0) < 0)
        return lcs_child_fail(e, errno, "set securebits");
    /* Raw system calls (see init.c): this process may share the memory of
     * init, itself a copy of a multithreaded caller. */
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
        return lcs_child_fail(e, errno, "setresgid %u", (unsigned)p->gid);
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
        return lcs_child_fail(e, errno, "setresuid %u", (unsigned)p->uid);
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].permitted = data[0].effective = (uint32_t)keep;
    data[1].permitted = data[1].effective = (uint32_t)(keep >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return lcs_child_fail(e, errno, "set the capability sets");
    if (syscall(SYS_capget, &hdr, data) < 0)
        return lcs_child_fail(e, errno, "read back capability sets");
    uint64_t perm = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    uint64_t eff = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    if ((perm & ~keep) || (eff & ~keep) || data[0].inheritable || data[1].inheritable)
        return lcs_child_fail(e, 0, "capabilities beyond the allowed set still present");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return lcs_child_fail(e, errno, "set no_new_privs");
    if (lower_rlimit(RLIMIT_CORE, "RLIMIT_CORE", 0, e) < 0 ||
        lower_rlimit(RLIMIT_FSIZE, "RLIMIT_FSIZE", p->fsize, e) < 0 ||
        lower_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", p->nofile, e) < 0)
        return -1;
    return 0;
}

int lcs_seccomp_install(const lcs_plan *p, lcs_child_err *e)
{
    if (!p->seccomp.filter)
        return 0;
    /* no_new_privs is already set, so an unprivileged process may load it
     * (a session's init holds CAP_SYS_ADMIN in its user namespace). */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->seccomp) < 0)
        return lcs_child_fail(e, errno, "load the seccomp filter");
    return 0;
}
