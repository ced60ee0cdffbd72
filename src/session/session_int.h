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

#endif
