/*
 * seccomp_default.c - the shipped seccomp profile, precompiled to BPF at
 * build time (src/runtime/native/gen/seccomp_bpf_gen.c writes
 * $(B)/gen/seccomp_bpf.inc from container_images/seccomp.json; rule in
 * src/runtime/native/native.mk). Saves compiling the JSON with libseccomp
 * on every sandbox start; custom profiles are still compiled at run time.
 */
#include "runtime/native/internal.h"

#include <stdlib.h>
#include <string.h>

#include "seccomp_bpf.inc"

static int copy_prog(struct sock_fprog *out, const struct sock_filter *f, unsigned n,
                     lcs_error *err)
{
    out->filter = NULL;
    out->len = 0;
    if (!n)
        return 0;
    out->filter = malloc(n * sizeof *f);
    if (!out->filter)
        return lcs_fail_nomem(err);
    memcpy(out->filter, f, n * sizeof *f);
    out->len = (unsigned short)n;
    return 0;
}

int lcs_seccomp_default(struct sock_fprog *out, struct sock_fprog *guard,
                        lcs_seccomp_info *info, lcs_error *err)
{
    if (!guard) {
        *info = default_info;
        return copy_prog(out, default_bpf, default_bpf_len, err);
    }
    *info = session_info;
    if (copy_prog(out, session_bpf, session_bpf_len, err) < 0)
        return -1;
    if (copy_prog(guard, guard_bpf, guard_bpf_len, err) < 0) {
        free(out->filter);
        out->filter = NULL;
        out->len = 0;
        return -1;
    }
    return 0;
}
