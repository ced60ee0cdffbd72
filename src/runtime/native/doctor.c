/*
 * doctor.c - lcs_doctor_json(): what this host can enforce, with the fix
 * for what is missing.
 *
 * The decisive probe is the runtime itself: one real sandbox (an empty
 * lower layer, a command that does not exist) through lcs_native_run with
 * allow_degraded, so user namespaces, overlayfs in a user namespace,
 * pivot_root, /proc, cgroups and seccomp are checked by the very code that
 * fails closed on them, and its `enforced` report says what degraded.
 * Cheaper checks (seccomp support, pasta, /dev/net/tun, subordinate ids,
 * openat2, state directories) come around it.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(json_t *checks, const char *name, int ok, int required, const char *detail,
                  const char *fix)
{
    json_t *c = json_pack("{s:s,s:b,s:b,s:s}", "name", name, "ok", ok, "required", required,
                          "detail", detail ? detail : "");
    if (!ok && fix)
        json_object_set_new(c, "fix", json_string(fix));
    json_array_append_new(checks, c);
}

/* A raw clone into a new user namespace whose child exits at once (no
 * libc in the child: safe from a multithreaded caller). */
static int probe_userns(int *err_out)
{
    long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0UL, 0UL, 0UL, 0UL);
    if (pid == 0)
        syscall(SYS_exit, 0);
    if (pid < 0) {
        *err_out = errno;
        return 0;
    }
    int st;
    while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR) {
    }
    return 1;
}

/* Does /etc/subuid or /etc/subgid hand any of 100000..165535 to another
 * user? root's own entry for exactly that range is what the image builder
 * adds (scripts/build/preflight.sh): those ids are the sandboxes root starts,
 * so no one else can own files under them. */
static int subid_overlap(const char *file, char *who, size_t len)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return 0;
    char line[512];
    int hit = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256];
        unsigned long start, count;
        if (sscanf(line, "%255[^:]:%lu:%lu", name, &start, &count) != 3)
            continue;
        if ((!strcmp(name, "root") || !strcmp(name, "0")) &&
            start == LCS_NATIVE_HOST_ID_BASE && count == LCS_NATIVE_ID_COUNT)
            continue;
        if (start < LCS_NATIVE_HOST_ID_BASE + LCS_NATIVE_ID_COUNT &&
            start + count > LCS_NATIVE_HOST_ID_BASE) {
            snprintf(who, len, "%s (%lu-%lu in %s)", name, start, start + count - 1, file);
            hit = 1;
            break;
        }
    }
    fclose(f);
    return hit;
}

char *lcs_doctor_json(lcs_error *err)
{
    json_t *checks = json_array();
    json_t *root = json_object();
    if (!checks || !root) {
        json_decref(checks);
        json_decref(root);
        lcs_fail_nomem(err);
        return NULL;
    }
    char d[2400];
    int rootless = geteuid() != 0;
    struct utsname u;
    uname(&u);
    json_object_set_new(root, "kernel", json_string(u.release));
    json_object_set_new(root, "mode", json_string(rootless ? "rootless" : "root"));

    int e = 0;
    int userns = probe_userns(&e);
    snprintf(d, sizeof d, userns ? "a new user namespace can be created"
                                 : "clone(CLONE_NEWUSER) failed: %s", strerror(e));
    check(checks, "user_namespaces", userns, 1, d,
          "enable user namespaces: sysctl user.max_user_namespaces=15000 (and "
          "kernel.unprivileged_userns_clone=1 on Debian kernels, or "
          "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu)");

    int secc = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    check(checks, "seccomp", secc, 1, secc ? "seccomp filters are supported" : "no seccomp",
          "use a kernel built with CONFIG_SECCOMP_FILTER");

    errno = 0;
    long r = syscall(SYS_openat2, -1, "", NULL, 0);
    int oa2 = !(r < 0 && errno == ENOSYS);
    check(checks, "openat2", oa2, 1,
          oa2 ? "openat2 (RESOLVE_IN_ROOT) for session file transfers" : "openat2 is missing",
          "Linux 5.6 or newer is needed for session file operations");

    /* cgroups */
    json_t *cg = lcs_cg_probe_json();
    json_object_set_new(root, "cgroups", cg);

    /* The real thing: one sandbox through the runtime. */
    char tmp[] = "/tmp/lcs-doctor-XXXXXX";
    int sandbox_ok = 0;
    json_t *enforced = NULL;
    char serr[2100] = "";
    if (mkdtemp(tmp)) {
        chmod(tmp, 0755);
        char lower[sizeof tmp + 16];
        snprintf(lower, sizeof lower, "%s/rootfs", tmp);
        mkdir(lower, 0755);
        static const char *const argv[] = {"/lcs-doctor-probe", NULL};
        lcs_native_spec s;
        memset(&s, 0, sizeof s);
        s.rootfs = lower;
        s.argv = argv;
        s.seccomp_profile = LCS_NATIVE_SECCOMP_BUILTIN;
        s.allow_degraded = 1;
        s.timeout_s = 10;
        lcs_native_result res;
        lcs_error perr;
        lcs_error_clear(&perr);
        if (lcs_native_run(&s, &res, &perr) == 0) {
            sandbox_ok = res.exit_code == 127;
            enforced = res.enforced_json ? json_loads(res.enforced_json, 0, NULL) : NULL;
            if (!sandbox_ok)
                snprintf(serr, sizeof serr, "verdict %s, exit %d", res.verdict, res.exit_code);
        } else {
            snprintf(serr, sizeof serr, "%s", perr.message);
        }
        lcs_native_result_clear(&res);
        rmdir(lower);
        rmdir(tmp);
    } else {
        snprintf(serr, sizeof serr, "mkdtemp in /tmp: %s", strerror(errno));
    }
    snprintf(d, sizeof d, sandbox_ok ? "a test sandbox ran (user, mount, pid, ipc, uts, cgroup, "
                                       "net namespaces; overlayfs in the user namespace; "
                                       "pivot_root; seccomp; no capabilities)"
                                     : "a test sandbox failed: %s", serr);
    check(checks, "sandbox", sandbox_ok, 1, d,
          "see the message: usually user namespaces, overlayfs in a user namespace (Linux 5.11+) "
          "or a state directory the sandbox's host uid cannot traverse (chmod o+x)");
    json_t *cgs = json_object_get(enforced, "cgroups");
    static const char *const conc[4] = {"memory", "pids", "cpu", "kill"};
    for (int i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(cgs, conc[i]));
        int ok = v && strcmp(v, "none");
        char name[32];
        snprintf(name, sizeof name, "cgroup_%s", conc[i]);
        snprintf(d, sizeof d, ok ? "%s limit/kill through cgroup %s" : "no usable %s controller%s",
                 conc[i], ok ? v : (enforced ? "" : " (the test sandbox did not run)"));
        if (!ok)
            snprintf(d, sizeof d, "no usable %s controller", conc[i]);
        check(checks, name, ok, i < 3, d,
              "run as root, or inside a cgroup delegated to you: systemd-run --user --scope "
              "-p Delegate=yes ... (cgroup v2), or make the v1 hierarchy writable");
    }
    if (enforced)
        json_object_set_new(root, "enforced", enforced);

    int pasta = lcs_native_in_path("pasta");
    check(checks, "pasta", pasta, 0,
          pasta ? "pasta found (FULL network)" : "pasta not found: FULL network is unavailable",
          "apt-get install passt");
    char nft[64];
    int has_nft = lcs_native_find("nft", nft, sizeof nft) == 0;
    check(checks, "nft", has_nft, 0,
          has_nft ? "nft found (the FULL network's host filter)"
                  : "nft not found: FULL network is unavailable",
          "apt-get install nftables");
    int tun = access("/dev/net/tun", R_OK | W_OK) == 0;
    snprintf(d, sizeof d, tun ? "/dev/net/tun is usable" : "/dev/net/tun: %s", strerror(errno));
    check(checks, "dev_net_tun", tun, 0, d,
          rootless ? "pasta needs /dev/net/tun readable and writable by you (chmod 0666 "
                     "/dev/net/tun, as most distributions ship it)"
                   : "modprobe tun");

    if (!rootless) {
        char who[600] = "";
        int hit = subid_overlap("/etc/subuid", who, sizeof who) ||
                  subid_overlap("/etc/subgid", who, sizeof who);
        snprintf(d, sizeof d, hit ? "host ids 100000-165535 (the sandboxes' range) are also "
                                    "assigned to %s"
                                  : "host ids 100000-165535 are assigned to nobody else",
                 who);
        check(checks, "subordinate_ids", !hit, 0, d,
              "move that user's range in /etc/subuid and /etc/subgid above 165535: files it "
              "owns would be reachable as sandbox ids");
    } else {
        check(checks, "subordinate_ids", 1, 0,
              "rootless: only your own uid/gid is mapped (to 1000 inside)", NULL);
    }

    const char *state = rootless ? NULL : "/var/tmp/llmcore-sandbox";
    char sbuf[128];
    if (!state) {
        snprintf(sbuf, sizeof sbuf, "/var/tmp/llmcore-sandbox-%u", (unsigned)geteuid());
        state = sbuf;
    }
    struct stat st;
    int sok = stat(state, &st) < 0 ? access("/var/tmp", W_OK) == 0
                                   : S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
                                         !(st.st_mode & 022);
    snprintf(d, sizeof d, "state directory %s %s", state,
             sok ? "is usable" : "is not usable (must be owned by you, not group/other "
                                 "writable)");
    check(checks, "state_dir", sok, 1, d, "remove it or set state_dir");
    int tl = 0, maj = 0, min = 0;
    if (sscanf(u.release, "%d.%d", &maj, &min) == 2)
        tl = maj > 6 || (maj == 6 && min >= 6);
    check(checks, "tmpfs_layer", tl, 1,
          tl ? "sandboxes keep their writable layer in a private, size-capped tmpfs"
             : "Linux < 6.6: no size-capped writable layer (runs need --allow-degraded "
               "and then use an uncapped layer on disk)",
          "Linux 6.6 or newer");

    int ok = 1;
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c) {
        if (json_is_true(json_object_get(c, "required")) && !json_is_true(json_object_get(c, "ok")))
            ok = 0;
    }
    json_t *out = json_pack("{s:b,s:o}", "ok", ok, "checks", checks);
    json_object_update(out, root);
    json_decref(root);
    char *t = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(out);
    if (!t)
        lcs_fail_nomem(err);
    return t;
}
