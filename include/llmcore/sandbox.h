/*
 * llmcore/sandbox.h - the one public header of libllmcore-sandbox.
 *
 * The library gives AI agents isolated, disposable environments to run code
 * in. This header covers the image system: capability manifests, the image
 * registry (builtin manifests plus the local image store) and the selector
 * that picks an image for a task, a runtime or a set of capabilities.
 *
 * Conventions:
 *   - every name carries the prefix lcs_ (types, functions) or LCS_ (macros);
 *   - fallible functions return 0 on success and -1 on failure, filling the
 *     optional lcs_error out-parameter (pass NULL to ignore details);
 *   - functions returning a pointer return NULL on failure;
 *   - every object returned to the caller is owned by the caller and has a
 *     matching _free function; nothing returned aliases library internals;
 *   - the library keeps no global mutable state: separate objects never
 *     interfere, and one object may be used by one thread at a time.
 */
#ifndef LLMCORE_SANDBOX_H
#define LLMCORE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility: exactly the declarations in
 * this header are exported. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define LCS_VERSION_STRING "0.1.0"
#define LCS_MANIFEST_PATH_IN_IMAGE "/etc/llmcore/capabilities.json"
#define LCS_IMAGE_PREFIX "llmcore-sandbox-"

/* ------------------------------------------------------------------ errors */

typedef enum lcs_status {
    LCS_OK = 0,
    LCS_E_INVALID = 1,     /* bad argument or malformed input */
    LCS_E_NOT_FOUND = 2,   /* file, image, key or sandbox not found */
    LCS_E_PARSE = 3,       /* syntax error (JSON); line/column are set */
    LCS_E_VALIDATION = 4,  /* well-formed input that breaks the rules */
    LCS_E_IO = 5,          /* an operating-system call failed; sys_errno set */
    LCS_E_NOMEM = 6,       /* out of memory */
    LCS_E_EXISTS = 7,      /* refusing to overwrite something */
    LCS_E_UNSUPPORTED = 8, /* this host cannot provide what was asked */
    LCS_E_DENIED = 9,      /* a policy forbids the operation */
    LCS_E_INTERNAL = 10    /* a bug: please report it */
} lcs_status;

typedef struct lcs_error {
    lcs_status code;
    int sys_errno;     /* errno of the failed call for LCS_E_IO, else 0 */
    int line, column;  /* position of a JSON syntax error, else 0 */
    char message[2048];
} lcs_error;

/* Name of a status code, e.g. "not_found". Never NULL. */
const char *lcs_status_name(lcs_status code);
/* Reset an error to LCS_OK with an empty message. */
void lcs_error_clear(lcs_error *err);

/* Version of the library at run time (compare with LCS_VERSION_STRING). */
const char *lcs_version(void);

/* Free a string returned by the library (JSON documents and the like). */
void lcs_free(void *p);

/* ----------------------------------------------------------------- enums */

typedef enum lcs_tier {
    LCS_TIER_BASE = 0,
    LCS_TIER_SPECIALIZED = 1,
    LCS_TIER_TASK = 2
} lcs_tier;

typedef enum lcs_access_mode {
    LCS_ACCESS_RESTRICTED = 0, /* no network, image root read-only */
    LCS_ACCESS_FULL = 1        /* outbound network, whole root copy-on-write */
} lcs_access_mode;

/* The capability vocabulary. The order is the canonical order used when
 * capabilities are printed or serialised. */
typedef enum lcs_capability {
    LCS_CAP_SHELL = 0,
    LCS_CAP_NETWORK,
    LCS_CAP_FILESYSTEM,
    LCS_CAP_PYTHON,
    LCS_CAP_NODEJS,
    LCS_CAP_RUST,
    LCS_CAP_GIT,
    LCS_CAP_CURL,
    LCS_CAP_JQ,
    LCS_CAP_PANDOC,
    LCS_CAP_PDF_TOOLS,
    LCS_CAP_BROWSER,
    LCS_CAP_DATA_ANALYSIS,
    LCS_CAP_VISUALIZATION,
    LCS_CAP_RESEARCH,
    LCS_CAP_WEBSEARCH,
    LCS_CAP_DOCGEN,
    LCS_CAP_TESTING,
    LCS_CAP_CODE_ANALYSIS,
    LCS_CAP_COUNT
} lcs_capability;

/* A set of capabilities: bit (1u << cap) is set for each member. */
typedef uint32_t lcs_capset;
#define LCS_CAPSET(cap) ((lcs_capset)1u << (unsigned)(cap))

const char *lcs_tier_name(lcs_tier t);              /* "base", ... */
const char *lcs_access_mode_name(lcs_access_mode m); /* "restricted", "full" */
const char *lcs_capability_name(lcs_capability c);  /* "shell", ...; NULL if out of range */
/* Parse names (case-insensitive, surrounding blanks ignored). 0 or -1. */
int lcs_tier_parse(const char *s, lcs_tier *out);
int lcs_access_mode_parse(const char *s, lcs_access_mode *out);
int lcs_capability_parse(const char *s, lcs_capability *out);
/* Number of members of a set. */
unsigned lcs_capset_count(lcs_capset s);
/* Comma-separated names in canonical order ("python,git"); caller frees
 * with lcs_free. Returns NULL only when out of memory. */
char *lcs_capset_format(lcs_capset s);

/* -------------------------------------------------------------- manifests */

/* Default resource limits of a tier (the seed's table). Task images carry
 * their own limits in their manifests; the task default is the upper bound
 * of the table's range. */
typedef struct lcs_resource_limits {
    uint64_t memory_mb;        /* memory in MiB */
    double cpu_cores;          /* CPU quota in cores */
    uint32_t timeout_seconds;  /* wall-clock limit of one run */
    uint32_t max_processes;    /* pids limit */
} lcs_resource_limits;

void lcs_tier_default_limits(lcs_tier t, lcs_resource_limits *out);

typedef struct lcs_env_var {
    char *name;
    char *value;
} lcs_env_var;

/* A capability manifest (the contents of capabilities.json), normalised.
 * All strings are owned by the manifest. Optional strings are NULL when
 * absent. */
typedef struct lcs_manifest {
    char *name;                /* "llmcore-sandbox-python" */
    char *version;             /* "1.0.0"; also the image tag */
    lcs_tier tier;
    char *description;         /* may be "" */
    char *parent_image;        /* "llmcore-sandbox-base:1.0.0"; NULL for base */
    lcs_capset capabilities;
    char **tools;              /* in manifest order */
    size_t n_tools;
    lcs_access_mode default_access_mode;
    lcs_resource_limits limits;
    lcs_env_var *environment;  /* sorted by name */
    size_t n_environment;
    char *user;                /* never "root"; default "sandbox" */
    char *working_directory;   /* absolute; default "/home/sandbox/work" */
    char *entrypoint;          /* optional */
    char *build_date;          /* optional, ISO 8601 */
    char *vcs_ref;             /* optional */
} lcs_manifest;

/* Parse a manifest from a JSON file or string and validate it. Both the
 * shipped schema (parent_image, resource_limits.memory_mb/cpu_cores/
 * timeout_seconds/max_processes) and the upstream Python schema
 * (base_image, memory_limit "512m", cpu_limit, pids_limit,
 * working_directory, entrypoint, build_date, vcs_ref) are accepted.
 * Errors: LCS_E_NOT_FOUND (no such file), LCS_E_IO, LCS_E_PARSE (with line
 * and column), LCS_E_VALIDATION (the message lists every problem). */
lcs_manifest *lcs_manifest_load_file(const char *path, lcs_error *err);
lcs_manifest *lcs_manifest_load_string(const char *json, lcs_error *err);

/* Check a manifest built or modified in memory; lists every problem. */
int lcs_manifest_validate(const lcs_manifest *m, lcs_error *err);

/* Serialise with a stable key order (two-space indent, trailing newline).
 * Caller frees with lcs_free. */
char *lcs_manifest_to_json(const lcs_manifest *m, lcs_error *err);
/* Write atomically (temporary file + rename); parent directories are made. */
int lcs_manifest_save_file(const lcs_manifest *m, const char *path, lcs_error *err);

lcs_manifest *lcs_manifest_copy(const lcs_manifest *m, lcs_error *err);
void lcs_manifest_free(lcs_manifest *m);

/* "name:version"; caller frees with lcs_free. */
char *lcs_manifest_full_name(const lcs_manifest *m);
bool lcs_manifest_has_capability(const lcs_manifest *m, lcs_capability c);
bool lcs_manifest_has_all(const lcs_manifest *m, lcs_capset required);
bool lcs_manifest_has_tool(const lcs_manifest *m, const char *tool);

/* The builtin manifests, compiled from container_images/ at build time. */
size_t lcs_builtin_count(void);
/* i-th builtin as a fresh copy (caller frees); NULL if out of range. */
lcs_manifest *lcs_builtin_manifest(size_t i, lcs_error *err);
/* Builtin by "name" or "name:tag" (exact tag); NULL with LCS_E_NOT_FOUND. */
lcs_manifest *lcs_builtin_manifest_get(const char *ref, lcs_error *err);

/* ------------------------------------------------------ image references */

/* A parsed image reference: [host[:port]/]path[:tag][@digest]. The host is
 * recognised the way container engines do: the first path component is a
 * host when it contains '.' or ':' or is "localhost". */
typedef struct lcs_image_ref {
    char *host;       /* "registry.local:5000" or NULL */
    char *repository; /* "llmcore-sandbox-python" or "team/tool" */
    char *tag;        /* "1.0.0" or NULL when absent */
    char *digest;     /* "sha256:..." or NULL */
} lcs_image_ref;

int lcs_image_ref_parse(const char *ref, lcs_image_ref *out, lcs_error *err);
void lcs_image_ref_clear(lcs_image_ref *r);

/* --------------------------------------------------------------- registry */

typedef struct lcs_registry lcs_registry;

typedef struct lcs_registry_options {
    /* Image store directory. NULL: $LLMCORE_SANDBOX_STORE, else
     * /var/lib/llmcore-sandbox for root, else
     * ${XDG_DATA_HOME:-~/.local/share}/llmcore-sandbox. */
    const char *store_dir;
    bool include_builtins; /* load the six builtin manifests */
    bool scan_store;       /* read manifests of images in the store */
} lcs_registry_options;

void lcs_registry_options_init(lcs_registry_options *o); /* builtins + store */

/* One image known to a registry. */
typedef struct lcs_image_info {
    lcs_manifest *manifest;
    char *ref;              /* "name:version" */
    bool builtin;           /* compiled into the library */
    bool available_locally; /* an unpacked rootfs exists in the image store */
    char *source;           /* "builtin", a manifest path, or "registered" */
    char *rootfs;           /* path of the unpacked rootfs, or NULL */
} lcs_image_info;

typedef struct lcs_image_list {
    lcs_image_info *items;
    size_t count;
} lcs_image_list;

typedef struct lcs_image_filter {
    int tier;                 /* -1 for any, else an lcs_tier */
    lcs_capset capabilities;  /* images must have all of these */
    bool available_only;
} lcs_image_filter;

lcs_registry *lcs_registry_new(const lcs_registry_options *opts, lcs_error *err);
void lcs_registry_free(lcs_registry *r);
/* Directory the registry reads images from (borrowed string). */
const char *lcs_registry_store_dir(const lcs_registry *r);
/* Re-read the image store: adds new images, drops vanished ones, updates
 * local availability. Returns the number of store images found, or -1. */
int lcs_registry_refresh(lcs_registry *r, lcs_error *err);

/* Look an image up by "name" or "name:tag" (a registry host is ignored for
 * the lookup). A tag must match exactly; a bare name means the highest
 * version known. Not found: LCS_E_NOT_FOUND with the available images in
 * the message. The result is a copy owned by the caller. */
int lcs_registry_get(const lcs_registry *r, const char *ref, lcs_image_info *out,
                     lcs_error *err);
bool lcs_registry_has(const lcs_registry *r, const char *ref);

/* Images ordered by (tier base->task, name, version). filter may be NULL. */
int lcs_registry_list(const lcs_registry *r, const lcs_image_filter *filter,
                      lcs_image_list *out, lcs_error *err);
/* Images having every capability of `required`: locally available first
 * when prefer_local, then least capable, then tier, name, newest version. */
int lcs_registry_find(const lcs_registry *r, lcs_capset required, bool prefer_local,
                      lcs_image_list *out, lcs_error *err);

/* Add an image (the manifest is validated and copied). Builtin entries are
 * immutable: registering over one fails with LCS_E_EXISTS. Re-registering a
 * non-builtin name:version replaces it. */
int lcs_registry_register(lcs_registry *r, const lcs_manifest *m, bool available_locally,
                          lcs_error *err);
/* Remove an entry (exact name:version; a bare name means every version).
 * Returns 1 if something was removed, 0 if nothing matched, -1 on error. */
int lcs_registry_unregister(lcs_registry *r, const char *ref, lcs_error *err);
size_t lcs_registry_count(const lcs_registry *r);
/* Problems met while reading the image store (a broken manifest there is
 * skipped, not fatal): one message each, borrowed strings. */
size_t lcs_registry_warning_count(const lcs_registry *r);
const char *lcs_registry_warning(const lcs_registry *r, size_t i);
/* Directory of an image in a store: <store>/images/<name>/<tag>, with '/'
 * in the name written as '+'. Caller frees with lcs_free. */
char *lcs_store_image_dir(const char *store_dir, const char *name, const char *tag);

void lcs_image_info_clear(lcs_image_info *i);
void lcs_image_list_clear(lcs_image_list *l);

/* --------------------------------------------------------------- selector */

typedef struct lcs_selector lcs_selector;

typedef struct lcs_mapping {
    const char *key;   /* task type or runtime name */
    const char *image; /* image reference */
} lcs_mapping;

/* Selection settings. Initialise with lcs_selection_config_init and change
 * what you need; the selector copies everything it is given. */
typedef struct lcs_selection_config {
    const char *default_image;     /* "llmcore-sandbox-python:1.0.0" */
    bool prefer_local;             /* rank locally available images first */
    bool prefer_task_images;       /* among equally capable images, task tier first */
    const lcs_mapping *task_overrides;
    size_t n_task_overrides;
    const lcs_mapping *runtime_overrides;
    size_t n_runtime_overrides;
    /* fnmatch patterns deciding the access mode of images the registry
     * does not know (full patterns are tried first). NULL: the defaults. */
    const char *const *restricted_patterns;
    size_t n_restricted_patterns;
    const char *const *full_access_patterns;
    size_t n_full_access_patterns;
} lcs_selection_config;

void lcs_selection_config_init(lcs_selection_config *c);

/* The outcome of a selection. */
typedef struct lcs_selection {
    char *image;             /* chosen image reference */
    lcs_manifest *manifest;  /* its manifest, or NULL if the registry lacks it */
    char *reason;            /* "task_mapping:research", "runtime_mapping:python",
                                "capability_match:python,git", "default" */
    char **alternatives;     /* other qualifying images, best first */
    size_t n_alternatives;
    lcs_access_mode access_mode;
    lcs_capset required;     /* the capabilities the selection had to satisfy */
} lcs_selection;

/* The selector keeps a pointer to the registry (which must outlive it). */
lcs_selector *lcs_selector_new(const lcs_registry *reg, const lcs_selection_config *cfg,
                               lcs_error *err);
void lcs_selector_free(lcs_selector *s);

/* task: a task type (case and surrounding blanks ignored); runtime may be
 * NULL; extra capabilities may be 0. See docs/selection.md for the rules. */
int lcs_select_for_task(const lcs_selector *s, const char *task, const char *runtime,
                        lcs_capset capabilities, lcs_selection *out, lcs_error *err);
int lcs_select_for_runtime(const lcs_selector *s, const char *runtime, lcs_selection *out,
                           lcs_error *err);
int lcs_select_for_capabilities(const lcs_selector *s, lcs_capset capabilities,
                                lcs_selection *out, lcs_error *err);
void lcs_selection_clear(lcs_selection *sel);

/* Mappings added here take precedence over the builtin tables and are
 * trusted as given (the image need not be in the registry). */
int lcs_selector_add_task_mapping(lcs_selector *s, const char *task, const char *image,
                                  lcs_error *err);
int lcs_selector_add_runtime_mapping(lcs_selector *s, const char *runtime, const char *image,
                                     lcs_error *err);
/* The image a task or runtime maps to (borrowed), or NULL. */
const char *lcs_selector_image_for_task(const lcs_selector *s, const char *task);
const char *lcs_selector_image_for_runtime(const lcs_selector *s, const char *runtime);
/* Capabilities a known task type requires; false if the task is unknown. */
bool lcs_task_required_capabilities(const char *task, lcs_capset *out);
/* Sorted, NULL-terminated lists (caller frees with lcs_strv_free). */
char **lcs_selector_task_types(const lcs_selector *s);
char **lcs_selector_runtimes(const lcs_selector *s);
void lcs_strv_free(char **v);

/* ----------------------------------------------------------------- policy
 * What one sandbox may do, computed once from an image's manifest, an
 * access mode and the caller's overrides. Every backend renders this value.
 * Defaults live in src/policy/policy.c and nowhere else. */

typedef enum lcs_network {
    LCS_NETWORK_NONE = 0, /* a network namespace with loopback only */
    LCS_NETWORK_FULL = 1  /* outbound user-mode NAT; host loopback unreachable */
} lcs_network;

#define LCS_POLICY_DEFAULT_OUTPUT_BYTES (1024u * 1024u) /* per stream */
#define LCS_POLICY_DEFAULT_FILE_SIZE_MB 1024u
#define LCS_POLICY_DEFAULT_OPEN_FILES 1024u
#define LCS_POLICY_DEFAULT_TMP_MB 256u
#define LCS_POLICY_DEFAULT_DISK_MB 1024u /* the writable layer */

/* Caller overrides: zero / NULL / -1 means "keep what the image says". */
typedef struct lcs_policy_overrides {
    int access_mode;          /* -1, or an lcs_access_mode */
    int network;              /* -1 (follows the access mode), or an lcs_network */
    uint64_t memory_mb;
    double cpus;
    uint32_t pids;
    double timeout_seconds;
    uint64_t output_bytes;    /* per stream */
    uint64_t file_size_mb;    /* largest file the sandbox may write */
    uint32_t open_files;
    uint64_t tmp_mb;          /* size of the /tmp tmpfs */
    uint64_t disk_mb;         /* size of the writable layer (workspace, home,
                                 in FULL all root changes); in memory */
    const char *const *env;   /* NULL-terminated "NAME=VALUE" list, added last */
    const char *cwd;          /* absolute path inside the sandbox */
    const char *input_dir;    /* host directory, mounted read-only */
    const char *output_dir;   /* host directory, mounted read-write */
    bool allow_above_limits;  /* permit limits above the image's manifest */
    bool allow_degraded;      /* run even if the host lacks a protection */
} lcs_policy_overrides;

void lcs_policy_overrides_init(lcs_policy_overrides *o);

typedef struct lcs_policy {
    char *image;              /* "name:version" of the manifest used */
    lcs_access_mode access_mode;
    lcs_network network;
    bool writable_root;       /* FULL: whole root copy-on-write */
    uint64_t memory_mb;       /* memory + swap */
    double cpus;
    uint32_t pids;
    double timeout_seconds;
    uint64_t output_bytes;
    uint64_t file_size_mb;
    uint32_t open_files;
    uint64_t tmp_mb;
    uint64_t disk_mb;
    char **env;               /* NULL-terminated "NAME=VALUE", sorted, unique */
    char *cwd;
    char *user;
    uint32_t uid, gid;        /* inside the sandbox */
    char *input_dir, *output_dir;
    bool allow_degraded;
} lcs_policy;

/* Errors: LCS_E_INVALID for nonsense values (zero or negative limits, a
 * relative cwd, a malformed env entry, a missing input directory), and
 * LCS_E_DENIED for limits above the image's without allow_above_limits. */
int lcs_policy_compute(const lcs_manifest *m, const lcs_policy_overrides *o, lcs_policy *out,
                       lcs_error *err);
void lcs_policy_clear(lcs_policy *p);
char *lcs_policy_to_json(const lcs_policy *p, lcs_error *err);

/* ---------------------------------------------------------------- running
 * One command in a fresh sandbox (namespaces, overlay root, cgroups,
 * seccomp, no capabilities, uid 1000), torn down afterwards. The result
 * says what happened (verdict) and what was really enforced on this host.
 */

typedef struct lcs_run_request {
    const char *image;            /* registry reference; must be available locally */
    const char *rootfs;           /* or: an explicit root filesystem directory */
    const lcs_manifest *manifest; /* with rootfs: the policy's source (NULL: the
                                     builtin base image's manifest) */
    const char *const *argv;      /* NULL-terminated command; argv[0] is found
                                     through the sandbox's PATH */
    const void *stdin_data;       /* fed to the command, then end of file */
    size_t stdin_len;
    lcs_policy_overrides overrides;
    const char *seccomp_profile;  /* OCI JSON profile; NULL: the shipped one */
    /* Warm run: take a sandbox started in advance for exactly this policy
     * (image, limits, environment, ...), used by this run only and
     * destroyed after it; its successor is started in the background and
     * waits up to warm_idle_seconds (0: 60) for the next warm run. Without
     * one ready (the first run, or runs in quick succession) the run is
     * cold and starts one. Not with input_dir/output_dir (always cold). */
    bool warm;
    double warm_idle_seconds;
    /* Which backend runs the sandbox: "native" (the default) or "docker"
     * (a Docker Engine API engine: Docker, or Podman's service); NULL:
     * $LLMCORE_SANDBOX_BACKEND, else native. engine: the engine's address
     * (unix:///PATH; NULL: $DOCKER_HOST, else Docker's, then Podman's
     * socket). A docker run is never warm. */
    const char *backend;
    const char *engine;
} lcs_run_request;

void lcs_run_request_init(lcs_run_request *r);

/* Verdicts: "ok" (exit 0), "exit" (non-zero), "signal", "timeout",
 * "memory" (OOM-killed), "pids" (process limit hit), "output" (output cap
 * hit), "seccomp" (killed by SIGSYS, the filter's kill action, or never
 * started because the profile refused its execve and exit), "internal". */
typedef struct lcs_run_result {
    char verdict[16];
    int exit_code;              /* -1 unless the command exited */
    int signal;                 /* terminating signal, else 0 */
    char *stdout_data;          /* NUL-terminated; may contain NULs */
    size_t stdout_len;
    bool stdout_truncated;
    char *stderr_data;
    size_t stderr_len;
    bool stderr_truncated;
    double wall_seconds, cpu_seconds;
    uint64_t peak_memory_bytes;
    char *enforced_json;        /* what was applied on this host */
    char *policy_json;          /* the policy that was asked for */
    bool warm;                  /* lcs_run: served by a sandbox started in advance */
} lcs_run_result;

/* Returns 0 when the command was started (whatever its verdict) and -1
 * when no sandbox could be made: unknown or unbuilt image (LCS_E_NOT_FOUND),
 * a policy error, or a protection this host lacks (LCS_E_UNSUPPORTED, the
 * message names it and the fix; overrides.allow_degraded runs anyway and
 * lists the downgrade in enforced_json). */
int lcs_run(const lcs_registry *reg, const lcs_run_request *req, lcs_run_result *res,
            lcs_error *err);
void lcs_run_result_clear(lcs_run_result *r);
/* {"verdict", "exit_code", "signal", "stdout", "stdout_truncated", "stderr",
 *  "stderr_truncated", "wall_seconds", "cpu_seconds", "peak_memory_bytes",
 *  "start": "cold"|"warm", "enforced": {...}, "policy": {...}} */
char *lcs_run_result_to_json(const lcs_run_result *r, lcs_error *err);
/* The same document (and a newline) written to f, the output escaped in
 * chunks: no copy of it is built, so memory stays at the output itself
 * (lcs_run_result_to_json needs one more buffer, up to 6 bytes per byte of
 * control characters). 0, or -1 on a write error. */
int lcs_run_result_write_json(const lcs_run_result *r, FILE *f, lcs_error *err);

/* --------------------------------------------------------------- sessions
 * A session is a sandbox that lives across calls and processes: create it
 * once, run many commands in it (their files persist), move files in and
 * out, destroy it. Each session has a host-side monitor process (detached;
 * it survives the creating process) that owns its control socket, cgroups,
 * timeouts and accounting, and which sandboxed code cannot reach.
 *
 * State directory (one subdirectory and control socket per session):
 * $LLMCORE_SANDBOX_STATE, else /run/llmcore-sandbox for root, else
 * $XDG_RUNTIME_DIR/llmcore-sandbox (or /tmp/llmcore-sandbox-<uid>).
 */

typedef struct lcs_session lcs_session;

typedef struct lcs_session_options {
    const char *image;              /* registry reference (must be built), or */
    const char *rootfs;             /* an explicit root filesystem directory */
    const lcs_manifest *manifest;   /* with rootfs: the policy's source (NULL: base) */
    lcs_policy_overrides overrides; /* timeout_seconds is the default per exec */
    const char *seccomp_profile;    /* NULL: the shipped profile */
    double idle_timeout_seconds;    /* destroyed after this long unused; 0 = never */
    const char *label;              /* free text shown by lcs_sessions_list_json */
    const char *backend;            /* "native" or "docker", as lcs_run_request's */
    const char *engine;             /* with docker: the engine's address */
} lcs_session_options;

void lcs_session_options_init(lcs_session_options *o);

/* Start a session; returns once the sandbox is ready (bounded wait). */
int lcs_session_create(const lcs_registry *reg, const lcs_session_options *o, lcs_session **out,
                       lcs_error *err);
/* Attach to a running session by id (or a unique prefix of it). */
lcs_session *lcs_session_open(const char *id, lcs_error *err);
const char *lcs_session_id(const lcs_session *s);
/* Detach; the session keeps running. */
void lcs_session_close(lcs_session *s);

typedef struct lcs_exec_options {
    const char *const *argv;      /* the command, or: */
    const char *shell_command;    /* run as /bin/sh -c SHELL_COMMAND */
    const char *const *env;       /* NULL-terminated NAME=VALUE, added to the session's */
    const char *cwd;              /* default: the session's working directory */
    double timeout_seconds;       /* 0: the session's default */
    uint64_t output_bytes;        /* cap per stream; 0: the session's default */
    const void *stdin_data;       /* fed to the command, then end of file */
    size_t stdin_len;
    /* Streaming: called as output arrives (stream 1 = stdout, 2 = stderr);
     * the result still holds the (capped) output. May be NULL. */
    void (*on_output)(void *ctx, int stream, const char *data, size_t len);
    void *ctx;
} lcs_exec_options;

void lcs_exec_options_init(lcs_exec_options *o);
/* Same result and verdicts as lcs_run; a timeout kills the command's whole
 * process tree and leaves the session usable. */
int lcs_session_exec(lcs_session *s, const lcs_exec_options *o, lcs_run_result *res,
                     lcs_error *err);

/* Files. Paths are inside the sandbox: relative ones are relative to the
 * working directory. They are resolved within the sandbox's root, so
 * symlinks and ".." planted by sandboxed code can never reach host files.
 * Binary-safe, any size, streamed. Missing paths give LCS_E_NOT_FOUND. */
int lcs_session_write_file(lcs_session *s, const char *path, int src_fd, uint32_t mode,
                           lcs_error *err);
int lcs_session_write_data(lcs_session *s, const char *path, const void *data, size_t len,
                           bool append, lcs_error *err);
int lcs_session_read_file(lcs_session *s, const char *path, int dst_fd, lcs_error *err);
/* *data is NUL-terminated for convenience; free with lcs_free. */
int lcs_session_read_data(lcs_session *s, const char *path, void **data, size_t *len,
                          lcs_error *err);
/* Copies out of a sandbox keep its sparse files sparse: a regular file as
 * dst_fd gets holes where the sandbox's file has holes (and where a chunk
 * is all zeros), so the host stores only the data; a pipe gets the zeros.
 * The size copied is the file's size when it was opened.
 * With a budget: at most max_bytes (0: none) written to dst_fd, else
 * LCS_E_DENIED naming the budget (the caller removes what was written);
 * *written (may be NULL) is the count of bytes written. */
int lcs_session_read_file_max(lcs_session *s, const char *path, int dst_fd, uint64_t max_bytes,
                              uint64_t *written, lcs_error *err);
/* The first min(max, size) bytes of a file (NUL-terminated, lcs_free) and
 * its size in *size: memory is bounded by max, whatever the file's size. */
int lcs_session_read_prefix(lcs_session *s, const char *path, size_t max, void **data, size_t *len,
                            uint64_t *size, lcs_error *err);
/* The default copy budget of the command-line tool's cp, export and rm
 * --keep-workspace (bytes the host writes; holes are free). */
#define LCS_COPY_BUDGET_DEFAULT ((uint64_t)4 << 30)

typedef struct lcs_file_info {
    char *path;         /* as inside the sandbox */
    char *name;
    bool is_directory;
    bool is_symlink;    /* never followed */
    uint64_t size;
    int64_t mtime;      /* seconds since the epoch */
    uint32_t mode;      /* permission bits */
} lcs_file_info;

typedef struct lcs_file_list {
    lcs_file_info *items;
    size_t count;
} lcs_file_list;

int lcs_session_list_files(lcs_session *s, const char *path, bool recursive, lcs_file_list *out,
                           lcs_error *err);
int lcs_session_stat(lcs_session *s, const char *path, lcs_file_info *out, lcs_error *err);
int lcs_session_remove(lcs_session *s, const char *path, bool recursive, lcs_error *err);
int lcs_session_mkdir(lcs_session *s, const char *path, bool parents, lcs_error *err);
void lcs_file_info_clear(lcs_file_info *f);
void lcs_file_list_clear(lcs_file_list *l);

/* {"id", "image", "label", "state", "created", "monitor_pid", "policy",
 *  "enforced", "execs", "memory_bytes", "pids"} */
char *lcs_session_status_json(lcs_session *s, lcs_error *err);
/* Write a tar archive of a directory of the sandbox (default: the
 * workspace) to tar_fd; symlinks are archived as links, never followed. */
int lcs_session_export(lcs_session *s, const char *path, int tar_fd, lcs_error *err);
/* The same with a budget: at most max_bytes (0: none) of file data in the
 * archive, else LCS_E_DENIED. Files with holes are sparse members (GNU
 * sparse 1.0 in pax; GNU tar, bsdtar and libarchive restore the holes). */
int lcs_session_export_max(lcs_session *s, const char *path, int tar_fd, uint64_t max_bytes,
                           lcs_error *err);
/* Kill everything, remove every trace (mounts, cgroups, network namespace,
 * processes, directories). If keep_workspace_dir is given, the workspace is
 * copied there first. Frees s, except when that copy fails: the session and
 * s are then kept (close s or try again). */
int lcs_session_destroy(lcs_session *s, const char *keep_workspace_dir, lcs_error *err);
/* The same with a budget for the workspace copy: at most max_bytes (0: none)
 * of file data written into keep_workspace_dir, else LCS_E_DENIED and the
 * session is kept. The copy streams (no archive is held in memory or on
 * disk) and keeps holes. As for lcs_session_destroy: when the workspace
 * copy fails (the message says "kept (copying its workspace out failed)",
 * or starts with "create " for the directory), s is not freed. */
int lcs_session_destroy_keep(lcs_session *s, const char *keep_workspace_dir, uint64_t max_bytes,
                             lcs_error *err);

/* All sessions of this user as a JSON array (what `ps` shows); sessions
 * whose monitor died are cleaned up first. */
char *lcs_sessions_list_json(lcs_error *err);
/* Remove what sessions with a dead monitor left behind; returns how many. */
int lcs_sessions_cleanup_stale(lcs_error *err);

/* ----------------------------------------------------------------- doctor */

/* What this host can enforce, what is missing and how to fix it:
 * {"ok": bool, "checks": [{"name", "ok", "detail", "fix"}], "cgroups": {...}}. */
char *lcs_doctor_json(lcs_error *err);

/* ------------------------------------------------------------ JSON forms
 * Everything above as JSON documents, for bindings (the Python package uses
 * these) and for the CLI's --json output. Returned strings are freed with
 * lcs_free; NULL on error. */

char *lcs_manifest_json_normalize(const char *json, lcs_error *err);
char *lcs_image_info_to_json(const lcs_image_info *i, lcs_error *err);
char *lcs_image_list_to_json(const lcs_image_list *l, lcs_error *err);
char *lcs_selection_to_json(const lcs_selection *sel, lcs_error *err);
/* Selection config from JSON: {"default_image", "prefer_local",
 * "prefer_task_images", "task_overrides": {task: image},
 * "runtime_overrides": {...}, "restricted_patterns": [...],
 * "full_access_patterns": [...]}; every key optional. */
lcs_selector *lcs_selector_new_json(const lcs_registry *reg, const char *config_json,
                                    lcs_error *err);
/* The builtin selection tables: {"task_capabilities": {task: [caps]},
 * "task_images": {task: image}, "runtime_images": {runtime: image}}. */
char *lcs_selection_tables_json(lcs_error *err);
/* The selector's effective configuration as JSON (same keys). */
char *lcs_selector_config_json(const lcs_selector *s, lcs_error *err);

/* ------------------------------------------------------------ agent tools
 * The 15 tools an agent uses on a session (upstream llmcore's names,
 * parameters and result strings), their JSON schemas, the tool access
 * policy, a host-side state store (SQLite) and host-side output tracking,
 * and an MCP server over stdio. docs/tools.md describes every tool, the
 * policy file, the state store and the run directory layout.
 */

/* ---- tool access policy
 * Per access mode an allow list and a deny list of tool names (fnmatch
 * patterns), plus a deny list for every mode. A tool is allowed when no
 * deny pattern matches it and an allow pattern does. The deny lists apply
 * in FULL mode too. Defaults: RESTRICTED allows the 15 tools by name, FULL
 * allows "*", and both deny upstream's install_system_package,
 * sudo_execute, network_request and raw_socket. */
typedef struct lcs_tool_policy lcs_tool_policy;

lcs_tool_policy *lcs_tool_policy_new(lcs_error *err);
/* {"denied": [...], "restricted": {"allowed": [...], "denied": [...]},
 *  "full": {"allowed": [...], "denied": [...]}}; every key optional, a
 * missing list keeps its default, unknown keys are an error. */
lcs_tool_policy *lcs_tool_policy_from_json(const char *json, lcs_error *err);
lcs_tool_policy *lcs_tool_policy_load_file(const char *path, lcs_error *err);
lcs_tool_policy *lcs_tool_policy_copy(const lcs_tool_policy *p, lcs_error *err);
void lcs_tool_policy_free(lcs_tool_policy *p);
/* Replace a mode's allow or deny list (n patterns). */
int lcs_tool_policy_set_allowed(lcs_tool_policy *p, lcs_access_mode m, const char *const *names,
                                size_t n, lcs_error *err);
int lcs_tool_policy_set_denied(lcs_tool_policy *p, lcs_access_mode m, const char *const *names,
                               size_t n, lcs_error *err);
/* 0 when allowed; -1 with LCS_E_DENIED and the message "Tool '<name>' is not
 * allowed in <mode> sandbox mode. (<why and what to change>)". */
int lcs_tool_policy_check(const lcs_tool_policy *p, lcs_access_mode m, const char *tool,
                          lcs_error *err);
char *lcs_tool_policy_to_json(const lcs_tool_policy *p, lcs_error *err);

/* ---- state store: per-sandbox typed key/value, event log, recorded files.
 * One SQLite database on the host (never inside the sandbox), accessed
 * through prepared statements only. Values round-trip byte for byte:
 * strings may hold any UTF-8 including '|', quotes, newlines and NUL. */
typedef struct lcs_state lcs_state;

typedef enum lcs_state_type {
    LCS_STATE_STRING = 0,  /* UTF-8 text (NUL allowed) */
    LCS_STATE_NUMBER = 1,  /* a JSON number, kept as written ("1e5", "0.10") */
    LCS_STATE_BOOLEAN = 2, /* "true" or "false" */
    LCS_STATE_JSON = 3     /* any other JSON value (object, array, null) */
} lcs_state_type;

const char *lcs_state_type_name(lcs_state_type t); /* "string", "number", ... */
int lcs_state_type_parse(const char *s, lcs_state_type *out);

/* Open or create the database file (created mode 0600; symlinks refused).
 * path ":memory:" keeps everything in memory. */
lcs_state *lcs_state_open(const char *path, lcs_error *err);
void lcs_state_close(lcs_state *s);
/* Store value[0..len) with its type; the value is checked against the type
 * (LCS_E_INVALID otherwise). */
int lcs_state_set(lcs_state *s, const char *key, lcs_state_type type, const char *value,
                  size_t len, lcs_error *err);
/* Upstream's set_state typing: text that is a whole JSON value is stored
 * with that value's type ("5" a number, "true" a boolean, "{...}" JSON),
 * anything else as a string. */
int lcs_state_set_auto(lcs_state *s, const char *key, const char *value, size_t len,
                       lcs_error *err);
/* 1 found (*value NUL-terminated, free with lcs_free), 0 not set, -1 error. */
int lcs_state_get(lcs_state *s, const char *key, lcs_state_type *type, char **value, size_t *len,
                  lcs_error *err);
/* 1 deleted, 0 was not set, -1 error. */
int lcs_state_delete(lcs_state *s, const char *key, lcs_error *err);
/* Keys in byte order, NULL-terminated (lcs_strv_free); NULL on error. */
char **lcs_state_keys(lcs_state *s, lcs_error *err);
int lcs_state_clear(lcs_state *s, lcs_error *err);
/* Event log (level upper-cased). */
int lcs_state_log_event(lcs_state *s, const char *level, const char *message, lcs_error *err);
/* [{"id", "timestamp", "level", "message"}], newest first; level NULL for all. */
char *lcs_state_logs_json(lcs_state *s, const char *level, int64_t limit, int64_t offset,
                          lcs_error *err);
/* Recorded files (what save_file wrote): insert or update by path; at most
 * LCS_STATE_MAX_FILES paths (a new one past them: LCS_E_DENIED). */
#define LCS_STATE_MAX_FILES 10000
int lcs_state_record_file(lcs_state *s, const char *path, uint64_t size_bytes,
                          const char *description, lcs_error *err);
/* [{"path", "created_at", "size_bytes", "description"}], newest first. */
char *lcs_state_files_json(lcs_state *s, lcs_error *err);
/* {"state": {key: {"type", "value"}}, "logs": [...], "files": [...]}; values
 * as typed JSON (strings as strings, numbers as numbers, ...). */
char *lcs_state_export_json(lcs_state *s, lcs_error *err);

/* ---- output tracking: one run directory per sandbox on the host, in a
 * base directory that sandboxed code cannot reach (mode 0700, owned by the
 * caller, never mounted into a sandbox). Layout of <base>/<run_id>/:
 *   metadata.json  file_manifest.json  outputs/  state/state.db
 *   state/final_state.json  logs/execution.log (JSON lines)
 *   logs/agent.log (JSON lines)  logs/execution_summary.json  .lock
 * Every file is opened relative to the run directory, never following a
 * symlink; copied outputs get sanitised, collision-free names. A run holds
 * an exclusive lock on .lock while open, and cleanup skips locked runs. */
typedef struct lcs_tracker lcs_tracker;
typedef struct lcs_tracker_run lcs_tracker_run;

/* base_dir NULL: $LLMCORE_SANDBOX_RUNS, else /var/lib/llmcore-sandbox/runs
 * for root, else ${XDG_DATA_HOME:-~/.local/share}/llmcore-sandbox/runs.
 * Created 0700; refused if it is a symlink, not owned by the caller or
 * writable by others. */
lcs_tracker *lcs_tracker_open(const char *base_dir, lcs_error *err);
void lcs_tracker_close(lcs_tracker *t);
const char *lcs_tracker_base_dir(const lcs_tracker *t);

typedef struct lcs_tracker_run_options {
    const char *run_id;           /* NULL: generated, sortable by time; else
                                     [A-Za-z0-9._-], 1..128, not starting with '.' */
    const char *sandbox_type;     /* default "native" */
    const char *access_level;     /* default "restricted" */
    const char *task_description; /* default "" */
    const char *metadata_json;    /* custom metadata object, or NULL */
    uint32_t input_preview_chars;  /* execution log previews; default 200 */
    uint32_t output_preview_chars; /* default 500 */
    /* Budget of lcs_tracker_copy_output over the whole run: at most this
     * many bytes written into outputs/ (holes of sparse files are free) and
     * this many files; past either, a copy fails with LCS_E_DENIED naming
     * the budget and metadata.json counts it in "outputs_not_copied".
     * Defaults 1 GiB and 1000 (LCS_TRACKER_COPY_*); 0: none. */
    uint64_t max_copy_bytes;
    size_t max_copy_files;
} lcs_tracker_run_options;
#define LCS_TRACKER_COPY_BYTES ((uint64_t)1 << 30)
#define LCS_TRACKER_COPY_FILES 1000

void lcs_tracker_run_options_init(lcs_tracker_run_options *o);
/* Create <base>/<run_id> (LCS_E_EXISTS if it exists) and lock it. */
lcs_tracker_run *lcs_tracker_run_create(lcs_tracker *t, const lcs_tracker_run_options *o,
                                        lcs_error *err);
const char *lcs_tracker_run_id(const lcs_tracker_run *r);
const char *lcs_tracker_run_dir(const lcs_tracker_run *r);
/* Path of the run's state database (state/state.db); borrowed. */
const char *lcs_tracker_run_state_path(const lcs_tracker_run *r);
/* Set custom_metadata[key] = JSON value. */
int lcs_tracker_run_annotate(lcs_tracker_run *r, const char *key, const char *value_json,
                             lcs_error *err);
int lcs_tracker_log_execution(lcs_tracker_run *r, const char *tool_name, const char *input,
                              int exit_code, double seconds, bool success, const char *output,
                              lcs_error *err);
int lcs_tracker_log_event(lcs_tracker_run *r, const char *level, const char *message,
                          const char *data_json, lcs_error *err);
int lcs_tracker_track_file(lcs_tracker_run *r, const char *name, uint64_t size_bytes,
                           const char *description, lcs_error *err);
/* Copy a regular file out of a session into outputs/ (a symlink is refused,
 * never followed). local_name NULL: the file's base name. The stored name
 * (sanitised, made unique) is returned in *stored_name (lcs_free) if given.
 */
int lcs_tracker_copy_output(lcs_tracker_run *r, lcs_session *s, const char *sandbox_path,
                            const char *local_name, const char *description, char **stored_name,
                            lcs_error *err);
int lcs_tracker_save_final_state(lcs_tracker_run *r, const char *state_json, lcs_error *err);
/* Mark the run completed or failed, write the summary, unlock, free r. */
int lcs_tracker_run_finish(lcs_tracker_run *r, bool success, const char *error_message,
                           lcs_error *err);
/* Runs, newest first by created_at: [{metadata..., "in_use": bool}];
 * limit 0 for all; status NULL for any. */
char *lcs_tracker_list_runs_json(lcs_tracker *t, size_t limit, const char *status,
                                 lcs_error *err);
char *lcs_tracker_run_metadata_json(lcs_tracker *t, const char *run_id, lcs_error *err);
/* Delete one run; LCS_E_DENIED while it is in use. */
int lcs_tracker_delete_run(lcs_tracker *t, const char *run_id, lcs_error *err);
/* Delete runs older than max_age_seconds, keeping the keep_min newest and
 * every run in use. Returns how many were deleted, or -1. */
int lcs_tracker_cleanup(lcs_tracker *t, double max_age_seconds, size_t keep_min,
                        lcs_error *err);

/* ---- the tools */
#define LCS_TOOL_COUNT 15
/* i-th tool name in upstream's order ("execute_shell", ...); NULL past the end. */
const char *lcs_tool_name(size_t i);
/* Tool definitions as JSON. format "openai": [{"type": "function",
 * "function": {name, description, parameters}}]; "mcp": [{name, title,
 * description, inputSchema, annotations}]. With a policy, only the tools it
 * allows in mode m are listed (policy NULL: all). */
char *lcs_tool_schemas_json(const char *format, const lcs_tool_policy *p, lcs_access_mode m,
                            lcs_error *err);

/* upstream's ExecutionResult.to_tool_output() for a run result ("⏰ EXECUTION
 * TIMED OUT", the output or "(command completed successfully with no
 * output)", "❌ EXIT CODE: <n>" with STDOUT/STDERR, the truncation note).
 * Invalid UTF-8 becomes U+FFFD. */
char *lcs_tool_output_text(const lcs_run_result *r, lcs_error *err);
/* upstream's ExecutionResult.to_dict(): {"exit_code", "stdout", "stderr",
 * "execution_time_seconds", "truncated", "timed_out", "success",
 * "metadata": {"verdict", "signal", ...}}. */
char *lcs_tool_execution_json(const lcs_run_result *r, lcs_error *err);

typedef struct lcs_tool_context lcs_tool_context;

typedef struct lcs_tool_options {
    lcs_session *session;                /* work on this session (borrowed, not
                                            destroyed), or create one on first use: */
    const lcs_registry *registry;        /* for session_options.image */
    lcs_session_options session_options; /* (copied; strings must outlive the context) */
    int access_mode;                     /* -1: the session's (until it exists: the
                                            overrides', else the image's default) */
    const lcs_tool_policy *policy;       /* NULL: lcs_tool_policy_new() (copied) */
    bool track;                          /* state store and run directory on disk
                                            (default true); false: state in memory */
    const char *runs_dir;                /* tracker base; NULL: the default */
    const char *run_id;                  /* NULL: generated */
    const char *task_description;
    bool copy_recorded_files;            /* at close, copy files saved with save_file
                                            into outputs/ (default true) */
    uint64_t max_read_bytes;             /* load_file returns at most this many bytes
                                            (the rest is reported: "truncated at N of
                                            M bytes"); replace_in_file refuses larger
                                            files. Default LCS_TOOL_MAX_READ (1 MiB);
                                            0: up to 1 GiB */
    uint64_t max_copy_bytes;             /* copy-out budget of the run (see
                                            lcs_tracker_run_options); default 1 GiB */
    size_t max_copy_files;               /* default 1000 */
} lcs_tool_options;
#define LCS_TOOL_MAX_READ ((uint64_t)1 << 20)

void lcs_tool_options_init(lcs_tool_options *o);
lcs_tool_context *lcs_tool_context_new(const lcs_tool_options *o, lcs_error *err);

typedef struct lcs_tool_result {
    bool is_error; /* the tool failed: denied, bad arguments, missing file,
                      non-zero exit, timeout, ... */
    char *text;    /* upstream's string result (NUL-terminated) */
    size_t text_len; /* its length: load_file's text may contain NUL bytes */
    char *json;    /* the structured result (an object) */
} lcs_tool_result;

/* Run a tool; args_json is a JSON object (NULL: {}). Returns 0 whenever a
 * result was produced, including error results (is_error); -1 with
 * LCS_E_NOT_FOUND for an unknown tool, or on out-of-memory. */
int lcs_tool_call(lcs_tool_context *c, const char *name, const char *args_json,
                  lcs_tool_result *out, lcs_error *err);
void lcs_tool_result_clear(lcs_tool_result *r);
/* Same, as one JSON document {"text", "is_error", "result"} (lcs_free). */
char *lcs_tool_call_json(lcs_tool_context *c, const char *name, const char *args_json,
                         lcs_error *err);
/* The access mode tool checks use now. */
lcs_access_mode lcs_tool_context_access_mode(lcs_tool_context *c);
/* The session, or NULL before first use (borrowed). */
lcs_session *lcs_tool_context_session(lcs_tool_context *c);
/* The run directory, or NULL when not tracking (borrowed). */
const char *lcs_tool_context_run_dir(const lcs_tool_context *c);
/* Thread-safe: destroy the session the context created (from another
 * thread, e.g. on SIGTERM); a tool call in progress then fails. */
void lcs_tool_context_abort(lcs_tool_context *c);
/* Copy recorded files out, save the final state, finish the run, destroy
 * the session if the context created it; frees c. */
int lcs_tool_context_close(lcs_tool_context *c, lcs_error *err);

/* ---- MCP server (Model Context Protocol over stdio: newline-delimited
 * JSON-RPC 2.0). One tool context, i.e. one sandbox, per connection. */
typedef struct lcs_mcp_server lcs_mcp_server;

typedef struct lcs_mcp_options {
    lcs_tool_options tools;
    size_t max_message_bytes; /* larger messages are refused; default 64 MiB */
    bool list_denied_tools;   /* tools/list shows denied tools too (default false) */
} lcs_mcp_options;

void lcs_mcp_options_init(lcs_mcp_options *o);
lcs_mcp_server *lcs_mcp_server_new(const lcs_mcp_options *o, lcs_error *err);
/* Serve until end of input or lcs_mcp_server_stop; then the sandbox is
 * destroyed. Returns 0, or -1 on an I/O error. */
int lcs_mcp_serve(lcs_mcp_server *s, int in_fd, int out_fd, lcs_error *err);
/* Thread-safe: make lcs_mcp_serve return soon, destroying the sandbox. */
void lcs_mcp_server_stop(lcs_mcp_server *s);
void lcs_mcp_server_free(lcs_mcp_server *s);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* LLMCORE_SANDBOX_H */
