/*
 * docker.h - the Docker Engine API backend's pieces (Docker and Podman's
 * compatible service). This far: finding the engine, loading the image
 * store's OCI layouts into it, and the policy rendered as the body of
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

/* ------------------------------------------------------------- engine */

/* The engine's address, written to out (len bytes) as unix:///PATH or
 * tcp://HOST:PORT: opt (an --engine value) if given, else docker_host (the
 * DOCKER_HOST variable's) if set, else the first of candidates (NULL-ended
 * socket paths) that is a socket. A bare path counts as unix://. Errors:
 * LCS_E_INVALID for another scheme or an empty path, LCS_E_NOT_FOUND when
 * nothing was given and no candidate exists (the message lists where it
 * looked). */
int lcs_docker_engine_find(const char *opt, const char *docker_host,
                           const char *const *candidates, char *out, size_t len,
                           lcs_error *err);
/* The same with this process's DOCKER_HOST and the usual sockets: Docker's
 * /var/run/docker.sock, then Podman's /run/podman/podman.sock and
 * $XDG_RUNTIME_DIR/podman/podman.sock. */
int lcs_docker_engine_default(const char *opt, char *out, size_t len, lcs_error *err);

/* Load the OCI layout oci_dir (its image tagged tag) into the engine as
 * ref, with skopeo over the engine's API (POST /images/load). Errors name
 * the image and carry skopeo's last words; LCS_E_UNSUPPORTED without
 * skopeo. */
int lcs_docker_load_oci(const char *engine, const char *oci_dir, const char *tag,
                        const char *ref, lcs_error *err);

#endif
