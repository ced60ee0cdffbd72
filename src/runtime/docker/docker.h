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
#include "runtime/docker/curl_dl.h"

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

/* skopeo copy src dst (transport:reference each), reading from the engine
 * src_engine and writing to dst_engine where given (unix:// or tcp://).
 * Errors begin with what and carry skopeo's last line; LCS_E_UNSUPPORTED
 * without skopeo, LCS_E_NOT_FOUND when an engine's socket is missing. */
int lcs_skopeo_copy(const char *src, const char *dst, const char *src_engine,
                    const char *dst_engine, const char *what, lcs_error *err);

/* Load the OCI layout oci_dir (its image tagged tag) into the engine as
 * ref, with skopeo over the engine's API (POST /images/load). Errors name
 * the image and carry skopeo's last words; LCS_E_UNSUPPORTED without
 * skopeo. */
int lcs_docker_load_oci(const char *engine, const char *oci_dir, const char *tag,
                        const char *ref, lcs_error *err);

/* ------------------------------------------------------------- client */

/* A connection to one engine (client.c): its socket, the API level both
 * sides speak (negotiated through GET /version: the oldest the engine
 * accepts that is at least 1.41) and what the engine calls itself. One
 * per thread. */
typedef struct lcs_docker {
    lcs_curl_lib cl;
    char url[4200];
    char sock[4096];
    char api[16];          /* "v1.41": the path prefix */
    char api_version[16];  /* the engine's newest level */
    char engine[96];       /* "Podman 4.3.1", "Docker Engine 29.0.1" */
    lcs_docker_flavour flavour;
} lcs_docker;

/* Load libcurl and negotiate with the engine at engine_url (unix:///PATH
 * only: a session reaches its container's files through this host). */
int lcs_docker_connect(lcs_docker *d, const char *engine_url, lcs_error *err);
void lcs_docker_disconnect(lcs_docker *d);

/* One request: METHOD /vX.Y PATH with body (NULL: none), the answer's JSON
 * in *out (NULL when empty; caller decrefs). With status NULL an HTTP
 * error (300 or more) fails naming the engine's message; with status set,
 * a 4xx answer returns 0 with *status and the message in err, for the
 * caller to decide. */
int lcs_docker_call(lcs_docker *d, const char *method, const char *path, json_t *body,
                    long timeout_ms, long *status, json_t **out, lcs_error *err);

/* A hijacked connection: POST PATH with body, answered 101 or 200, after
 * which the socket (fd) carries the exec's stdio. pending holds stream
 * bytes that came with the answer's head. */
typedef struct lcs_docker_stream {
    void *h;
    const lcs_curl_lib *cl;
    int fd;
    size_t pending_len;
    unsigned char pending[8192];
} lcs_docker_stream;

int lcs_docker_hijack(lcs_docker *d, const char *path, json_t *body, lcs_docker_stream *st,
                      lcs_error *err);
void lcs_docker_stream_close(lcs_docker_stream *st);

/* The multiplexed stream of a non-TTY exec: frames of an 8-byte header
 * (stream 0/1/2, three zero bytes, the payload's length big-endian) and
 * the payload. Feed bytes in: the return value is how many header bytes
 * were used before a payload, which starts there and is *payload_len
 * long on *stream (-1 when the input ran out inside a header). */
typedef struct lcs_docker_demux_state {
    unsigned char hdr[8];
    int have;
    int stream;
    uint32_t left;
} lcs_docker_demux_state;

size_t lcs_docker_demux(lcs_docker_demux_state *ds, const unsigned char *in, size_t len,
                        int *stream, size_t *payload_len);

/* ---------------------------------------------------------------- box */

/* One sandbox as a running container (box.c). */
typedef struct lcs_docker_box lcs_docker_box;

typedef struct lcs_docker_start {
    const char *engine;          /* unix:///PATH */
    json_t *create_docker;       /* the container's body for Docker, */
    json_t *create_podman;       /* and for Podman (lcs_docker_render_create) */
    const char *image;           /* name:version, as the bodies name it */
    const char *oci_dir;         /* the store's OCI layout of it, loaded when the
                                    engine lacks the image; NULL: none */
    const char *session_id;      /* labelled, and in the container's name */
} lcs_docker_start;

/* Create and start the container, check that its init is on this host
 * (its cgroup names the container) and open its root. */
int lcs_docker_box_start(const lcs_docker_start *st, lcs_docker_box **out, lcs_error *err);
/* Remove the container (force, with its anonymous volumes) and free. */
void lcs_docker_box_destroy(lcs_docker_box *b);
/* Only the container: removed, the struct kept (execs may still be
 * finishing on it). */
void lcs_docker_box_destroy_container(lcs_docker_box *b);
/* Is the container's init still the process this box found? */
int lcs_docker_box_alive(const lcs_docker_box *b);
/* DELETE /containers/ID?force=1&v=1; a container already gone is no error. */
int lcs_docker_remove(lcs_docker *d, const char *id, lcs_error *err);

const char *lcs_docker_box_id(const lcs_docker_box *b);
/* /proc/<init>/root: the container's files as its processes see them. */
int lcs_docker_box_root_fd(const lcs_docker_box *b);
/* The sandbox user as this host numbers it (the init's ids). */
void lcs_docker_box_owner(const lcs_docker_box *b, uid_t *uid, gid_t *gid);
/* What the engine reported it applied, what the kernel shows for the
 * container's init, and what this backend cannot enforce. */
const json_t *lcs_docker_box_enforced(const lcs_docker_box *b);
const lcs_docker *lcs_docker_box_engine(const lcs_docker_box *b);
/* GET /containers/ID/stats?stream=false: the engine's own numbers. */
json_t *lcs_docker_box_stats(lcs_docker_box *b, lcs_error *err);

/* The container's cgroup counters, read on this host. */
typedef struct lcs_docker_counters {
    uint64_t oom_kills, pids_max, cpu_ns, memory_peak, memory, pids;
} lcs_docker_counters;
void lcs_docker_box_counters(lcs_docker_box *b, lcs_docker_counters *c);

typedef struct lcs_docker_exec {
    const char *const *argv;
    const char *const *env;      /* the whole environment */
    const char *cwd;
    const char *user;            /* "1000:1000" */
    int in_fd, out_fd, err_fd;   /* in_fd -1: no stdin */
    double timeout_s;            /* 0: none */
    int watch_fd;                /* readable: on_watch(ctx) says whether to kill */
    int (*on_watch)(void *ctx);
    void *ctx;
} lcs_docker_exec;

typedef struct lcs_docker_exec_result {
    int exit_code;               /* -1 when a signal ended it */
    int signal;
    int timed_out, killed, oom, pids_hit;
    double wall_seconds, cpu_seconds;
    uint64_t peak_memory_bytes;  /* the container's */
} lcs_docker_exec_result;

/* Run one command in the container: created with POST
 * /containers/ID/exec, its stdio on the hijacked stream of
 * /exec/ID/start (stdin fed and half-closed, the 8-byte frames decoded
 * into out_fd and err_fd), its exit code from /exec/ID/json. At the
 * timeout, or when on_watch asks, every process of its session is
 * killed. Safe to call from several threads on one box. */
int lcs_docker_box_exec(lcs_docker_box *b, const lcs_docker_exec *x, lcs_docker_exec_result *res,
                        lcs_error *err);

#endif
