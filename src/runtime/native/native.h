/*
 * native.h - the native sandbox runtime: run one command in a fresh sandbox.
 *
 * Internal API of src/runtime/native/. The calling process becomes the
 * host-side monitor: it owns the sandbox's cgroups, the wall-clock timeout,
 * the output pipes and the accounting. It clones one child into new user,
 * mount, pid, ipc, uts, cgroup and network namespaces; that child (pid 1 in
 * the sandbox, "init") builds the root filesystem, forks the command, reaps
 * zombies and exits with the command's status. When init dies the kernel
 * kills everything left in the pid namespace. See docs/runtime.md.
 *
 * lcs_native_run() returns 0 whenever the command was started, whatever its
 * fate (the verdict says what happened), and -1 when the sandbox could not
 * be built (missing protection, bad spec, setup error). Nothing survives a
 * call: processes, cgroups, mounts and temporary directories are removed.
 *
 * Threads: the child is created with a raw clone, so the code that runs in
 * it before execve avoids malloc and locks; a multithreaded caller is fine.
 */
#ifndef LCS_RUNTIME_NATIVE_H
#define LCS_RUNTIME_NATIVE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "llmcore/sandbox.h"
#include "util/sandbox_paths.h"

/* Host uid/gid range of sandboxes started by root: sandbox id N maps to host
 * id LCS_NATIVE_HOST_ID_BASE + N for N in [0, LCS_NATIVE_ID_COUNT). Started by
 * an ordinary user, only the caller's own uid/gid is mapped (to 1000). */
#define LCS_NATIVE_HOST_ID_BASE 100000u
#define LCS_NATIVE_ID_COUNT 65536u

#define LCS_NATIVE_DEFAULT_CWD LCS_SANDBOX_WORKSPACE
#define LCS_NATIVE_DEFAULT_OUTPUT_LIMIT (1024u * 1024u)
#define LCS_NATIVE_DEFAULT_TMP_BYTES (64u * 1024u * 1024u)
/* seccomp_profile value naming the shipped profile (container_images/
 * seccomp.json), compiled to BPF at build time. */
#define LCS_NATIVE_SECCOMP_BUILTIN "builtin:container_images/seccomp.json"
#define LCS_NATIVE_DEFAULT_LAYER_BYTES (1024ull * 1024u * 1024u)

typedef enum lcs_native_network {
    LCS_NATIVE_NET_NONE = 0, /* own network namespace, loopback only */
    LCS_NATIVE_NET_FULL = 1  /* outbound NAT through pasta, host loopback unreachable */
} lcs_native_network;

/* What to run and under which limits. Zero means "default" for every
 * number; defaults are listed per field. Strings are borrowed. */
typedef struct lcs_native_spec {
    const char *rootfs;          /* read-only lower layer; required */
    const char *const *argv;     /* argv[0] is looked up as given (absolute path
                                    or resolved through PATH from env); required */
    const char *const *env;      /* the complete environment; NULL = empty. Nothing
                                    is inherited from the host */
    const char *cwd;             /* default LCS_NATIVE_DEFAULT_CWD */
    uid_t uid;                   /* inside; 0 = 1000 (the command runs as root
                                    inside only with allow_root) */
    gid_t gid;                   /* inside; 0 = 1000 */
    int network;                 /* lcs_native_network */
    int writable_root;           /* 1: whole root copy-on-write (FULL);
                                    0: root read-only, /home/sandbox and /tmp
                                    writable (RESTRICTED) */
    uint64_t memory_bytes;       /* cgroup memory limit incl. swap; 0 = 512 MiB */
    double cpus;                 /* CPU quota in cores; 0 = 1 */
    uint32_t pids;               /* cgroup pids limit; 0 = 128 */
    double timeout_s;            /* wall clock; 0 = 30 s */
    uint64_t output_limit_bytes; /* per stream; 0 = LCS_NATIVE_DEFAULT_OUTPUT_LIMIT */
    uint64_t fsize_bytes;        /* RLIMIT_FSIZE; 0 = 1 GiB */
    uint32_t nofile;             /* RLIMIT_NOFILE; 0 = 1024 */
    uint64_t tmp_bytes;          /* size of the /tmp tmpfs; 0 = 64 MiB */
    const char *input_dir;       /* optional: bound read-only at /home/sandbox/input */
    const char *output_dir;      /* optional: bound read-write at /home/sandbox/output;
                                    must be writable by the sandbox's host uid */
    const char *seccomp_profile; /* OCI JSON profile; LCS_NATIVE_SECCOMP_BUILTIN
                                    = the shipped one, precompiled at build
                                    time; NULL = no filter (which is a
                                    downgrade: fails unless allow_degraded) */
    const char *state_dir;       /* where per-run directories go; NULL = default
                                    (see docs/runtime.md) */
    int allow_degraded;          /* run even if a protection is missing; the
                                    report lists the downgrade */
    const char *stdin_data;      /* fed to the command's stdin, then EOF */
    size_t stdin_len;

    /* Build mode (the image builder; see docs/runtime.md "Build mode").
     * Still a user namespace (the ids are shifted), still no_new_privs and
     * seccomp; the capabilities kept are those of the sandbox's own user
     * namespace, which the kernel honours only for objects it owns. */
    int allow_root;              /* the command runs as uid/gid 0 inside
                                    (uid/gid above are ignored) */
    int keep_capabilities;       /* keep LCS_NATIVE_BUILD_CAPS (chown, fowner,
                                    dac_override, setuid/setgid, ...) instead
                                    of dropping every capability */
    uint64_t layer_bytes;        /* size cap of the in-memory writable layer
                                    (tmpfs, charged to the sandbox's memory
                                    cgroup); 0 = 1 GiB */
    int exec_handshake;          /* sessions: move every exec into its cgroup
                                    by the STARTED/GO handshake (the fallback
                                    for kernels that check the writer of
                                    cgroup.procs; forced for tests) */
    const char *upper_dir;       /* overlay upper layer to use and KEEP after
                                    the run (it becomes the image layer); a
                                    directory on a filesystem that supports
                                    overlay upper dirs. NULL = per-run,
                                    deleted */
} lcs_native_spec;

/* Capabilities kept by keep_capabilities (bit numbers of linux/capability.h):
 * CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
 * SETFCAP NET_BIND_SERVICE AUDIT_WRITE. */
#define LCS_NATIVE_BUILD_CAPS                                                                  \
    ((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) |       \
     (1ull << 6) | (1ull << 7) | (1ull << 31) | (1ull << 10) | (1ull << 29))

/* The DNS forwarder address pasta answers on in FULL mode; the sandbox's
 * /etc/resolv.conf names it (a generated file bound read-only). */
#define LCS_NATIVE_DNS_ADDR "169.254.1.1"
/* Its IPv6 twin (a unique-local address, closed but for DNS), used when the
 * host has IPv6 resolvers: pasta forwards within a family only. */
#define LCS_NATIVE_DNS_ADDR6 "fd4c:6373::53"

/* What happened. Strings are owned by the result; free with
 * lcs_native_result_clear(). */
typedef struct lcs_native_result {
    char verdict[16];          /* ok exit signal timeout memory pids output internal */
    int exit_code;             /* when verdict is ok/exit, else -1 */
    int signal;                /* terminating signal of the command, else 0 */
    char *out;                 /* stdout, NUL-terminated (may contain NULs) */
    size_t out_len;
    int out_truncated;
    char *err;                 /* stderr */
    size_t err_len;
    int err_truncated;
    double wall_s, cpu_s;
    uint64_t peak_memory_bytes;
    char *enforced_json;       /* the protections really applied (JSON object) */
} lcs_native_result;

int lcs_native_run(const lcs_native_spec *s, lcs_native_result *r, lcs_error *err);

/* ------------------------------------------------------------ sessions
 * A long-lived sandbox: built like lcs_native_run's, but init stays and
 * starts commands on request. The caller is the session monitor (a
 * dedicated single-threaded process, src/session/monitor.c); it talks to
 * init over a private SOCK_SEQPACKET socketpair with the messages below. */

typedef struct lcs_native_sandbox lcs_native_sandbox;

/* Build the sandbox (spec->argv is ignored) and wait, bounded, until init
 * is ready. id names the cgroups and the run directory ("lcs-<id>"). */
int lcs_native_sandbox_start(const lcs_native_spec *s, const char *id, lcs_native_sandbox **out,
                             lcs_error *err);
/* Kill every process, remove cgroups, pasta, the run directory; free. */
void lcs_native_sandbox_destroy(lcs_native_sandbox *sb);
int lcs_native_sandbox_ctl_fd(const lcs_native_sandbox *sb);   /* the socketpair */
int lcs_native_sandbox_pidfd(const lcs_native_sandbox *sb);    /* init's pidfd */
pid_t lcs_native_sandbox_init_pid(const lcs_native_sandbox *sb);
/* FULL network: the host's addresses change while a session lives. Open the
 * watch (a non-blocking fd to poll) before lcs_native_sandbox_start, so that
 * no change between the filter's making and the watch is missed; when the
 * fd is readable, lcs_native_sandbox_addr_changed adds the host's current
 * addresses to the sandbox's filter (error: the filter could not be
 * brought up to date). Single-threaded callers. */
int lcs_native_addr_watch_open(lcs_error *err);
int lcs_native_sandbox_addr_changed(lcs_native_sandbox *sb, int fd, lcs_error *err);
/* Detached, non-recursive clones of the sandbox's mounts (borrowed), the
 * root_fds for src/session/fsops.c: view 0 is the overlay root "/", then
 * "/tmp", "/home/sandbox/input", "/home/sandbox/output" (-1 if absent). */
#define LCS_NATIVE_VIEWS 4
extern const char *const lcs_native_view_paths[LCS_NATIVE_VIEWS];
int lcs_native_sandbox_view_fd(const lcs_native_sandbox *sb, int view);
int lcs_native_sandbox_root_fd(const lcs_native_sandbox *sb);
/* Host uid/gid of the sandbox user (owner of files the host writes). */
void lcs_native_sandbox_owner(const lcs_native_sandbox *sb, uid_t *uid, gid_t *gid);
/* The enforced report (JSON object text; caller frees). */
char *lcs_native_sandbox_enforced_json(const lcs_native_sandbox *sb);
/* What a stale-session cleanup needs (JSON object text; caller frees):
 * cgroup directories, run directory, pasta pid. */
char *lcs_native_sandbox_resources_json(const lcs_native_sandbox *sb);
/* Remove what a dead monitor left (kill via cgroups, rmdir, pasta, run
 * directory), from lcs_native_sandbox_resources_json's text. Bounded. */
int lcs_native_cleanup_resources(const char *resources_json, lcs_error *err);
/* Session-wide counters for verdicts: OOM kills and pids-limit hits;
 * memory_bytes/procs (may be NULL) for status. */
void lcs_native_sandbox_counters(const lcs_native_sandbox *sb, uint64_t *oom_kills,
                                 uint64_t *pids_hits, uint64_t *memory_bytes, uint64_t *procs);

/* 1 when the session's pids cgroup holds as many tasks as its limit. */
int lcs_native_sandbox_pids_full(const lcs_native_sandbox *sb);

/* Per-exec cgroup: a child of the sandbox's cgroup2 directory (kill with
 * cgroup.kill, cpu.stat) and, on hosts without cgroup.kill, of its v1
 * freezer. */
typedef struct lcs_native_execcg {
    char v2[PATH_MAX + 32];
    char freezer[PATH_MAX + 32];
    char mem[PATH_MAX + 32]; /* the session's memory cgroup (init is not in
                                it): joined, never created or removed here */
    int mem_v1;              /* mem is a cgroup v1 directory */
} lcs_native_execcg;
/* Only the session's memory cgroup (an exec without cgroups of its own). */
void lcs_native_execcg_memory_only(const lcs_native_sandbox *sb, lcs_native_execcg *cg);
int lcs_native_execcg_create(const lcs_native_sandbox *sb, uint32_t n, lcs_native_execcg *cg,
                             lcs_error *err);
/* Open the exec cgroup's cgroup.procs files (the session's memory cgroup
 * unless the exec's v2 directory is inside it, v2, then the v1 freezer if
 * used) for writing into fds; returns how many (0-3), -1 on error. A
 * process that holds them moves itself in by writing "0" (the kernel checks
 * the opener's credentials and cgroup namespace: session_init.c). */
int lcs_native_execcg_open_procs(const lcs_native_execcg *cg, int fds[3], lcs_error *err);
/* The exec's cgroup2 directory (O_PATH) for init to clone the command into
 * (CLONE_INTO_CGROUP), when init is in the session's cgroup2 directory;
 * *procs_index gets the index of its cgroup.procs among the descriptors of
 * lcs_native_execcg_open_procs. -1 when there is none (or on error: the
 * child then moves itself in through cgroup.procs). */
int lcs_native_execcg_open_dir(const lcs_native_sandbox *sb, const lcs_native_execcg *cg,
                               int *procs_index);
int lcs_native_execcg_attach(const lcs_native_execcg *cg, pid_t pid, lcs_error *err);
void lcs_native_execcg_kill(const lcs_native_execcg *cg);
int lcs_native_execcg_populated(const lcs_native_execcg *cg);
/* cpu seconds used (v2 cpu.stat), -1 if unknown */
double lcs_native_execcg_cpu(const lcs_native_execcg *cg);
/* rmdir; 0 when gone, -1 while processes remain. */
int lcs_native_execcg_remove(lcs_native_execcg *cg);

/* Monitor <-> init messages (one SOCK_SEQPACKET datagram each). */
enum {
    LCS_MSG_EXEC = 'X',    /* monitor->init: fds stdin, stdout, stderr, blob memfd,
                              then the files that join the exec's cgroups (0-3:
                              cgroup.procs on v2, tasks on v1), then with cgdir
                              its cgroup2 directory;
                              value = blob length; nargv, nenv. Blob (the
                              client's memfd, as written): nargv NUL-terminated
                              argv strings, nenv environment additions (init
                              applies them to the session's environment), then
                              the cwd ("" = the session's) */
    LCS_MSG_GO = 'G',      /* monitor->init (handshake fallback): the exec is in
                              its cgroup, let it run */
    LCS_MSG_KILL = 'K',    /* monitor->init: SIGKILL the exec's process group
                              (fallback without a cgroup kill) */
    LCS_MSG_STARTED = 'S', /* init->monitor (handshake fallback, when the exec child
                              could not move itself into its cgroup): fd = pidfd of
                              the waiting exec; value = pid inside */
    LCS_MSG_EXITED = 'Z',  /* init->monitor: value = wait status, rusage */
    LCS_MSG_FAILED = 'F',  /* init->monitor: could not start; value = errno,
                              nargv = LCS_FAILED_CWD when the working
                              directory could not be entered */
    LCS_MSG_ROOT = 'T'     /* init->monitor, once: fd = detached clone of the root */
};
#define LCS_NATIVE_MAX_EXECS 64
#define LCS_FAILED_CWD 1
#define LCS_EXITED_DENIED 1 /* EXITED nargv: execve and exit refused by the filter
                               (nenv = execve's errno): verdict seccomp */

typedef struct lcs_native_msg {
    uint32_t type;
    uint32_t id;
    int32_t value;
    uint32_t nargv, nenv;
    uint32_t maxrss_kb;
    uint32_t cgdir; /* EXEC: 0, or 1 + the index of the exec's v2 cgroup.procs
                       among the descriptors when the last one is its
                       cgroup2 directory (init clones the child into it);
                       EXITED: 1 when the child was cloned into it */
    uint64_t utime_us, stime_us;
} lcs_native_msg;
void lcs_native_result_clear(lcs_native_result *r);
/* The result as a JSON document (caller frees with free()); NULL if out of
 * memory. out/err are included as strings (invalid UTF-8 replaced). */
char *lcs_native_result_to_json(const lcs_native_result *r);

#endif
