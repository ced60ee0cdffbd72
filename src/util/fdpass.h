/*
 * fdpass.h - send a datagram with descriptors attached (SCM_RIGHTS).
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

#endif
