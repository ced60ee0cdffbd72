/*
 * userns.c - host side: the uid/gid maps of a sandbox's user namespace.
 *
 * Started by root, a sandbox maps its ids 0..65535 onto the host range
 * LCS_NATIVE_HOST_ID_BASE.. (100000..165535): the sandbox user 1000 is host
 * uid 101000 and the sandbox's root (used only by init during setup) is host
 * uid 100000, neither of which owns anything on the host. Started by an
 * ordinary user, only that user's own uid/gid is mapped (to 1000): the
 * kernel allows nothing else without a setuid helper, and nothing more is
 * needed because init's capabilities come from owning the namespace.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_proc(pid_t pid, const char *file, const char *text, lcs_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return lcs_fail_errno(err, "open %s to set up the sandbox's user namespace", path);
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        errno = n < 0 ? saved : EIO;
        return lcs_fail_errno(err, "write \"%s\" to %s", text, path);
    }
    return 0;
}

uid_t lcs_userns_host_uid(const lcs_plan *p, uid_t inside)
{
    return p->rootless ? getuid() : (uid_t)(LCS_NATIVE_HOST_ID_BASE + inside);
}

gid_t lcs_userns_host_gid(const lcs_plan *p, gid_t inside)
{
    return p->rootless ? getgid() : (gid_t)(LCS_NATIVE_HOST_ID_BASE + inside);
}

int lcs_userns_write_maps(pid_t pid, const lcs_plan *p, lcs_error *err)
{
    char map[64];
    if (p->rootless) {
        /* Mandatory for an unprivileged writer of gid_map. */
        if (write_proc(pid, "setgroups", "deny", err) < 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->gid, (unsigned)getgid());
        if (write_proc(pid, "gid_map", map, err) < 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)p->uid, (unsigned)getuid());
        return write_proc(pid, "uid_map", map, err);
    }
    snprintf(map, sizeof map, "0 %u %u\n", LCS_NATIVE_HOST_ID_BASE, LCS_NATIVE_ID_COUNT);
    if (write_proc(pid, "gid_map", map, err) < 0 || write_proc(pid, "uid_map", map, err) < 0)
        return -1;
    return 0;
}
