/*
 * io.c - descriptor I/O helpers (see io.h).
 */
#include "util/io.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int lcs_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static const char *file_kind(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int lcs_open_input_file(const char *path, const char *what, lcs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lcs_fail(err, LCS_E_NOT_FOUND, "%s file not found: %s", what, path);
        return lcs_fail_errno(err, "cannot open %s %s", what, path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return lcs_fail_errno(err, "cannot stat %s %s", what, path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lcs_fail(err, LCS_E_INVALID, "%s %s is %s, not a regular file", what, path,
                        file_kind(st.st_mode));
    }
    /* a regular file never blocks; clear the flag for the reads anyway */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}
