/*
 * archive_dl.c - libarchive, loaded at the point of use (see archive_dl.h).
 */
#include "util/archive_dl.h"
#include "util/error.h"

#include "util/libexec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>
#ifndef LCS_ARCHIVE_STATIC
#include <dlfcn.h>
#endif

#ifdef LCS_ARCHIVE_STATIC
/* The object linked into the static command-line tool: no dlopen at all
 * (lcs_archive_use_helper sends every operation to the helper first). */
int lcs_archive_open(lcs_archive_lib *al, lcs_error *err)
{
    memset(al, 0, sizeof *al);
    return lcs_fail(err, LCS_E_INTERNAL, "libarchive cannot be loaded into a static executable");
}

void lcs_archive_close(lcs_archive_lib *al)
{
    memset(al, 0, sizeof *al);
}

#else
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
#endif

/* No program interpreter (AT_BASE 0): a static executable. */
int lcs_archive_use_helper(void)
{
    return getauxval(AT_BASE) == 0;
}

/* A descriptor the child gets on `target`: one above 9 first, so that no
 * dup2 of the file actions overwrites another source. */
static int high_fd(int fd)
{
    return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

int lcs_archive_helper(const char *op, const char *arg, uint64_t max_bytes, int in_fd, int out_fd,
                       int root_fd, lcs_error *err)
{
    char path[PATH_MAX];
    if (lcs_libexec_find("llmcore-sandbox-archive", "LLMCORE_SANDBOX_ARCHIVE", path, sizeof path,
                         err) < 0)
        return -1;
    int ep[2] = {-1, -1};
    int src[3] = {high_fd(in_fd), high_fd(out_fd), high_fd(root_fd)};
    int rc = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if ((in_fd >= 0 && src[0] < 0) || (out_fd >= 0 && src[1] < 0) ||
        (root_fd >= 0 && src[2] < 0) || pipe2(ep, O_CLOEXEC) < 0) {
        lcs_fail_errno(err, "prepare the archive helper's descriptors");
        goto out;
    }
    /* The helper gets exactly 0-2 (and 3): everything else is close-on-exec. */
    for (int i = 0; i < 2; i++) {
        if (src[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa, src[i], i);
        else
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    if (src[2] >= 0)
        posix_spawn_file_actions_adddup2(&fa, src[2], 3);
    char budget[32];
    snprintf(budget, sizeof budget, "%llu", (unsigned long long)max_bytes);
    char *const argv[] = {path, (char *)op, (char *)arg, budget, NULL};
    char *const envp[] = {NULL};
    pid_t pid;
    int e = posix_spawn(&pid, path, &fa, NULL, argv, envp);
    close(ep[1]);
    ep[1] = -1;
    if (e != 0) {
        errno = e;
        lcs_fail_errno(err, "start %s", path);
        goto out;
    }
    char msg[1024];
    size_t n = 0;
    for (;;) {
        ssize_t k = read(ep[0], msg + n, sizeof msg - 1 - n);
        if (k > 0 && (n += (size_t)k) < sizeof msg - 1)
            continue;
        if (k < 0 && errno == EINTR)
            continue;
        break;
    }
    msg[n] = 0;
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        rc = 0;
    } else {
        /* The helper exits with the lcs error code it hit and says why. */
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
        if (code < LCS_E_INVALID || code > LCS_E_INTERNAL)
            code = LCS_E_INTERNAL;
        lcs_fail(err, (lcs_status)code, "%s",
                 n ? msg : "the archive helper failed without saying why");
    }
out:
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 3; i++)
        if (src[i] >= 0)
            close(src[i]);
    if (ep[0] >= 0)
        close(ep[0]);
    if (ep[1] >= 0)
        close(ep[1]);
    return rc;
}
