/*
 * io.h - descriptor I/O helpers shared by the library.
 */
#ifndef LCS_UTIL_IO_H
#define LCS_UTIL_IO_H

#include <stddef.h>

/* write() all n bytes of p to fd, retrying on EINTR and short writes.
 * 0, or -1 with errno of the failed write. */
int lcs_write_all(int fd, const void *p, size_t n);

#endif
