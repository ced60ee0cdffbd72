/*
 * archive_dl.c - libarchive, loaded at the point of use (see archive_dl.h).
 */
#include "util/archive_dl.h"
#include "util/error.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

int lcs_archive_open(lcs_archive_lib *al, lcs_error *err)
{
    memset(al, 0, sizeof *al);
    /* RTLD_LOCAL: its symbols (and its dependencies') stay out of the
     * global namespace, so nothing else in the process binds to them. */
    al->handle = dlopen(LCS_ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!al->handle) {
        const char *why = dlerror();
        why = why ? why : "dlopen failed";
        /* glibc's message for a library that is not there ends in strerror(ENOENT). */
        bool absent = strstr(why, "No such file") != NULL;
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "%s %s: apt-get install %s%s (%st64 on Debian 13, Ubuntu 24.04 and "
                        "later); tar export and keeping a workspace load it at run time (%s)",
                        LCS_ARCHIVE_SONAME, absent ? "not found" : "cannot be loaded",
                        absent ? "" : "--reinstall ", LCS_ARCHIVE_PACKAGE, LCS_ARCHIVE_PACKAGE,
                        why);
    }
    const char *missing = NULL;
#define LCS_ARCHIVE_LOAD(name)                                                                     \
    if (!missing) {                                                                                \
        void *sym = dlsym(al->handle, "archive_" #name);                                           \
        if (sym)                                                                                   \
            al->name = (__typeof__(al->name))sym;                                                  \
        else                                                                                       \
            missing = "archive_" #name;                                                            \
    }
    LCS_ARCHIVE_FUNCTIONS(LCS_ARCHIVE_LOAD)
#undef LCS_ARCHIVE_LOAD
    if (missing) {
        lcs_archive_close(al);
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "%s lacks %s (libarchive 3 is required): apt-get install %s",
                        LCS_ARCHIVE_SONAME, missing, LCS_ARCHIVE_PACKAGE);
    }
    return 0;
}

void lcs_archive_close(lcs_archive_lib *al)
{
    if (al->handle)
        dlclose(al->handle);
    memset(al, 0, sizeof *al);
}
