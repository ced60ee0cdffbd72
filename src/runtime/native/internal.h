/*
 * internal.h - plumbing shared by the files of the native runtime.
 *
 * Two kinds of code live here:
 *   - host side (monitor): cgroups, user-namespace maps, seccomp compilation,
 *     pasta, the poll loop. These use lcs_error and may allocate.
 *   - child side (init and the command before execve): mounts, capabilities,
 *     rlimits, loopback. The child is created by a raw clone of a possibly
 *     multithreaded process, so this code never allocates and reports
 *     failures as text into a fixed buffer (struct lcs_child_err) that init
 *     writes to the status pipe for the monitor to show.
 *
 * Everything the child needs is computed by the monitor beforehand and put
 * in struct lcs_plan, which the child sees in its copy of the address space.
 */
#ifndef LCS_RUNTIME_NATIVE_INTERNAL_H
#define LCS_RUNTIME_NATIVE_INTERNAL_H

#include <limits.h>
#include <linux/filter.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/clock.h"
#include "util/rmtree.h"
#include "runtime/native/native.h"
#include "util/io.h"
#include "util/error.h"

/* Fixed descriptor numbers inside the child after it rearranged its fds. */
enum {
    LCS_FD_STDIN = 0,
    LCS_FD_STDOUT = 1,
    LCS_FD_STDERR = 2,
    LCS_FD_SYNC = 3,   /* read end: the monitor writes 'G' once the uid/gid maps are
                          written, then 'C' once init is in the sandbox's cgroups */
    LCS_FD_STATUS = 4, /* write end, close-on-exec: setup errors as text; EOF = command started */
    LCS_FD_COUNT = 5,
    LCS_FD_CTL = 0     /* session mode: fd 0 is the control socketpair to the monitor */
};

/* ------------------------------------------------------------ child errors */

typedef struct lcs_child_err {
    char msg[1024];
} lcs_child_err;

/* Format "what: strerror(errno)" into e (if errnum != 0) and return -1. */
int lcs_child_fail(lcs_child_err *e, int errnum, const char *fmt, ...) LCS_PRINTF(3, 4);

/* ------------------------------------------------------------------- plan */

/* The per-user-namespace limits of /proc/sys/user (kernel/ucount.c), in the
 * kernel's order; names in lcs_userns_limit_names. */
enum { LCS_USERNS_LIMITS = 12 };
extern const char *const lcs_userns_limit_names[LCS_USERNS_LIMITS];
/* The rlimits backed by ucounts: RLIMIT_MSGQUEUE, RLIMIT_SIGPENDING,
 * RLIMIT_MEMLOCK, RLIMIT_NPROC (lcs_rl_budget_res/names). */
enum { LCS_RL_BUDGETS = 4 };
extern const int lcs_rl_budget_res[LCS_RL_BUDGETS];
extern const char *const lcs_rl_budget_names[LCS_RL_BUDGETS];
/* Each sandbox may take 1/LCS_BUDGET_SHARE of its owner's budget. */
#define LCS_BUDGET_SHARE 8

typedef struct lcs_plan {
    /* filesystem */
    char rootfs[PATH_MAX];     /* lower layer */
    char root[PATH_MAX];       /* merged mount point (host path, in the run dir) */
    char upper[PATH_MAX];
    char work[PATH_MAX];
    char overlay_opts[3 * PATH_MAX + 128];
    /* One-shot runs: the writable layer (upper, work, merged root) lives in
     * a size-capped tmpfs that init mounts on layer_mnt inside the sandbox's
     * own mount namespace; nothing of it exists on the host. */
    int layer_tmpfs;
    char layer_mnt[PATH_MAX - 64];
    char layer_opts[96];
    char tmp_opts[96];
    char input_dir[PATH_MAX];  /* "" if none */
    char output_dir[PATH_MAX];
    int writable_root;
    int network;
    char resolv[PATH_MAX];     /* FULL network: host path of the generated
                                  resolv.conf bound over /etc/resolv.conf */
    char resolv_text[512];     /* its contents (lcs_net_resolv_text) */
    int dns6;                  /* pasta also forwards LCS_NATIVE_DNS_ADDR6 */
    char *net_filter;          /* FULL network: the nftables rules init loads
                                  (lcs_net_filter_rules; owned by the run) */
    unsigned net_host_addrs;   /* host addresses in it besides the ranges */
    char nft[64];              /* path of the nft program */
    int session;               /* 1: init serves exec requests (session_init.c) */
    int exec_handshake;        /* session: move execs into their cgroups by the
                                  STARTED/GO handshake from the first one on */
    /* identity */
    int rootless;              /* caller is not root: only its own ids are mapped */
    uid_t uid;
    gid_t gid;
    /* command */
    const char *const *argv;
    const char *const *env;
    const char *cwd;
    uint64_t keep_caps;        /* build mode: capabilities kept (0 = none) */
    /* limits */
    uint64_t fsize;
    uint64_t nofile;
    /* Shared kernel budgets (userns.c). The kernel charges what a process
     * takes of a per-user budget to its uid in its user namespace and, level
     * by level, to the namespace's owner in the parent: everything a sandbox
     * takes counts against its owner on the host. */
    uid_t owner;               /* host uid owning the sandbox's user namespace:
                                  LCS_NATIVE_HOST_ID_BASE, or the caller (rootless,
                                  FULL network) */
    long userns_max[LCS_USERNS_LIMITS]; /* the sandbox's /proc/sys/user values,
                                           written by init; -1: not on this kernel */
    uint64_t rl[LCS_RL_BUDGETS];        /* per-sandbox hard rlimits, set by init */
    uint64_t rl_pool[LCS_RL_BUDGETS];   /* owned by the caller: the creator's soft
                                           limits at creation (0 = unchanged) */
    /* seccomp: compiled by the monitor; NULL filter = none */
    struct sock_fprog seccomp;
    struct sock_fprog seccomp_guard; /* session: stacked by every exec (clone3) */
    int exec_cgns;             /* session: init keeps the caller's cgroup namespace and
                                  each exec gets its own, rooted at its exec cgroup
                                  (clone3 CLONE_NEWCGROUP: session_init.c) */
} lcs_plan;

/* ------------------------------------------------------------------ child */

/* Entry point of the cloned child (pid 1 in the sandbox). Never returns. */
_Noreturn void lcs_init_main(const lcs_plan *p);

/* Build the sandbox's root, pivot into it. root_clone (sessions): gets a
 * detached, non-recursive clone of the overlay root (open_tree), the view
 * the host's file operations use. */
int lcs_mounts_setup(const lcs_plan *p, int *root_clone, lcs_child_err *e);
/* Report a setup failure on the status pipe and exit. */
_Noreturn void lcs_init_fail_setup(const lcs_child_err *e);
/* The command's process from fork to execve (privileges, cwd, fds,
 * seccomp). report (a vfork child: it points into init's memory) gets, by
 * a plain store that no seccomp filter can refuse:
 *   LCS_CWD_FAILED + errno in a session when the working directory cannot
 *     be entered (the child then exits); without report, or in a one-shot
 *     run, that failure is text on stderr and status 126 (session
 *     handshake child) or a setup error (one-shot run);
 *   LCS_EXEC_FAILED + errno when execve failed under the seccomp filter
 *     (the child then reports it and exits; if it dies of a signal instead,
 *     the filter also refused its exit: the profile denied the start). */
#define LCS_CWD_FAILED 0x10000
#define LCS_EXEC_FAILED 0x20000
_Noreturn void lcs_init_exec(const lcs_plan *p, const char *const *argv, const char *const *env,
                             const char *cwd, int text_errors, volatile int *report);
/* For the few functions first entered after a seccomp filter is loaded
 * (the filter may refuse mmap): a sanitizer build would otherwise give
 * their stack frames a "fake stack" it maps on demand, and a refused mmap
 * ends in its report-and-exit path, which spins when exit is refused too.
 * No effect on other builds. */
#define LCS_NO_ASAN __attribute__((no_sanitize_address))

/* exit_group by the raw system call, else a trap: under a seccomp filter
 * exit itself may be refused, and a libc or sanitizer exit hook (a leak
 * check) would spin on refused calls, while init may wait for this vfork
 * child. With default dispositions the trap ends the process (SIGILL). A
 * macro, not a _Noreturn function: a sanitizer build runs its own hook
 * before every call of one. */
#define LCS_RAW_EXIT(status)                                                                       \
    do {                                                                                           \
        syscall(SYS_exit_group, (status));                                                         \
        __builtin_trap();                                                                          \
    } while (0)
/* Session mode: init serves exec requests on LCS_FD_CTL (session_init.c). */
_Noreturn void lcs_init_serve(const lcs_plan *p, int *views);
/* Bring "lo" up in the current network namespace. */
int lcs_net_loopback_up(lcs_child_err *e);
/* FULL network, child side: load p->net_filter with nft in the current
 * network namespace (before any sandbox code runs). */
int lcs_net_filter_install(const lcs_plan *p, lcs_child_err *e);
/* Become the sandbox user with no privilege at all; then rlimits. Called in
 * the command's process right before seccomp and execve. */
int lcs_privs_drop(const lcs_plan *p, lcs_child_err *e);
/* Load the compiled seccomp program (last step before execve). */
int lcs_seccomp_install(const lcs_plan *p, lcs_child_err *e);
/* Empty the capability bounding set (but the build set); the caller's own
 * capabilities stay (a session's init keeps serving with them). */
int lcs_privs_drop_bounding(const lcs_plan *p, lcs_child_err *e);

/* -------------------------------------------------------------- seccomp */

typedef struct lcs_seccomp_info {
    unsigned rules;           /* rules added */
    unsigned unknown_names;   /* syscall names this libseccomp/arch does not know */
    char default_action[32];
} lcs_seccomp_info;

/* Compile an OCI seccomp JSON profile into a BPF program (filter->filter is
 * malloc'ed; free it). */
int lcs_seccomp_compile(const char *path, struct sock_fprog *out, lcs_seccomp_info *info,
                        lcs_error *err);
/* The same for a session's init (out) and its execs (guard, stacked by
 * each exec before its execve): where the profile refuses clone3 outright
 * with an errno, init's program allows it (init starts each command in its
 * cgroup with clone3 CLONE_INTO_CGROUP) and the guard refuses it again for
 * every command; else guard stays empty and out is the plain program. */
int lcs_seccomp_compile_session(const char *path, struct sock_fprog *out,
                                struct sock_fprog *guard, lcs_seccomp_info *info,
                                lcs_error *err);
/* The shipped profile, compiled at build time (seccomp_default.c); with
 * guard, its session pair (as lcs_seccomp_compile_session). */
int lcs_seccomp_default(struct sock_fprog *out, struct sock_fprog *guard,
                        lcs_seccomp_info *info, lcs_error *err);

/* ---------------------------------------------------------------- userns */

/* Write uid_map, gid_map (and setgroups) of the child pid. */
int lcs_userns_write_maps(pid_t pid, const lcs_plan *p, lcs_error *err);
/* Fill the plan's budgets (owner, userns_max, rl, rl_pool) from the
 * caller's own limits; pids: the sandbox's pids limit (RLIMIT_NPROC). */
void lcs_userns_budgets(lcs_plan *p, uint32_t pids);
/* Child side, in the vfork'ed helper that creates the sandbox's user
 * namespace: become its owner or lower the limits it inherits (userns.c).
 * Raw system calls only; -1 with errno. */
int lcs_userns_creator_setup(const lcs_plan *p);
/* Child side, in init: write the sandbox's /proc/sys/user limits and lower
 * its rlimits (inherited by every process of the sandbox). */
int lcs_userns_apply_budgets(const lcs_plan *p, lcs_child_err *e);
/* Host uid/gid that an inside id maps to (for chown of prepared dirs). */
uid_t lcs_userns_host_uid(const lcs_plan *p, uid_t inside);
gid_t lcs_userns_host_gid(const lcs_plan *p, gid_t inside);

/* ---------------------------------------------------------------- cgroups */

enum { LCS_CG_NONE = 0, LCS_CG_V1 = 1, LCS_CG_V2 = 2 };

/* Where root's sandboxes go on cgroup v2 when the caller's own cgroup
 * holds processes (cgroup.c, v2_shared_base): a child of the top. */
#define LCS_CG_V2_BASE "llmcore-sandbox"

/* RLIMIT_NPROC of a sandbox is its pids limit plus this (userns.c). */
#define LCS_NPROC_SLACK 8

typedef struct lcs_cgroup {
    /* one directory per concern; "" when not used */
    char mem[PATH_MAX];
    char pids[PATH_MAX];
    char cpu[PATH_MAX];
    char acct[PATH_MAX];
    char freezer[PATH_MAX];    /* v1 freezer (kill on v1-only hosts) */
    char v2[PATH_MAX];         /* our cgroup2 directory (kill, procs, cpu.stat) */
    /* A session whose memory limit is in cgroup v2: v2_top/ holds init/
     * (v2_init, where init lives, outside every limit) and work/ (v2: the
     * limits, the exec cgroups below it). Init and its execs then share an
     * ancestor init may write (lcs_cg_v2_joined, internal.h). "" otherwise. */
    char v2_top[PATH_MAX];
    char v2_init[PATH_MAX];
    int mem_v, pids_v, cpu_v, acct_v, kill_v;
    int init_apart;            /* session: init is not attached to the directory
                                  holding the memory limit (init_dirs) */
    char why_missing[512];     /* what is unavailable and why (for messages) */
    int v2_busy;               /* a v2 controller was refused: our cgroup holds processes */
} lcs_cgroup;

typedef struct lcs_cg_limits {
    uint64_t memory;
    double cpus;
    uint32_t pids;
    int oom_group; /* v2 memory.oom.group=1: an OOM kill takes the whole
                      cgroup (one-shot runs; never a session, whose init
                      lives in it) */
    int session;   /* split a v2 memory cgroup into top/{init,work} */
} lcs_cg_limits;

typedef struct lcs_cg_stats {
    int have_cpu, have_peak;
    double cpu_s;
    uint64_t peak;
    uint64_t oom_kills;    /* processes killed by the OOM killer */
    uint64_t mem_failcnt;  /* times the limit was hit (v1) */
    uint64_t pids_max_hits;
} lcs_cg_stats;

/* Create the cgroups of one sandbox (name unique) and apply limits.
 * Controllers that are missing leave their *_v at LCS_CG_NONE. */
int lcs_cg_create(lcs_cgroup *cg, const char *name, const lcs_cg_limits *lim, lcs_error *err);
/* How init enters its cgroups without the kernel's global
 * cgroup_threadgroup_rwsem: a write of a pid (or of "0") into cgroup.procs
 * takes it for writing, which waits for an RCU grace period, 5-10 ms once
 * the machine has been idle (an agent's pace). Instead init is born in its
 * cgroup2 directory (clone3 CLONE_INTO_CGROUP: the lock's read side only)
 * and, single-threaded, moves itself into each v1 hierarchy by writing "0"
 * into its "tasks" file (one thread: the kernel skips the lock).
 * lcs_cg_v2_joined: whether init belongs in cg->v2 at all (not with
 * init_apart where v2 holds the memory limit). lcs_cg_open_v1_tasks: the
 * v1 "tasks" files init joins, opened for writing; returns how many, -1 on
 * error. lcs_cg_attach_v2: the slow way into cg->v2 by pid, for a kernel
 * that refuses CLONE_INTO_CGROUP. init_apart: see init_dirs (cgroup.c). */
int lcs_cg_v2_joined(const lcs_cgroup *cg);
/* The cgroup2 directory init lives in (v2_init or v2), and the one that
 * holds both it and every exec cgroup (v2_top or v2). */
const char *lcs_cg_v2_init_dir(const lcs_cgroup *cg);
const char *lcs_cg_v2_common_dir(const lcs_cgroup *cg);
int lcs_cg_open_v1_tasks(const lcs_cgroup *cg, int fds[6], lcs_error *err);
int lcs_cg_attach_v2(lcs_cgroup *cg, pid_t pid, lcs_error *err);
/* Kill every process of the sandbox. Best effort, bounded. */
void lcs_cg_kill(lcs_cgroup *cg);
void lcs_cg_stats_read(const lcs_cgroup *cg, lcs_cg_stats *st);
/* Remove the directories (waits, bounded, for them to empty). */
void lcs_cg_destroy(lcs_cgroup *cg);
/* For doctor: layout, paths, controllers (a jansson json_t *). */
struct json_t;
struct json_t *lcs_cg_probe_json(void);
/* rmdir every subdirectory of dir (a session's exec cgroups). */
void lcs_cg_rmdir_children(const char *dir);
/* v1: freeze, SIGKILL every listed process, thaw, until empty (bounded);
 * with_pid1: also pids that look like 1 to us (never the case on the host). */
void lcs_cg_v1_kill_dir(const char *freezer_dir, int with_pid1);

/* version-specific helpers (cgroup_v1.c, cgroup_v2.c) */
int lcs_cg_v1_limits(lcs_cgroup *cg, const lcs_cg_limits *lim, lcs_error *err);
void lcs_cg_v1_kill(const lcs_cgroup *cg);
void lcs_cg_v1_stats(const lcs_cgroup *cg, lcs_cg_stats *st);
int lcs_cg_v2_limits(lcs_cgroup *cg, const lcs_cg_limits *lim, lcs_error *err);
void lcs_cg_v2_kill(const lcs_cgroup *cg);
void lcs_cg_v2_stats(const lcs_cgroup *cg, lcs_cg_stats *st);

/* small file helpers (cgroup.c) */
int lcs_write_file(const char *dir, const char *name, const char *val);
/* lcs_read_file, lcs_read_keyed: util/io.h */

/* ------------------------------------------------------------------- net */

typedef struct lcs_pasta {
    pid_t pid;
    char pidfile[PATH_MAX];
} lcs_pasta;

/* Attach pasta to the network namespace of pid (waits until it is
 * configured, bounded). */
int lcs_net_pasta_start(lcs_pasta *ps, pid_t pid, const char *run_dir, int dns6,
                        lcs_error *err);
/* The sandbox's resolv.conf for FULL network: LCS_NATIVE_DNS_ADDR and, if
 * the host has IPv6 resolvers (*dns6 set), LCS_NATIVE_DNS_ADDR6: pasta's
 * forwarders to the host's resolvers. */
void lcs_net_resolv_text(char *out, size_t len, int *dns6);
/* FULL network, host side: the nftables rules that keep the host out of
 * reach (*out malloc'ed; *host_addrs: host addresses listed besides the
 * ranges). */
int lcs_net_filter_rules(char **out, unsigned *host_addrs, lcs_error *err);
/* Add the host's current addresses to the filter of the sandbox whose user
 * and network namespaces are open as ufd and nfd (nft run in the network
 * namespace; rootless: entering the user namespace first). Single-threaded
 * callers only (fork). */
int lcs_net_filter_add_hosts(int ufd, int nfd, int rootless, const char *nft, lcs_error *err);
/* A non-blocking rtnetlink socket told of the host's address changes. */
int lcs_net_addr_watch_open(lcs_error *err);
/* Drain it: 1 if an address appeared (or a message was lost), else 0. */
int lcs_net_addr_watch_read(int fd);
void lcs_net_pasta_stop(lcs_pasta *ps);

/* ------------------------------------------------------------- supervise */

typedef struct lcs_supervise_io {
    int pidfd;                 /* init */
    pid_t pid;
    int out_fd, err_fd, status_fd, stdin_fd; /* -1 when closed */
    const char *stdin_data;
    size_t stdin_len;
    uint64_t limit;            /* per-stream output cap */
    double timeout_s;
    double setup_timeout_s;
    lcs_cgroup *cg;
} lcs_supervise_io;

typedef struct lcs_supervise_out {
    int started;               /* status pipe reached EOF without an error */
    char setup_error[1024];    /* text sent by the child during setup */
    int timed_out, output_exceeded, setup_timed_out;
    int wait_status;           /* of init (= of the command) */
    int exec_denied;           /* 'D': the filter refused the command's start */
    int reaped;                /* 2: the command's exact status arrived ('W') */
    int init_reaped;           /* init was waited for (rusage_* valid) */
    double wall_s;
    double rusage_cpu_s;
    uint64_t rusage_maxrss;
} lcs_supervise_out;

/* Pump stdin/stdout/stderr until the command's status has arrived and its
 * output pipes are at EOF (init may still be exiting: the caller reaps it),
 * or until init exits and the pipes drain; enforce the timeout and the
 * output cap by killing the whole sandbox. */
int lcs_supervise_run(lcs_supervise_io *io, lcs_native_result *r, lcs_supervise_out *mo,
                    lcs_error *err);

/* ---------------------------------------------------------------- rundir */

/* lcs_rm_tree and lcs_now: src/util (rmtree.h, clock.h), included above. */
/* Is name an executable in /usr/local/bin, /usr/bin, /bin, /usr/sbin or /sbin? */
int lcs_native_in_path(const char *name);
/* The same, writing its path to out (len bytes); 0 if found, else -1. */
int lcs_native_find(const char *name, char *out, size_t len);

#endif
