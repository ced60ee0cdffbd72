/*
 * fdpass.h - send and receive datagrams with descriptors attached
 * (SCM_RIGHTS).
 */
#ifndef LCS_UTIL_FDPASS_H
#define LCS_UTIL_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define LCS_FDPASS_MAX 8

/* sendmsg() of buf with up to LCS_FDPASS_MAX descriptors, retried on
 * EINTR, never raising SIGPIPE. Allocates nothing and takes no lock, so the
 * sandbox's init may call it. Returns what sendmsg returned (-1 with errno,
 * or EINVAL when nfds is out of range). */
ssize_t lcs_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);

/* recvmsg() of up to len bytes into buf and up to max (<= LCS_FDPASS_MAX)
 * descriptors, close-on-exec, into fds; *nfds says how many arrived. Extra
 * descriptors are closed at once; if the kernel had to drop some (more
 * than LCS_FDPASS_MAX were sent), every one received is closed and *nfds
 * is -1. Retried on EINTR; flags as for recvmsg (MSG_CMSG_CLOEXEC is
 * added). Allocates nothing and takes no lock (init calls it). Returns
 * what recvmsg returned. */
ssize_t lcs_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds,
                          int flags);

#endif
