/*
 * session_int.h - internals shared by the session client (session.c), the
 * session monitor (monitor.c) and doctor.c. See docs/sessions.md.
 *
 * Layout: <state>/sessions/<id>/
 *     control.sock   the monitor's SOCK_SEQPACKET listening socket (dir 0700)
 *     lock           flock()ed by the monitor for its whole life: a lock we
 *                    can take means the monitor is dead (stale session)
 *     spec.json      what to build (written by the creator)
 *     info.json      written by the monitor: status, policy, enforced,
 *                    resources (what a stale cleanup must remove)
 *
 * Client <-> monitor messages: one datagram each, a JSON object (at most
 * LCS_SESS_MSG_MAX bytes) with up to 4 descriptors attached (SCM_RIGHTS).
 */
#ifndef LCS_SESSION_INT_H
#define LCS_SESSION_INT_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>

#include "llmcore/sandbox.h"
#include "util/error.h"

#define LCS_SESS_MSG_MAX (256 * 1024)
#define LCS_SESS_ID_LEN 16
#define LCS_SESS_IDLE_MAX (365 * 86400) /* longest idle timeout, seconds */
#define LCS_SESS_EXEC_TIMEOUT_MAX (7 * 86400) /* as a policy's timeout */

/* <state>/sessions, created 0700 if missing. */
int lcs_sess_root(char *out, size_t len, lcs_error *err);
/* Send a JSON object (and fds, nfds <= 4) as one datagram. */
int lcs_sess_send(int sock, json_t *msg, const int *fds, int nfds, lcs_error *err);
/* Receive one datagram: *msg (NULL at end of stream: returns 0 with
 * *msg = NULL), fds (close-on-exec, -1 filled), timeout_ms < 0: forever. */
int lcs_sess_recv(int sock, json_t **msg, int *fds, int *nfds, int timeout_ms, lcs_error *err);
/* Connect to a session's control socket. */
int lcs_sess_connect(const char *dir, lcs_error *err);
/* The state of a session directory's lock (tested with a non-blocking
 * shared lock, dropped at once): */
enum {
    LCS_SESS_LIVE = 1,     /* held: the monitor (or its creator) lives */
    LCS_SESS_DEAD = 0,     /* free: the monitor is dead */
    LCS_SESS_NO_LOCK = -1, /* no lock file: being removed, or damaged */
    LCS_SESS_UNKNOWN = -2  /* could not be tested: treated as live */
};
int lcs_sess_lock_state(const char *dir);
/* Is the session dir's monitor alive (its lock held, or untestable)? */
int lcs_sess_alive(const char *dir);
/* A session directory without a lock file is removed only after this many
 * seconds without a change. */
#define LCS_SESS_LOCKLESS_AGE 60
/* Name prefix of a session directory while its creator fills it; it gets
 * its id as name (rename) only once spec.json and the held lock are in. */
#define LCS_SESS_NEW_PREFIX ".new-"
/* The lock descriptor a monitor inherits from its creator. */
#define LCS_SESS_LOCK_FD 4
/* Clean what a dead monitor left behind, then remove dir (only if the
 * monitor is proven dead: see proto.c). 1 removed, 0 left alone. */
int lcs_sess_cleanup_dir(const char *dir, lcs_error *err);
/* The monitor's entry point (llmcore-sandbox-monitor SESSION_DIR). */
int lcs_session_monitor_main(int argc, char **argv);
/* The monitor of a Docker-backend session (dmonitor.c): spec is the
 * session's, ready the creator's readiness pipe (-1: none). */
int lcs_session_docker_monitor(const char *dir, const char *id, json_t *spec, int ready);
/* llmcore-sandbox-monitor --remove-container ENGINE ID: the container of a
 * session whose monitor died, removed (stale cleanup). */
int lcs_session_docker_remove(const char *engine, const char *id);
/* The backend asked for (NULL: $LLMCORE_SANDBOX_BACKEND, else native):
 * "native" or "docker"; NULL with err set for another name. */
const char *lcs_sess_backend(const char *asked, lcs_error *err);
/* Path of the monitor executable. */
int lcs_sess_monitor_path(char *out, size_t len, lcs_error *err);
/* A monitor's listening socket, <dir>/control.sock (SOCK_SEQPACKET,
 * non-blocking): its descriptor, or -1 with err set. */
int lcs_sess_listen(const char *dir, lcs_error *err);
/* <dir>/info.json replaced by info, atomically. */
int lcs_sess_write_info(const char *dir, json_t *info, lcs_error *err);
/* Seconds since the epoch (wall clock), for info.json. */
double lcs_sess_wallclock(void);

struct lcs_native_spec;
/* spec.json for a monitor: the native spec, idle timeout, ps label, the
 * policy (shown by status) and the image name. */
json_t *lcs_sess_spec_json(const struct lcs_native_spec *s, double idle_timeout,
                           const char *label, const lcs_policy *pol, const char *image);
/* A handle on the session id under root (no checks); NULL: no memory. */
lcs_session *lcs_sess_handle(const char *root, const char *id);
/* A new session for spec: its directory (a random id) with spec.json, and
 * its monitor started; wait: for the monitor's verdict on the start-up
 * (bounded), else only until it runs detached. Its handle, or NULL (err
 * set, nothing left behind). */
lcs_session *lcs_sess_start(json_t *spec, int wait, lcs_error *err);
/* lcs_session_exec; final: the session's last exec (a warm sandbox's run:
 * the monitor destroys the sandbox after answering). */
int lcs_sess_exec(lcs_session *s, const lcs_exec_options *o, int final, lcs_run_result *res,
                  lcs_error *err);
/* <state>/pool, created 0700 if missing. */
int lcs_sess_pool_dir(char *out, size_t len, lcs_error *err);

/* A random number per build of the library (generated by the Makefile). */
extern const unsigned long long lcs_build_id;

/* Warm runs (pool.c, docs/sessions.md "Warm runs"). */
struct lcs_pool_req {
    const struct lcs_native_spec *spec;  /* the run's spec (argv etc. ignored) */
    const lcs_policy *pol;
    const char *image;                   /* name:tag, or NULL for a rootfs */
    double idle_seconds;                 /* a warm sandbox's life unclaimed */
};
/* Serve the run from a warm sandbox of the same spec, if there is one:
 * 1 served (res filled), 0 none available (run cold), -1 error (err). */
int lcs_pool_run(const struct lcs_pool_req *pr, const lcs_exec_options *eo, lcs_run_result *res,
                 lcs_error *err);
/* Start a warm sandbox for this spec in the background unless one exists
 * or is being started; errors are ignored (the next run is simply cold). */
void lcs_pool_refill(const struct lcs_pool_req *pr);
/* The monitor of a warm sandbox: register it (pool slot) now that it
 * serves; 0 registered, -1 another one is there (exit). */
int lcs_pool_register(json_t *spec, const char *id);
/* A warm sandbox's monitor, before it builds: wait until no run found the
 * pool empty for a moment (runs back to back stay cold rather than compete
 * with the build); -1 if that did not happen within max_seconds. */
int lcs_pool_wait_quiet(json_t *spec, double max_seconds);
/* After a claimed warm sandbox is gone: start its successor. */
void lcs_pool_respawn(json_t *spec);
/* A warm sandbox that ends unclaimed (idle, destroyed, failed start):
 * drop its slot, and its start marker if it never registered. */
void lcs_pool_unregister(json_t *spec, const char *id, int registered);

#endif
