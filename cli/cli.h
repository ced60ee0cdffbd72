/*
 * cli.h - pieces shared by the llmcore-sandbox command's source files.
 */
#ifndef LCS_CLI_H
#define LCS_CLI_H

#include <stddef.h>

#include "llmcore/sandbox.h"

/* "512m", "1g", "100k", "1048576" -> bytes; 0 when not a size. */
unsigned long long cli_parse_size(const char *s);
/* A positive number; 0 on success, -1 otherwise. */
int cli_parse_positive(const char *s, double *out);

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
