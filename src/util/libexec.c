/*
 * libexec.c - where the library's helper executables are (see libexec.h).
 */
#include "util/libexec.h"
#include "util/error.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LCS_LIBEXECDIR
#define LCS_LIBEXECDIR "/usr/local/libexec/llmcore-sandbox"
#endif

/* The file this code was loaded from (the shared library, or the executable
 * it is linked into): the mapping of /proc/self/maps that holds this
 * function. Read directly rather than with dladdr, which would pull the
 * dynamic loader into a static executable. */
static void own_file(char *dir, size_t len)
{
    dir[0] = 0;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return;
    uintptr_t me = (uintptr_t)own_file;
    char line[PATH_MAX + 128];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int off = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off)
            continue;
        if (me < lo || me >= hi)
            continue;
        char *path = line + off;
        path[strcspn(path, "\n")] = 0;
        if (path[0] == '/')
            snprintf(dir, len, "%s", path);
        break;
    }
    fclose(f);
}

int lcs_libexec_find(const char *name, const char *env_var, char *out, size_t len,
                     lcs_error *err)
{
    const char *env = getenv(env_var);
    if (env && env[0]) {
        snprintf(out, len, "%s", env);
        if (access(out, X_OK) == 0)
            return 0;
        return lcs_fail(err, LCS_E_NOT_FOUND, "%s=%s is not executable", env_var, env);
    }
    char dir[PATH_MAX];
    own_file(dir, sizeof dir);
    if (!dir[0]) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        dir[n > 0 ? n : 0] = 0;
    }
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        snprintf(out, len, "%s/%s", dir, name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    snprintf(out, len, "%s/%s", LCS_LIBEXECDIR, name);
    if (access(out, X_OK) == 0)
        return 0;
    return lcs_fail(err, LCS_E_NOT_FOUND,
                    "%s was found neither next to the library (%s) nor in %s; install it (make "
                    "install) or set %s", name, dir, LCS_LIBEXECDIR, env_var);
}
