/*
 * enums.c - names of tiers, access modes and capabilities, and their
 * parsing. The capability table defines the canonical order in which
 * capability sets are printed and serialised.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/str.h"

static const char *const tier_names[] = {"base", "specialized", "task"};
static const char *const access_names[] = {"restricted", "full"};
static const char *const cap_names[LCS_CAP_COUNT] = {
    [LCS_CAP_SHELL] = "shell",
    [LCS_CAP_NETWORK] = "network",
    [LCS_CAP_FILESYSTEM] = "filesystem",
    [LCS_CAP_PYTHON] = "python",
    [LCS_CAP_NODEJS] = "nodejs",
    [LCS_CAP_RUST] = "rust",
    [LCS_CAP_GIT] = "git",
    [LCS_CAP_CURL] = "curl",
    [LCS_CAP_JQ] = "jq",
    [LCS_CAP_PANDOC] = "pandoc",
    [LCS_CAP_PDF_TOOLS] = "pdf_tools",
    [LCS_CAP_BROWSER] = "browser",
    [LCS_CAP_DATA_ANALYSIS] = "data_analysis",
    [LCS_CAP_VISUALIZATION] = "visualization",
    [LCS_CAP_RESEARCH] = "research",
    [LCS_CAP_WEBSEARCH] = "websearch",
    [LCS_CAP_DOCGEN] = "docgen",
    [LCS_CAP_TESTING] = "testing",
    [LCS_CAP_CODE_ANALYSIS] = "code_analysis",
};

const char *lcs_version(void)
{
    return LCS_VERSION_STRING;
}

void lcs_free(void *p)
{
    free(p);
}

const char *lcs_tier_name(lcs_tier t)
{
    return (unsigned)t < 3 ? tier_names[t] : "unknown";
}

const char *lcs_access_mode_name(lcs_access_mode m)
{
    return (unsigned)m < 2 ? access_names[m] : "unknown";
}

const char *lcs_capability_name(lcs_capability c)
{
    return (unsigned)c < LCS_CAP_COUNT ? cap_names[c] : NULL;
}

/* Index of `s` (case-insensitive, trimmed) in names[0..n), or -1. */
static int lookup(const char *s, const char *const *names, int n)
{
    if (!s)
        return -1;
    char *k = lcs_normalize_key(s);
    if (!k)
        return -1;
    int found = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(k, names[i]) == 0) {
            found = i;
            break;
        }
    free(k);
    return found;
}

int lcs_tier_parse(const char *s, lcs_tier *out)
{
    int i = lookup(s, tier_names, 3);
    if (i < 0)
        return -1;
    *out = (lcs_tier)i;
    return 0;
}

int lcs_access_mode_parse(const char *s, lcs_access_mode *out)
{
    int i = lookup(s, access_names, 2);
    if (i < 0)
        return -1;
    *out = (lcs_access_mode)i;
    return 0;
}

int lcs_capability_parse(const char *s, lcs_capability *out)
{
    int i = lookup(s, cap_names, LCS_CAP_COUNT);
    if (i < 0)
        return -1;
    *out = (lcs_capability)i;
    return 0;
}

unsigned lcs_capset_count(lcs_capset s)
{
    return (unsigned)__builtin_popcount(s & ((1u << LCS_CAP_COUNT) - 1));
}

char *lcs_capset_format(lcs_capset s)
{
    lcs_buf b = {0};
    lcs_buf_append(&b, "");
    for (int c = 0; c < LCS_CAP_COUNT; c++)
        if (s & LCS_CAPSET(c))
            lcs_buf_appendf(&b, "%s%s", b.len ? "," : "", cap_names[c]);
    if (b.oom) {
        lcs_buf_free(&b);
        return NULL;
    }
    return b.data;
}

void lcs_tier_default_limits(lcs_tier t, lcs_resource_limits *out)
{
    switch (t) {
    case LCS_TIER_SPECIALIZED:
        *out = (lcs_resource_limits){1024, 2, 600, 100};
        break;
    case LCS_TIER_TASK:
        *out = (lcs_resource_limits){4096, 4, 1800, 200};
        break;
    case LCS_TIER_BASE:
    default:
        *out = (lcs_resource_limits){512, 1, 300, 50};
        break;
    }
}
