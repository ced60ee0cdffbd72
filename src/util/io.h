/*
 * io.h - descriptor I/O helpers shared by the library.
 */
#ifndef LCS_UTIL_IO_H
#define LCS_UTIL_IO_H

#include <stddef.h>
#include <stdint.h>

/* write() all n bytes of p to fd, retrying on EINTR and short writes.
 * 0, or -1 with errno of the failed write. */
int lcs_write_all(int fd, const void *p, size_t n);

struct lcs_error;
/* Open an input file the caller names (a manifest, a seccomp profile, a
 * tool policy: "what" names it in messages) for reading, refusing anything
 * but a regular file: a FIFO would block the open or the read forever, a
 * device could stream without end. Opened O_NONBLOCK, so even the open of
 * a FIFO returns at once, then checked with fstat. The descriptor, or -1
 * with err set: LCS_E_NOT_FOUND when it does not exist, LCS_E_INVALID when
 * it is not a regular file, LCS_E_IO otherwise. */
int lcs_open_input_file(const char *path, const char *what, struct lcs_error *err);

/* dir/name read whole (up to len - 1 bytes) into buf, NUL-terminated: 0,
 * or -1 with errno. */
int lcs_read_file(const char *dir, const char *name, char *buf, size_t len);
/* Value of "key N" in a flat keyed file (memory.events, cpu.stat, ...):
 * 0, or -1 with errno (ENOENT: no such key). */
int lcs_read_keyed(const char *dir, const char *name, const char *key, uint64_t *out);

#endif
