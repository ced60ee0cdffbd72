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

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "llmcore/sandbox.h"

/* Host uid/gid range of sandboxes started by root: sandbox id N maps to host
 * id LCS_NATIVE_HOST_ID_BASE + N for N in [0, LCS_NATIVE_ID_COUNT). Started by
 * an ordinary user, only the caller's own uid/gid is mapped (to 1000). */
#define LCS_NATIVE_HOST_ID_BASE 100000u
#define LCS_NATIVE_ID_COUNT 65536u

#define LCS_NATIVE_DEFAULT_CWD "/home/sandbox/work"
#define LCS_NATIVE_DEFAULT_OUTPUT_LIMIT (1024u * 1024u)
#define LCS_NATIVE_DEFAULT_TMP_BYTES (64u * 1024u * 1024u)

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
    uid_t uid;                   /* inside; 0 = 1000 (running as root inside is
                                    refused: use allow_root) */
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
    const char *seccomp_profile; /* OCI JSON profile; NULL = no filter (which
                                    is a downgrade: fails unless allow_degraded) */
    const char *state_dir;       /* where per-run directories go; NULL = default
                                    (see docs/runtime.md) */
    int allow_degraded;          /* run even if a protection is missing; the
                                    report lists the downgrade */
    const char *stdin_data;      /* fed to the command's stdin, then EOF */
    size_t stdin_len;
} lcs_native_spec;

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
void lcs_native_result_clear(lcs_native_result *r);
/* The result as a JSON document (caller frees with free()); NULL if out of
 * memory. out/err are included as strings (invalid UTF-8 replaced). */
char *lcs_native_result_to_json(const lcs_native_result *r);

#endif
