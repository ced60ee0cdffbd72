/*
 * options.c - option parsing shared by `run` and `create`, and the exit
 * status of a run (shared by `run` and `exec`).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define INVALID(fmt)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "llmcore-sandbox %s: " fmt "\n", cmd, arg);                               \
        return -1;                                                                                 \
    } while (0)

int cli_policy_option(const char *cmd, int opt, const char *arg, lcs_policy_overrides *o,
                      const char **env, size_t *n_env)
{
    double d;
    unsigned long long b;
    switch (opt) {
    case 'm':
        if (cli_parse_size(arg, &b) || !b || b % (1024 * 1024))
            INVALID("--memory '%s' is not a size in whole MiB (e.g. 512m, 2g)");
        o->memory_mb = b / (1024 * 1024);
        return 1;
    case 'c':
        if (cli_parse_positive(arg, &o->cpus))
            INVALID("--cpus '%s' is not a positive number");
        return 1;
    case 'p':
        if (cli_parse_positive(arg, &d) || d != (double)(uint32_t)d)
            INVALID("--pids-limit '%s' is not a positive integer");
        o->pids = (uint32_t)d;
        return 1;
    case 't':
        if (cli_parse_positive(arg, &o->timeout_seconds))
            INVALID("--timeout '%s' is not a positive number of seconds");
        return 1;
    case 'n':
        if (!strcmp(arg, "none"))
            o->network = LCS_NETWORK_NONE;
        else if (!strcmp(arg, "full"))
            o->network = LCS_NETWORK_FULL;
        else
            INVALID("--network '%s': use none or full");
        return 1;
    case 'M': {
        lcs_access_mode am;
        if (lcs_access_mode_parse(arg, &am))
            INVALID("--mode '%s': use restricted or full");
        o->access_mode = (int)am;
        return 1;
    }
    case 'e': env[(*n_env)++] = arg; return 1;
    case 'w': o->cwd = arg; return 1;
    case 1001: o->input_dir = arg; return 1;
    case 1002: o->output_dir = arg; return 1;
    case 1003:
        if (cli_parse_size(arg, &b) || !b)
            INVALID("--output-limit '%s' is not a size (e.g. 64k, 1m)");
        o->output_bytes = b;
        return 1;
    case 1004:
        if (cli_parse_size(arg, &b) || !b || b % (1024 * 1024))
            INVALID("--disk '%s' is not a size in whole MiB (e.g. 256m, 2g)");
        o->disk_mb = b / (1024 * 1024);
        return 1;
    case 'A': o->allow_above_limits = true; return 1;
    case 'D': o->allow_degraded = true; return 1;
    default: return 0;
    }
}

int cli_run_status(const lcs_run_result *r)
{
    if (!strcmp(r->verdict, "ok") || !strcmp(r->verdict, "exit"))
        return r->exit_code;
    if (!strcmp(r->verdict, "signal"))
        return 128 + r->signal;
    if (!strcmp(r->verdict, "timeout"))
        return 124;
    /* the seccomp filter: 128+SIGSYS when its kill action took the command,
     * else the command never started (126, as for one that cannot run) */
    if (!strcmp(r->verdict, "seccomp"))
        return r->signal == SIGSYS ? 128 + SIGSYS : 126;
    return 125;
}
