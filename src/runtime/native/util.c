/*
 * util.c - small helpers of the native runtime: child-side error text, a
 * system-directory executable lookup, a monotonic clock, and removal of a
 * per-run directory tree.
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

double lcs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Remove the contents of the directory open as dfd, never following
 * symlinks (entries are unlinked, not resolved). depth bounds recursion. */
static int rm_at(int dfd, int depth)
{
    if (depth > 256)
        return -1;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            rc = -1;
            continue;
        }
        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            rc = -1;
            continue;
        }
        /* Overlay work dirs can contain a 000-mode "work" dir. */
        fchmod(sub, 0700);
        if (rm_at(sub, depth + 1) < 0)
            rc = -1;
        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int lcs_rm_tree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = rm_at(fd, 0);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}
