/*
 * docker.h - the Docker Engine API backend's pieces (Docker and Podman's
 * compatible service). This far: the policy rendered as the body of
 * POST /containers/create. Private to the library.
 */
#ifndef LCS_RUNTIME_DOCKER_DOCKER_H
#define LCS_RUNTIME_DOCKER_DOCKER_H

#include <jansson.h>
#include <stdint.h>

#include "llmcore/sandbox.h"

/* Where Podman's compatible service differs from Docker's daemon. */
typedef enum lcs_docker_flavour {
    LCS_ENGINE_DOCKER = 0,
    LCS_ENGINE_PODMAN = 1,
} lcs_docker_flavour;

typedef struct lcs_docker_create {
    const lcs_policy *policy;
    const char *image;          /* the engine's image reference */
    const char *const *argv;    /* the command; NULL for a session's container,
                                   which its init keeps up until destroyed */
    const char *session_id;     /* labelled when given */
    const char *seccomp;        /* the seccomp profile (Docker's format): its JSON
                                   text for Docker, which takes the profile itself;
                                   the path of its file for Podman, which opens
                                   the value as a file on the engine's host */
    const char *full_network;   /* FULL: the engine network to join (NULL: "bridge") */
    lcs_docker_flavour flavour;
    uint64_t nproc;             /* RLIMIT_NPROC to set, 0: none. Podman sets an
                                   unlisted one to its maximum, which a root without
                                   CAP_SYS_RESOURCE cannot; it counts the processes
                                   of the uid on the whole host, so it is a bound
                                   the engine can live with, never the pids limit */
} lcs_docker_create;

/* The policy as the JSON body of POST /containers/create (API 1.41):
 * user 1000:1000, every capability dropped, no-new-privileges and the
 * seccomp profile, a read-only root for RESTRICTED with sized tmpfs for
 * /tmp and the workspace, no network for RESTRICTED, memory = memory+swap,
 * CPUs, pids, rlimits (fsize, nofile, core 0), an init that reaps, the
 * input (read-only) and output directories as bind mounts, and labels
 * naming the session and carrying the policy. NULL with err set when an
 * argument is missing. */
json_t *lcs_docker_render_create(const lcs_docker_create *c, lcs_error *err);

#endif
