/*
 * common.c - what every command of llmcore-sandbox shares: exit codes for
 * library errors, error and usage messages, --help detection and the
 * parsers of sizes and positive numbers.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_exit_for(const lcs_error *e)
{
    switch (e->code) {
    case LCS_E_NOT_FOUND: return CLI_NOTFOUND;
    case LCS_E_INVALID:
    case LCS_E_PARSE:
    case LCS_E_VALIDATION:
    case LCS_E_DENIED: return CLI_INVALID;
    default: return CLI_FAIL;
    }
}

static void prefix(const char *cmd)
{
    fprintf(stderr, "llmcore-sandbox%s%s: ", cmd ? " " : "", cmd ? cmd : "");
}

int cli_report(const char *cmd, const lcs_error *e)
{
    prefix(cmd);
    fprintf(stderr, "%s\n", e->message);
    return cli_exit_for(e);
}

int cli_usage(const char *cmd, const char *fmt, const char *arg)
{
    prefix(cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'llmcore-sandbox %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return CLI_USAGE;
}

int cli_invalid(const char *cmd, const char *fmt, const char *arg)
{
    prefix(cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return CLI_INVALID;
}

bool cli_has_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return false; /* what follows is the sandbox's command */
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return true;
    }
    return false;
}

int cli_parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* "inf", "nan", negatives and overflows are no sizes */
    if (end == s || errno || !(v >= 0) || !isfinite(v))
        return -1;
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v * mult > 9e18)
        return -1;
    *out = (unsigned long long)(v * mult);
    return 0;
}

int cli_parse_positive(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* "inf", "nan" and overflows are no numbers of seconds or cores */
    if (end == s || *end || errno || !(v > 0) || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}
