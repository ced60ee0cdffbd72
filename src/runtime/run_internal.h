/*
 * run_internal.h - pieces of run.c shared with the sessions (src/session).
 */
#ifndef LCS_RUNTIME_RUN_INTERNAL_H
#define LCS_RUNTIME_RUN_INTERNAL_H

#include <jansson.h>

#include "llmcore/sandbox.h"
#include "runtime/native/native.h"

/* The image's manifest and rootfs: an explicit rootfs (with the given
 * manifest, or the builtin base's), or a built registry image. Caller frees
 * *m (lcs_manifest_free) and *rootfs (free). */
int lcs_resolve_image(const lcs_registry *reg, const char *image, const char *rootfs,
                      const lcs_manifest *manifest, lcs_manifest **m, char **rootfs_out,
                      lcs_error *err);
/* Render a policy as a native spec (strings borrowed from pol; argv and
 * seccomp_profile left for the caller). */
void lcs_spec_from_policy(const lcs_policy *pol, const char *rootfs, lcs_native_spec *s);
/* The policy as a JSON object (what lcs_policy_to_json prints); NULL: no
 * memory. Defined in src/policy/policy.c. */
json_t *lcs_policy_json(const lcs_policy *p);

#endif
