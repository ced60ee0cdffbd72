/* verdict.h - the one word that says why a command ended, the same for
 * every backend (native, docker) and for one-shot runs and session execs. */
#ifndef LCS_RUNTIME_VERDICT_H
#define LCS_RUNTIME_VERDICT_H

/* The verdict of a finished command from its wait status and what the
 * monitor saw, for one-shot runs and session execs alike. Priority: output >
 * memory > pids > timeout > seccomp > signal > ok > exit; a command that
 * exited 0 is "ok" even if an OOM kill or the pids limit hit some other
 * process. "seccomp": killed by SIGSYS (the filter's kill actions), or
 * exec_denied: its execve failed under the filter and it died of a signal
 * (the filter refused its exit as well), so it never started. */
const char *lcs_verdict(int wait_status, int output_exceeded, int oom_killed, int pids_hit,
                        int timed_out, int exec_denied);

#endif
