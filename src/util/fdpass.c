/*
 * fdpass.c - datagrams with descriptors attached (see fdpass.h).
 */
#include "util/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Room for LCS_FDPASS_MAX descriptors, aligned for a cmsghdr. */
typedef union fd_control {
    char buf[CMSG_SPACE(LCS_FDPASS_MAX * sizeof(int))];
    struct cmsghdr align;
} fd_control;

static void msg_init(struct msghdr *mh, struct iovec *iov)
{
    memset(mh, 0, sizeof *mh);
    mh->msg_iov = iov;
    mh->msg_iovlen = 1;
}

ssize_t lcs_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
    if (nfds < 0 || nfds > LCS_FDPASS_MAX) {
        errno = EINVAL;
        return -1;
    }
    struct iovec iov = {(void *)buf, len};
    fd_control u;
    struct msghdr mh;
    msg_init(&mh, &iov);
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t lcs_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds,
                          int flags)
{
    *nfds = 0;
    struct iovec iov = {buf, len};
    fd_control u;
    struct msghdr mh;
    msg_init(&mh, &iov);
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    ssize_t n;
    do
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*nfds < max && *nfds < LCS_FDPASS_MAX)
                fds[(*nfds)++] = fd;
            else
                close(fd);
        }
    }
    if (mh.msg_flags & MSG_CTRUNC) {
        for (int i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = -1;
    }
    return n;
}
