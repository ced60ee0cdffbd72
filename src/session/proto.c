/*
 * proto.c - session plumbing shared by client and monitor: state paths,
 * datagrams with descriptors, liveness and stale cleanup.
 */
#include "util/fdpass.h"
#include "util/libexec.h"
#include "session/session_int.h"

#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/native/native.h"
#include "util/clock.h"
#include "util/rmtree.h"


double lcs_sess_wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int mkdir_private(const char *p, lcs_error *err)
{
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
        return lcs_fail_errno(err, "create the session state directory %s", p);
    struct stat st;
    if (lstat(p, &st) < 0)
        return lcs_fail_errno(err, "stat %s", p);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
        return lcs_fail(err, LCS_E_DENIED,
                        "session state directory %s must be a directory owned by uid %u with "
                        "mode 0700; remove it or set LLMCORE_SANDBOX_STATE", p,
                        (unsigned)geteuid());
    return 0;
}

/* <state>/<sub>: the state directory (LLMCORE_SANDBOX_STATE, else per
 * user) and sub in it, both private. */
static int state_subdir(const char *sub, char *out, size_t len, lcs_error *err)
{
    char base[PATH_MAX];
    const char *env = getenv("LLMCORE_SANDBOX_STATE");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && env[0])
        snprintf(base, sizeof base, "%s", env);
    else if (geteuid() == 0)
        snprintf(base, sizeof base, "/run/llmcore-sandbox");
    else if (xdg && xdg[0] == '/')
        snprintf(base, sizeof base, "%s/llmcore-sandbox", xdg);
    else
        snprintf(base, sizeof base, "/tmp/llmcore-sandbox-%u", (unsigned)geteuid());
    if (mkdir_private(base, err) < 0)
        return -1;
    int n = snprintf(out, len, "%s/%s", base, sub);
    if (n < 0 || (size_t)n >= len - 64)
        return lcs_fail(err, LCS_E_INVALID, "session state path %s is too long", base);
    return mkdir_private(out, err);
}

int lcs_sess_root(char *out, size_t len, lcs_error *err)
{
    return state_subdir("sessions", out, len, err);
}

int lcs_sess_pool_dir(char *out, size_t len, lcs_error *err)
{
    return state_subdir("pool", out, len, err);
}

int lcs_sess_send(int sock, json_t *msg, const int *fds, int nfds, lcs_error *err)
{
    char *txt = json_dumps(msg, JSON_COMPACT);
    if (!txt)
        return lcs_fail_nomem(err);
    size_t len = strlen(txt);
    if (len > LCS_SESS_MSG_MAX) {
        free(txt);
        return lcs_fail(err, LCS_E_INVALID, "session message too large (%zu bytes)", len);
    }
    ssize_t n = lcs_send_with_fds(sock, txt, len, fds, nfds);
    free(txt);
    if (n != (ssize_t)len)
        return lcs_fail_errno(err, "send to the session monitor");
    return 0;
}

int lcs_sess_recv(int sock, json_t **msg, int *fds, int *nfds, int timeout_ms, lcs_error *err)
{
    *msg = NULL;
    int dummy_n = 0;
    if (!nfds)
        nfds = &dummy_n;
    *nfds = 0;
    if (fds)
        for (int i = 0; i < 4; i++)
            fds[i] = -1;
    if (timeout_ms >= 0) {
        struct pollfd pf = {sock, POLLIN, 0};
        int pr;
        do
            pr = poll(&pf, 1, timeout_ms);
        while (pr < 0 && errno == EINTR);
        if (pr == 0)
            return lcs_fail(err, LCS_E_IO, "the session monitor did not answer within %d ms",
                            timeout_ms);
        if (pr < 0)
            return lcs_fail_errno(err, "wait for the session monitor");
    }
    /* The datagram's size first (MSG_TRUNC reports it): a buffer of what
     * the message needs instead of the maximum (a fresh mapping and its page
     * faults for every message). Unknown yet: the maximum. */
    ssize_t want = recv(sock, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    size_t cap = want >= 0 && want <= LCS_SESS_MSG_MAX ? (size_t)want : LCS_SESS_MSG_MAX;
    char *buf = malloc(cap + 1);
    if (!buf)
        return lcs_fail_nomem(err);
    int none[1];
    ssize_t n = lcs_recv_with_fds(sock, buf, cap ? cap : 1, fds ? fds : none, fds ? 4 : 0, nfds,
                                  0);
    if (n < 0 && errno == ECONNRESET) {
        /* A peer that closes with our request still unread in its queue
         * leaves ECONNRESET pending, and the kernel reports it before the
         * messages already queued for us (the monitor's "busy" answer).
         * Reading it cleared it: take what was queued, if anything. */
        n = lcs_recv_with_fds(sock, buf, cap ? cap : 1, fds ? fds : none, fds ? 4 : 0, nfds,
                              MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN)
            errno = ECONNRESET;
    }
    if (*nfds < 0)
        *nfds = 0; /* descriptors lost in transit were closed: none arrived */
    if (n < 0) {
        free(buf);
        return lcs_fail_errno(err, "receive from the session monitor");
    }
    if (n == 0) {
        free(buf);
        return 0; /* end of stream */
    }
    buf[n] = 0;
    json_error_t je;
    *msg = json_loads(buf, 0, &je);
    free(buf);
    if (!json_is_object(*msg)) {
        json_decref(*msg);
        *msg = NULL;
        if (fds)
            for (int i = 0; i < *nfds; i++)
                close(fds[i]);
        *nfds = 0;
        return lcs_fail(err, LCS_E_PARSE, "malformed session message: %s", je.text);
    }
    return 0;
}

int lcs_sess_connect(const char *dir, lcs_error *err)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", dir);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path)
        return lcs_fail(err, LCS_E_INVALID, "session path %s is too long for a socket", dir);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return lcs_fail_errno(err, "socket");
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(s);
        if (e == ENOENT || e == ECONNREFUSED)
            return lcs_fail(err, LCS_E_NOT_FOUND, "session %s is not running (its monitor is "
                                                  "gone)", strrchr(dir, '/') + 1);
        errno = e;
        return lcs_fail_errno(err, "connect to the session monitor at %s", sa.sun_path);
    }
    return s;
}

int lcs_sess_lock_state(const char *dir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/lock", dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? LCS_SESS_NO_LOCK : LCS_SESS_UNKNOWN;
    /* A test only: a shared lock taken and dropped at once. Nobody ever
     * waits for a session's lock (a monitor gets its lock from its creator
     * before the directory has its name), so this cannot get in anyone's
     * way. */
    int st;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
        st = LCS_SESS_DEAD;
    else
        st = errno == EWOULDBLOCK ? LCS_SESS_LIVE : LCS_SESS_UNKNOWN;
    close(fd);
    return st;
}

int lcs_sess_alive(const char *dir)
{
    int st = lcs_sess_lock_state(dir);
    return st == LCS_SESS_LIVE || st == LCS_SESS_UNKNOWN;
}

static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (!b)
            break;
        if (len + 1 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
        }
        ssize_t n = read(fd, b + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (b)
        b[len] = 0;
    return b;
}

int lcs_sess_cleanup_dir(const char *dir, lcs_error *err)
{
    /* Only what is proven dead goes. A lock we can take is a dead
     * monitor's: we hold it while cleaning, which keeps a concurrent
     * cleaner out (no monitor ever wants that lock back: a monitor's lock
     * is taken by its creator before the directory gets its name). A lock
     * we cannot take, or cannot even test, is left alone. A directory
     * without a lock is one being removed, or damaged (its monitor, which
     * checks its lock every second, shuts down): it goes only once it has
     * not changed for LCS_SESS_LOCKLESS_AGE seconds. */
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/lock", dir);
    int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        struct stat st;
        if (errno != ENOENT || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
            lcs_sess_wallclock() - (double)st.st_mtime < LCS_SESS_LOCKLESS_AGE)
            return 0;
    } else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return 0;
    }
    snprintf(p, sizeof p, "%s/info.json", dir);
    char *txt = slurp(p);
    json_t *info = txt ? json_loads(txt, 0, NULL) : NULL;
    free(txt);
    json_t *res = json_object_get(info, "resources");
    json_t *dk = json_object_get(res, "docker");
    if (json_is_object(dk)) {
        /* a Docker-backend session's container: removed through the engine
         * by the monitor executable (which can load libcurl) */
        const char *engine = json_string_value(json_object_get(dk, "engine"));
        const char *cid = json_string_value(json_object_get(dk, "container"));
        char mon[PATH_MAX];
        if (engine && cid && lcs_sess_monitor_path(mon, sizeof mon, NULL) == 0) {
            char *const av[] = {mon, "--remove-container", (char *)engine, (char *)cid, NULL};
            pid_t pid;
            extern char **environ;
            if (posix_spawn(&pid, mon, NULL, NULL, av, environ) == 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
                }
        }
    } else if (json_is_object(res)) {
        char *r = json_dumps(res, JSON_COMPACT);
        if (r)
            lcs_native_cleanup_resources(r, err);
        free(r);
    }
    json_decref(info);
    lcs_rm_tree(dir);
    if (fd >= 0)
        close(fd);
    return 1;
}

int lcs_sess_listen(const char *dir, lcs_error *err)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", dir);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path)
        return lcs_fail(err, LCS_E_INVALID, "session path %s is too long for a socket", dir);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0) {
        lcs_fail_errno(err, "listen on %s", sa.sun_path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int lcs_sess_write_info(const char *dir, json_t *info, lcs_error *err)
{
    /* written aside, then renamed: a reader sees the old file or the new */
    char tmp[PATH_MAX + 32], dst[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/info.json.tmp", dir);
    snprintf(dst, sizeof dst, "%s/info.json", dir);
    if (json_dump_file(info, tmp, JSON_COMPACT) < 0 || rename(tmp, dst) < 0)
        return lcs_fail_errno(err, "write %s", dst);
    return 0;
}

int lcs_sess_monitor_path(char *out, size_t len, lcs_error *err)
{
    return lcs_libexec_find("llmcore-sandbox-monitor", "LLMCORE_SANDBOX_MONITOR", out, len, err);
}
