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

int lcs_seccomp_default(struct sock_fprog *out, lcs_seccomp_info *info, lcs_error *err)
{
    size_t n = sizeof default_bpf / sizeof default_bpf[0];
    out->filter = malloc(sizeof default_bpf);
    if (!out->filter)
        return lcs_fail_nomem(err);
    memcpy(out->filter, default_bpf, sizeof default_bpf);
    out->len = (unsigned short)n;
    *info = default_info;
    return 0;
}
