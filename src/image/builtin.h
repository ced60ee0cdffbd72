/*
 * builtin.h - the builtin manifests' source text, generated at build time
 * from container_images/<tier>/<name>/capabilities.json (tools/embed.c).
 */
#ifndef LCS_IMAGE_BUILTIN_H
#define LCS_IMAGE_BUILTIN_H

#include <stddef.h>

extern const char *const lcs_builtin_manifests_sources[];
extern const char *const lcs_builtin_manifests_paths[];
extern const size_t lcs_builtin_manifests_count;

/* The shipped seccomp profile (container_images/seccomp.json), one entry. */
extern const char *const lcs_seccomp_default_sources[];
extern const char *const lcs_seccomp_default_paths[];
extern const size_t lcs_seccomp_default_count;

#endif
