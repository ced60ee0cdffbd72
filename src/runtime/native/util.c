/*
 * util.c - small helpers of the native runtime: child-side error text, a
 * system-directory executable lookup.
 */
#include "runtime/native/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int lcs_child_fail(lcs_child_err *e, int errnum, const char *fmt, ...)
{
    /* Child side: vsnprintf with %s/%d and strerrordesc_np do not allocate,
     * so this is safe after a raw clone of a multithreaded process. */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (errnum && n >= 0 && (size_t)n < sizeof e->msg) {
        const char *d = strerrordesc_np(errnum);
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", d ? d : "unknown error");
    }
    return -1;
}

int lcs_native_find(const char *name, char *out, size_t len)
{
    const char *dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if ((size_t)snprintf(out, len, "%s/%s", dirs[i], name) >= len)
            continue;
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

int lcs_native_in_path(const char *name)
{
    char p[PATH_MAX];
    return lcs_native_find(name, p, sizeof p) == 0;
}
