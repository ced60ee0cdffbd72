/*
 * import.h - any OCI image into the native image store (images import).
 */
#ifndef LCS_SESSION_IMPORT_H
#define LCS_SESSION_IMPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "llmcore/sandbox.h"

typedef struct lcs_import_request {
    /* oci:DIR[:TAG], docker-archive:FILE, docker-daemon:REF (an engine's
     * image), or a path: a directory holding an OCI layout, or a file
     * (a docker-archive tarball). */
    const char *source;
    const char *name;   /* NAME[:VERSION] in the store; NULL: from the source */
    const char *engine; /* for docker-daemon: (NULL: the default engine) */
    bool force;         /* replace an imported image of that name and version */
} lcs_import_request;

/* Copy the image (skopeo) into a new OCI layout, unpack its layers into a
 * rootfs with the image store's id shift (session/layer.c: confined,
 * set-id bits cleared, no devices), add what the runtime needs (the
 * sandbox user 1000, /home/sandbox/work, /tmp), probe it in a RESTRICTED
 * sandbox for the capabilities and tools it has, and install it as
 * <store>/images/NAME/VERSION with a manifest of base-tier defaults.
 * Nothing is installed unless every step worked (the store is unchanged
 * on error); builtin names are refused. Needs root (the id shift).
 * Returns a report object (caller decrefs) or NULL with err set. */
json_t *lcs_image_import(const lcs_registry *reg, const lcs_import_request *rq,
                         lcs_error *err);

#endif
