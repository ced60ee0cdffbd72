/*
 * cli.h - pieces shared by the llmcore-sandbox command's source files.
 */
#ifndef LCS_CLI_H
#define LCS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "llmcore/sandbox.h"

/* Exit codes of every command (run and exec add the command's own status:
 * cli_run_status). */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_NOTFOUND = 3, CLI_INVALID = 4 };

/* The exit code for a library error: 3 not found; 4 invalid input (a
 * malformed value, a manifest that does not validate, a denied request);
 * 1 anything else. */
int cli_exit_for(const lcs_error *e);
/* Print "llmcore-sandbox[ CMD]: MESSAGE" to stderr; the exit code for it. */
int cli_report(const char *cmd, const lcs_error *e);
/* A usage error (unknown option, missing argument): "llmcore-sandbox[ CMD]:
 * " + fmt with arg, then where help is; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, const char *arg);
/* A known option with a value that is not valid: the message; returns
 * CLI_INVALID. */
int cli_invalid(const char *cmd, const char *fmt, const char *arg);
/* -h or --help among the arguments before a "--". */
bool cli_has_help(int argc, char **argv);

/* "512m", "1g", "100k", "2t", "1048576", "0" -> bytes (k, m, g, t are
 * powers of 1024; a trailing b is allowed). 0, or -1 when s is not a size. */
int cli_parse_size(const char *s, unsigned long long *out);
/* A positive finite number; 0 on success, -1 otherwise. */
int cli_parse_positive(const char *s, double *out);

/* Backend selection, shared by run, create and mcp (codes 1010, 1011). */
#define CLI_BACKEND_OPTIONS {"backend", required_argument, 0, 1010}, {"engine", required_argument, 0, 1011}
#define CLI_BACKEND_HELP                                                                           \
    "      --backend native|docker  what runs the sandbox: this host's native runtime, or\n"     \
    "                           Docker/Podman through the Docker Engine API (default:\n"        \
    "                           $LLMCORE_SANDBOX_BACKEND, else native)\n"                       \
    "      --engine URL         with docker: the engine, unix:///PATH (default:\n"              \
    "                           $DOCKER_HOST, else Docker's socket, else Podman's)\n"

/* The policy options `run` and `create` share; put CLI_POLICY_OPTIONS in
 * the getopt_long table and "m:e:w:" in the short options. */
#define CLI_POLICY_OPTIONS                                                                         \
    {"memory", required_argument, 0, 'm'}, {"cpus", required_argument, 0, 'c'},                    \
        {"pids-limit", required_argument, 0, 'p'}, {"timeout", required_argument, 0, 't'},         \
        {"network", required_argument, 0, 'n'}, {"mode", required_argument, 0, 'M'},               \
        {"env", required_argument, 0, 'e'}, {"workdir", required_argument, 0, 'w'},                \
        {"input", required_argument, 0, 1001}, {"output", required_argument, 0, 1002},             \
        {"output-limit", required_argument, 0, 1003}, {"allow-above-limits", no_argument, 0, 'A'}, \
        {"allow-degraded", no_argument, 0, 'D'}, {"disk", required_argument, 0, 1004}

/* Apply one of those options. Returns 1 when opt is one of them and was
 * applied, 0 when it is not one of them, -1 after printing (prefixed with
 * "llmcore-sandbox CMD: ") why its value is invalid. env collects -e values
 * (room for one per argument). */
int cli_policy_option(const char *cmd, int opt, const char *arg, lcs_policy_overrides *o,
                      const char **env, size_t *n_env);

/* Exit status of `run`/`exec` for a result: the command's own, 128+N for
 * signal N, 124 on timeout, 125 for a limit or internal verdict. */
int cli_run_status(const lcs_run_result *r);

#endif
