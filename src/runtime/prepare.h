/*
 * prepare.h - the one "prepare" step every sandbox start goes through,
 * one-shot, warm or session: image -> manifest + rootfs -> policy ->
 * backend spec. Callers (src/session) add the command and its input.
 */
#ifndef LCS_RUNTIME_PREPARE_H
#define LCS_RUNTIME_PREPARE_H

#include "llmcore/sandbox.h"
#include "runtime/native/native.h"

typedef struct lcs_prepare_req {
    const char *image;                    /* a registry reference, or */
    const char *rootfs;                   /* an explicit root filesystem */
    const lcs_manifest *manifest;         /* with rootfs: its manifest (default: base) */
    const lcs_policy_overrides *overrides;
    const char *seccomp_profile;          /* NULL: the shipped profile */
    int outlives;                         /* the sandbox outlives this process (a
                                             session, a warm sandbox): the profile is
                                             named by its real path */
} lcs_prepare_req;

typedef struct lcs_prepared {
    lcs_manifest *manifest;
    char *rootfs;
    char *image;           /* the manifest's full name, name:version */
    char *seccomp_real;    /* the profile's real path (outlives only) */
    lcs_policy policy;
    lcs_native_spec spec;  /* the backend spec: borrows from the fields above;
                              argv and stdin are the caller's to set */
} lcs_prepared;

/* Resolve the image (a built registry image, or the explicit rootfs with
 * its manifest), compute the policy (overrides checked against the
 * manifest's limits) and render it as the backend spec. 0, or -1 with err
 * set and *out cleared. */
int lcs_prepare(const lcs_registry *reg, const lcs_prepare_req *req, lcs_prepared *out,
                lcs_error *err);
void lcs_prepared_clear(lcs_prepared *p);

#endif
