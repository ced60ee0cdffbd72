/* verdict.c - see verdict.h. */
#include "runtime/verdict.h"

#include <signal.h>
#include <sys/wait.h>

const char *lcs_verdict(int wait_status, int output_exceeded, int oom_killed, int pids_hit,
                        int timed_out, int exec_denied)
{
    int clean_exit = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    if (output_exceeded)
        return "output";
    if (oom_killed && !clean_exit)
        return "memory";
    if (pids_hit && !clean_exit)
        return "pids";
    if (timed_out)
        return "timeout";
    /* The seccomp filter's doing: SIGSYS is the signal of its kill actions,
     * and a command whose execve and exit it refused never started. */
    if (WIFSIGNALED(wait_status) && (WTERMSIG(wait_status) == SIGSYS || exec_denied))
        return "seccomp";
    if (WIFSIGNALED(wait_status))
        return "signal";
    return clean_exit ? "ok" : "exit";
}
