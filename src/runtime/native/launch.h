/*
 * launch.h - the native runtime's state of one sandbox (a run), shared by
 * the files that build it (launch.c), hold it as a session's sandbox
 * (sandbox.c), give its execs their cgroups (cgroup_exec.c) and report
 * what it enforced (result.c). Private to src/runtime/native.
 */
#ifndef LCS_RUNTIME_NATIVE_LAUNCH_H
#define LCS_RUNTIME_NATIVE_LAUNCH_H

#include <jansson.h>
#include <signal.h>

#include "runtime/native/internal.h"

typedef struct run {
    lcs_plan plan;
    lcs_cgroup cg;
    int cg_made;
    char id[40];
    char rundir[PATH_MAX - 64];
    int in_sp[2], out_p[2], err_p[2], sync_p[2], status_p[2];
    pid_t pid;
    int pidfd;
    int cg_v2_fd;                  /* init's cgroup2 directory, for CLONE_INTO_CGROUP */
    int cg_v2_born;                /* init was created in it (else moved by pid) */
    lcs_pasta pasta;
    int ns_user_fd, ns_net_fd;     /* session, FULL: init's namespaces (filter updates) */
    lcs_seccomp_info sinfo;
    json_t *degraded;
    char **argv_copy, **env_copy;
    uint64_t memory;
    double cpus;
    uint32_t pids;
    double timeout;
    uint64_t out_limit, tmp_bytes, layer_bytes;
    /* build mode: external upper layer (kept) and what we put into it */
    int upper_external;
    char ext_work[PATH_MAX];       /* overlay work dir next to the upper, removed */
    char made_resolv[PATH_MAX + 64];    /* placeholder file we created in the upper, removed */
    char made_etc[PATH_MAX + 64];     /* upper/etc if we created it, removed when empty */
    char made_mp[3][PATH_MAX + 64];    /* mount points we created in the upper, removed */
    char seccomp_name[PATH_MAX];   /* the profile, for the report */
    int view_fd[LCS_NATIVE_VIEWS]; /* session: detached clones of its mounts */
    /* spawn_child: written by the vfork'ed helper that creates the sandbox */
    int spawn_errno;
    int spawn_step;                /* 1: preparing the owner/limits failed */
    sigset_t child_sigmask;        /* the caller's signal mask, for init */
} run;

/* A session's sandbox: the run that stays up (launch.c builds it in
 * session mode). */
struct lcs_native_sandbox {
    run *R;
};

run *lcs_launch_new(lcs_error *err);
void lcs_launch_free(run *R);
/* Build the sandbox for spec s: id NULL gives it a random one; session:
 * init serves execs instead of running argv. 0 released; 1 init died
 * during setup (its report waits on the status pipe); -1 error (err). */
int lcs_launch_build(run *R, const lcs_native_spec *s, const char *id, int session,
                     lcs_error *err);
/* Kill whatever is left, remove the cgroups and the run directory. */
void lcs_launch_teardown(run *R);
/* Let the sandbox's root move processes within the cgroup dir (its
 * cgroup.procs file only; root mode): launch.c says why this is safe. */
int lcs_launch_give_procs(const run *R, const char *dir, lcs_error *err);
/* Close both ends of a pipe that are open. */
void lcs_close_pair(int p[2]);

/* result.c: the enforced report of a run (JSON text, NULL: no memory) and
 * the verdict from the monitor's outcome and the cgroup counters. */
char *lcs_launch_enforced_json(run *R);
void lcs_launch_verdict(lcs_native_result *r, const lcs_supervise_out *mo, const lcs_cg_stats *st);

#endif
