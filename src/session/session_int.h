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

/* <state>/sessions, created 0700 if missing. */
int lcs_sess_root(char *out, size_t len, lcs_error *err);
/* Send a JSON object (and fds, nfds <= 4) as one datagram. */
int lcs_sess_send(int sock, json_t *msg, const int *fds, int nfds, lcs_error *err);
/* Receive one datagram: *msg (NULL at end of stream: returns 0 with
 * *msg = NULL), fds (close-on-exec, -1 filled), timeout_ms < 0: forever. */
int lcs_sess_recv(int sock, json_t **msg, int *fds, int *nfds, int timeout_ms, lcs_error *err);
/* Connect to a session's control socket. */
int lcs_sess_connect(const char *dir, lcs_error *err);
/* Is the session dir's monitor alive (its lock is held)? 1 yes, 0 no. */
int lcs_sess_alive(const char *dir);
/* Clean what a dead monitor left behind, then remove dir. */
int lcs_sess_cleanup_dir(const char *dir, lcs_error *err);
/* The monitor's entry point (llmcore-sandbox-monitor SESSION_DIR). */
int lcs_session_monitor_main(int argc, char **argv);
/* Path of the monitor executable. */
int lcs_sess_monitor_path(char *out, size_t len, lcs_error *err);
/* Seconds since the epoch (wall clock), for info.json. */
double lcs_sess_wallclock(void);

struct lcs_native_spec;
/* spec.json for a monitor: the native spec, idle timeout, ps label, the
 * policy (shown by status) and the image name. */
json_t *lcs_sess_spec_json(const struct lcs_native_spec *s, double idle_timeout,
                           const char *label, const lcs_policy *pol, const char *image);
/* 16 random hex digits (+ NUL); -1 if getrandom fails. */
int lcs_sess_random_id(char *out);
/* Start the monitor for the session directory dir (spec.json written).
 * wait: wait (bounded) for its start-up verdict; otherwise return once it
 * runs detached. */
int lcs_sess_spawn_monitor(const char *dir, int wait, lcs_error *err);
/* A handle on the session id under root (no checks); NULL: no memory. */
lcs_session *lcs_sess_handle(const char *root, const char *id);
/* lcs_session_exec; final: the session's last exec (a warm sandbox's run:
 * the monitor destroys the sandbox after answering). */
int lcs_sess_exec(lcs_session *s, const lcs_exec_options *o, int final, lcs_run_result *res,
                  lcs_error *err);
/* <state>/pool, created 0700 if missing. */
int lcs_sess_pool_dir(char *out, size_t len, lcs_error *err);

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
/* After a claimed warm sandbox is gone: start its successor. */
void lcs_pool_respawn(json_t *spec);
/* A warm sandbox that ends unclaimed (idle, destroyed, failed start):
 * drop its slot, and its start marker if it never registered. */
void lcs_pool_unregister(json_t *spec, const char *id, int registered);

#endif
