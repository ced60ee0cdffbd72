/*
 * seccomp.c - host side: compile an OCI/Docker seccomp JSON profile.
 *
 * The profile (container_images/seccomp.json) is parsed with jansson and
 * turned into a filter with libseccomp; the BPF program is exported here in
 * the monitor so that the sandbox side only has to hand a ready program to
 * the kernel (no allocation, no library call after the raw clone).
 *
 * Supported: defaultAction/defaultErrnoRet; architectures[] and archMap[];
 * syscalls[] entries with names[] (or name), action, errnoRet, args[]
 * (index, value, valueTwo, op). Several args on different indexes are ANDed
 * in one rule; several args on the same index become separate rules (OR),
 * as Docker does. Entries with "includes" (capabilities, arches) are for
 * privileged containers and are skipped: sandboxes never hold capabilities.
 * Names unknown to this libseccomp/architecture are skipped and counted.
 */
#include "util/io.h"
#include "runtime/native/internal.h"

#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_action(const char *name, json_t *errno_ret, uint32_t *out)
{
    int e = json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : EPERM;
    if (!strcmp(name, "SCMP_ACT_ALLOW"))
        *out = SCMP_ACT_ALLOW;
    else if (!strcmp(name, "SCMP_ACT_ERRNO"))
        *out = SCMP_ACT_ERRNO((uint16_t)e);
    else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
        *out = SCMP_ACT_KILL;
    else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
        *out = SCMP_ACT_KILL_PROCESS;
    else if (!strcmp(name, "SCMP_ACT_TRAP"))
        *out = SCMP_ACT_TRAP;
    else if (!strcmp(name, "SCMP_ACT_LOG"))
        *out = SCMP_ACT_LOG;
    else
        return -1;
    return 0;
}

static int parse_op(const char *name, enum scmp_compare *out)
{
    static const struct {
        const char *n;
        enum scmp_compare op;
    } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
               {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
               {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
               {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(name, ops[i].n)) {
            *out = ops[i].op;
            return 0;
        }
    return -1;
}

static int parse_args(json_t *args, struct scmp_arg_cmp *cmp, unsigned *n, int *same_index,
                      const char *path, lcs_error *err)
{
    *n = 0;
    *same_index = 0;
    if (!args || json_is_null(args))
        return 0;
    if (!json_is_array(args) || json_array_size(args) > 6)
        return lcs_fail(err, LCS_E_VALIDATION, "seccomp profile %s: \"args\" must be an array "
                                               "of at most 6 comparisons", path);
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
        json_t *idx = json_object_get(a, "index"), *val = json_object_get(a, "value");
        json_t *val2 = json_object_get(a, "valueTwo"), *op = json_object_get(a, "op");
        enum scmp_compare c;
        if (!json_is_integer(idx) || json_integer_value(idx) < 0 || json_integer_value(idx) > 5 ||
            !json_is_integer(val) || !json_is_string(op) || parse_op(json_string_value(op), &c) < 0)
            return lcs_fail(err, LCS_E_VALIDATION,
                            "seccomp profile %s: bad comparison in \"args\" (need index 0-5, "
                            "integer value, op SCMP_CMP_*)", path);
        cmp[i].arg = (unsigned)json_integer_value(idx);
        cmp[i].op = c;
        /* For MASKED_EQ the OCI format puts the mask in value and the
         * expected value in valueTwo; libseccomp wants (mask, datum). */
        cmp[i].datum_a = (scmp_datum_t)json_integer_value(val);
        cmp[i].datum_b = json_is_integer(val2) ? (scmp_datum_t)json_integer_value(val2) : 0;
        for (size_t j = 0; j < i; j++)
            if (cmp[j].arg == cmp[i].arg)
                *same_index = 1;
    }
    *n = (unsigned)json_array_size(args);
    return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t def, uint32_t act, int nr,
                    const struct scmp_arg_cmp *cmp, unsigned n, int split, unsigned *rules)
{
    if (act == def)
        return 0; /* same as the default: nothing to add */
    if (split) {
        for (unsigned i = 0; i < n; i++) {
            int rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
            if (rc < 0)
                return rc;
            (*rules)++;
        }
        return 0;
    }
    int rc = seccomp_rule_add_array(ctx, act, nr, n, n ? cmp : NULL);
    if (rc == 0)
        (*rules)++;
    return rc;
}

static uint32_t arch_from_oci(json_t *j)
{
    if (!json_is_string(j))
        return 0;
    const char *s = json_string_value(j);
    if (!strncmp(s, "SCMP_ARCH_", 10))
        s += 10;
    char low[32];
    size_t i = 0;
    for (; s[i] && i < sizeof low - 1; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    low[i] = 0;
    return seccomp_arch_resolve_name(low);
}

/* The native architecture is always in the filter. Other architectures are
 * added only when the profile names them: in "architectures", or in archMap
 * as sub-architectures of the native one. Syscalls of any other ABI hit the
 * bad-architecture action (kill). */
static void add_arches(scmp_filter_ctx ctx, json_t *root)
{
    uint32_t native = seccomp_arch_native();
    size_t i, k;
    json_t *a, *sub;
    json_array_foreach(json_object_get(root, "architectures"), i, a) {
        uint32_t arch = arch_from_oci(a);
        if (arch && arch != native)
            seccomp_arch_add(ctx, arch);
    }
    json_array_foreach(json_object_get(root, "archMap"), i, a) {
        if (arch_from_oci(json_object_get(a, "architecture")) != native)
            continue;
        json_array_foreach(json_object_get(a, "subArchitectures"), k, sub) {
            uint32_t arch = arch_from_oci(sub);
            if (arch && arch != native)
                seccomp_arch_add(ctx, arch);
        }
    }
}

/* The errno of the profile's clone3 rule when it is the only rule naming
 * clone3 and refuses it unconditionally with an errno (ours, and Docker's
 * default, say ENOSYS); else -1. */
static int clone3_errno(json_t *calls)
{
    int found = -1, rules = 0;
    size_t i, k;
    json_t *ent, *nm;
    json_array_foreach(calls, i, ent) {
        int names_it = 0;
        json_array_foreach(json_object_get(ent, "names"), k, nm)
            names_it |= json_is_string(nm) && !strcmp(json_string_value(nm), "clone3");
        json_t *one = json_object_get(ent, "name");
        names_it |= json_is_string(one) && !strcmp(json_string_value(one), "clone3");
        if (!names_it)
            continue;
        rules++;
        json_t *act = json_object_get(ent, "action"), *er = json_object_get(ent, "errnoRet");
        json_t *args = json_object_get(ent, "args");
        if (json_is_string(act) && !strcmp(json_string_value(act), "SCMP_ACT_ERRNO") &&
            json_is_integer(er) && json_integer_value(er) > 0 &&
            json_integer_value(er) < 4096 && (!args || json_array_size(args) == 0) &&
            (!json_object_get(ent, "includes") ||
             json_object_size(json_object_get(ent, "includes")) == 0) &&
            (!json_object_get(ent, "excludes") ||
             json_object_size(json_object_get(ent, "excludes")) == 0))
            found = (int)json_integer_value(er);
    }
    return rules == 1 ? found : -1;
}

/* ctx's program into out (malloc'ed). */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *out, const char *path,
                       lcs_error *err)
{
    int memfd = memfd_create("lcs-seccomp", MFD_CLOEXEC);
    if (memfd < 0)
        return lcs_fail_errno(err, "memfd_create for the seccomp program");
    int rc = -1;
    int er = seccomp_export_bpf(ctx, memfd);
    struct stat sb;
    if (er < 0 || fstat(memfd, &sb) < 0 || sb.st_size <= 0 ||
        sb.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
        sb.st_size / (off_t)sizeof(struct sock_filter) > 65535) {
        lcs_fail(err, LCS_E_INTERNAL, "export the seccomp program of %s failed", path);
        goto out;
    }
    out->filter = malloc((size_t)sb.st_size);
    if (!out->filter) {
        lcs_fail_nomem(err);
        goto out;
    }
    if (pread(memfd, out->filter, (size_t)sb.st_size, 0) != sb.st_size) {
        lcs_fail_errno(err, "read back the seccomp program");
        free(out->filter);
        out->filter = NULL;
        goto out;
    }
    out->len = (unsigned short)(sb.st_size / (off_t)sizeof(struct sock_filter));
    rc = 0;
out:
    close(memfd);
    return rc;
}

int lcs_seccomp_compile(const char *path, struct sock_fprog *out, lcs_seccomp_info *info,
                        lcs_error *err)
{
    return lcs_seccomp_compile_session(path, out, NULL, info, err);
}

int lcs_seccomp_compile_session(const char *path, struct sock_fprog *out,
                                struct sock_fprog *guard, lcs_seccomp_info *info,
                                lcs_error *err)
{
    memset(out, 0, sizeof *out);
    if (guard)
        memset(guard, 0, sizeof *guard);
    memset(info, 0, sizeof *info);
    json_error_t je;
    int pfd = lcs_open_input_file(path, "seccomp profile", err);
    if (pfd < 0)
        return -1;
    json_t *root = json_loadfd(pfd, 0, &je);
    close(pfd);
    if (!root) {
        if (err) {
            lcs_fail(err, LCS_E_PARSE, "seccomp profile %s: %s (line %d, column %d)", path,
                     je.text, je.line, je.column);
            err->line = je.line;
            err->column = je.column;
        }
        return -1;
    }
    int rc = -1;
    scmp_filter_ctx ctx = NULL, gctx = NULL;
    json_t *da = json_object_get(root, "defaultAction");
    uint32_t def;
    if (!json_is_string(da) ||
        parse_action(json_string_value(da), json_object_get(root, "defaultErrnoRet"), &def) < 0) {
        lcs_fail(err, LCS_E_VALIDATION, "seccomp profile %s: missing or unknown defaultAction",
                 path);
        goto out;
    }
    snprintf(info->default_action, sizeof info->default_action, "%s", json_string_value(da));
    ctx = seccomp_init(def);
    if (!ctx) {
        lcs_fail(err, LCS_E_INTERNAL, "seccomp_init failed for profile %s", path);
        goto out;
    }
    add_arches(ctx, root);
    json_t *calls = json_object_get(root, "syscalls");
    if (!json_is_array(calls)) {
        lcs_fail(err, LCS_E_VALIDATION, "seccomp profile %s: \"syscalls\" must be an array", path);
        goto out;
    }
    /* A session: init's filter lets clone3 through and every exec stacks
     * the guard, which gives clone3 the profile's answer again (the kernel
     * applies the stricter of the two filters). */
    int c3 = guard ? clone3_errno(calls) : -1;
    int c3nr = seccomp_syscall_resolve_name("clone3");
    if (c3 > 0 && c3nr != __NR_SCMP_ERROR) {
        gctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!gctx || (add_arches(gctx, root), seccomp_rule_add(gctx, SCMP_ACT_ERRNO((uint32_t)c3),
                                                               c3nr, 0)) < 0 ||
            add_rule(ctx, def, SCMP_ACT_ALLOW, c3nr, NULL, 0, 0, &info->rules) < 0) {
            lcs_fail(err, LCS_E_INTERNAL, "seccomp profile %s: cannot build the clone3 guard",
                     path);
            goto out;
        }
    } else {
        c3 = -1;
    }
    size_t i;
    json_t *ent;
    json_array_foreach(calls, i, ent) {
        if (json_object_get(ent, "includes") &&
            json_object_size(json_object_get(ent, "includes")) > 0)
            continue;
        json_t *act = json_object_get(ent, "action");
        uint32_t action;
        if (!json_is_string(act) ||
            parse_action(json_string_value(act), json_object_get(ent, "errnoRet"), &action) < 0) {
            lcs_fail(err, LCS_E_VALIDATION, "seccomp profile %s: syscalls[%zu] has a missing "
                                            "or unknown action", path, i);
            goto out;
        }
        struct scmp_arg_cmp cmp[6];
        unsigned n;
        int split;
        if (parse_args(json_object_get(ent, "args"), cmp, &n, &split, path, err) < 0)
            goto out;
        json_t *names = json_object_get(ent, "names");
        json_t *one = json_object_get(ent, "name");
        size_t cnt = json_is_array(names) ? json_array_size(names) : (json_is_string(one) ? 1 : 0);
        for (size_t k = 0; k < cnt; k++) {
            json_t *nm = json_is_array(names) ? json_array_get(names, k) : one;
            if (!json_is_string(nm))
                continue;
            int nr = seccomp_syscall_resolve_name(json_string_value(nm));
            if (nr == __NR_SCMP_ERROR) {
                info->unknown_names++;
                continue;
            }
            if (c3 > 0 && nr == c3nr)
                continue; /* the guard's (above) */
            int r = add_rule(ctx, def, action, nr, cmp, n, split, &info->rules);
            if (r < 0) {
                lcs_fail(err, LCS_E_VALIDATION,
                         "seccomp profile %s: cannot add the rule for %s (syscalls[%zu]): %s",
                         path, json_string_value(nm), i, strerror(-r));
                goto out;
            }
        }
    }
    if (export_prog(ctx, out, path, err) < 0)
        goto out;
    if (gctx && export_prog(gctx, guard, path, err) < 0) {
        free(out->filter);
        memset(out, 0, sizeof *out);
        goto out;
    }
    rc = 0;
out:
    if (ctx)
        seccomp_release(ctx);
    if (gctx)
        seccomp_release(gctx);
    json_decref(root);
    return rc;
}
