/*
 * engine.c - finding the Docker Engine API endpoint (Docker or Podman), and
 * loading OCI layouts into it with skopeo.
 */
#include "runtime/docker/docker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"

extern char **environ;

/* what: "--engine" or "DOCKER_HOST", for the message */
static int normalise(const char *what, const char *v, char *out, size_t len, lcs_error *err)
{
    const char *path = NULL;
    if (!strncmp(v, "unix://", 7))
        path = v + 7;
    else if (v[0] == '/')
        path = v;
    else if (!strncmp(v, "tcp://", 6) && v[6]) {
        if ((size_t)snprintf(out, len, "%s", v) >= len)
            return lcs_fail(err, LCS_E_INVALID, "%s '%s' is too long", what, v);
        return 0;
    } else
        return lcs_fail(err, LCS_E_INVALID,
                        "%s '%s': give unix:///PATH (or a socket path) or tcp://HOST:PORT", what,
                        v);
    if (path[0] != '/')
        return lcs_fail(err, LCS_E_INVALID, "%s '%s': the socket path must be absolute", what, v);
    if ((size_t)snprintf(out, len, "unix://%s", path) >= len)
        return lcs_fail(err, LCS_E_INVALID, "%s '%s' is too long", what, v);
    return 0;
}

int lcs_docker_engine_find(const char *opt, const char *docker_host,
                           const char *const *candidates, char *out, size_t len,
                           lcs_error *err)
{
    if (opt)
        return normalise("--engine", opt, out, len, err);
    if (docker_host && docker_host[0])
        return normalise("DOCKER_HOST", docker_host, out, len, err);
    char looked[1024] = "";
    size_t used = 0;
    for (const char *const *c = candidates; c && *c; c++) {
        struct stat st;
        if (stat(*c, &st) == 0 && S_ISSOCK(st.st_mode))
            return normalise("socket", *c, out, len, err);
        int n = snprintf(looked + used, sizeof looked - used, "%s%s", used ? ", " : "", *c);
        if (n > 0 && (size_t)n < sizeof looked - used)
            used += (size_t)n;
    }
    return lcs_fail(err, LCS_E_NOT_FOUND,
                    "no container engine found (looked for %s); give --engine unix:///PATH or "
                    "set DOCKER_HOST, or start one (podman system service)",
                    used ? looked : "no socket");
}

int lcs_docker_engine_default(const char *opt, char *out, size_t len, lcs_error *err)
{
    char user_sock[PATH_MAX] = "";
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/')
        snprintf(user_sock, sizeof user_sock, "%s/podman/podman.sock", xdg);
    const char *c[] = {"/var/run/docker.sock", "/run/podman/podman.sock",
                       user_sock[0] ? user_sock : NULL, NULL};
    return lcs_docker_engine_find(opt, getenv("DOCKER_HOST"), c, out, len, err);
}

int lcs_skopeo_copy(const char *src, const char *dst, const char *src_engine,
                    const char *dst_engine, const char *what, lcs_error *err)
{
    /* a missing socket makes skopeo say only "read/write on closed pipe" */
    const char *engines[2] = {src_engine, dst_engine};
    for (int i = 0; i < 2; i++)
        if (engines[i] && !strncmp(engines[i], "unix://", 7)) {
            struct stat st;
            if (stat(engines[i] + 7, &st) != 0)
                return lcs_fail(err, LCS_E_NOT_FOUND, "%s: no engine at %s: %s", what, engines[i],
                                strerror(errno));
            if (!S_ISSOCK(st.st_mode))
                return lcs_fail(err, LCS_E_INVALID, "%s: no engine at %s: not a socket", what,
                                engines[i]);
        }
    /* skopeo's own output goes to a file we read back for the message:
     * bounded, and no pipe to drain while waiting */
    char log[] = "/tmp/lcs-skopeo-XXXXXX";
    int lfd = mkstemp(log);
    if (lfd < 0)
        return lcs_fail_errno(err, "%s: temporary file for skopeo's output", what);
    unlink(log);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, lfd, 1);
    posix_spawn_file_actions_adddup2(&fa, lfd, 2);
    char *argv[10];
    int n = 0;
    argv[n++] = "skopeo";
    argv[n++] = "copy";
    argv[n++] = "--quiet";
    if (src_engine) {
        argv[n++] = "--src-daemon-host";
        argv[n++] = (char *)src_engine;
    }
    if (dst_engine) {
        argv[n++] = "--dest-daemon-host";
        argv[n++] = (char *)dst_engine;
    }
    argv[n++] = (char *)src;
    argv[n++] = (char *)dst;
    argv[n] = NULL;
    pid_t pid;
    int e = posix_spawnp(&pid, "skopeo", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        close(lfd);
        if (e == ENOENT)
            return lcs_fail(err, LCS_E_UNSUPPORTED,
                            "%s: skopeo is not installed (apt-get install skopeo)", what);
        errno = e;
        return lcs_fail_errno(err, "%s: start skopeo", what);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        close(lfd);
        return 0;
    }
    char msg[512] = "";
    off_t end = lseek(lfd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof msg - 1 ? end - (off_t)sizeof msg + 1 : 0;
    ssize_t got = pread(lfd, msg, sizeof msg - 1, from);
    close(lfd);
    msg[got > 0 ? got : 0] = 0;
    while (got > 0 && (msg[got - 1] == '\n' || msg[got - 1] == ' '))
        msg[--got] = 0;
    char *last = strrchr(msg, '\n');
    return lcs_fail(err, LCS_E_IO, "%s failed: %s", what,
                    last ? last + 1 : msg[0] ? msg : "skopeo exited without saying why");
}

int lcs_docker_load_oci(const char *engine, const char *oci_dir, const char *tag,
                        const char *ref, lcs_error *err)
{
    char src[PATH_MAX + 160], dst[512], what[700];
    if ((size_t)snprintf(src, sizeof src, "oci:%s:%s", oci_dir, tag) >= sizeof src ||
        (size_t)snprintf(dst, sizeof dst, "docker-daemon:%s", ref) >= sizeof dst)
        return lcs_fail(err, LCS_E_INVALID, "image %s: name or path too long", ref);
    snprintf(what, sizeof what, "image %s: loading into %s", ref, engine);
    return lcs_skopeo_copy(src, dst, NULL, engine, what, err);
}
