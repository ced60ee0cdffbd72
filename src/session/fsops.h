/*
 * fsops.h - host-side file operations on a sandbox's filesystem (internal).
 *
 * The session monitor runs on the host, outside every namespace, and moves
 * files in and out of a sandbox whose contents are written by hostile code.
 * Every function here takes `root_fd`, a directory fd that *is* the
 * sandbox's root (e.g. opened from /proc/<init pid>/root), and never leaves
 * it:
 *
 *   - every path is resolved with openat2(2) and RESOLVE_IN_ROOT |
 *     RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV: absolute symlinks and ".."
 *     are clamped at root_fd, /proc magic links are refused, and mount
 *     points are not crossed. Without openat2 (Linux < 5.6) every call fails
 *     closed with LCS_E_UNSUPPORTED; there is no path-string fallback;
 *   - below the named path (recursive list, remove, export) nothing follows
 *     a symlink at all: each step opens one name relative to the parent's fd
 *     with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
 *   - no host path is ever opened (the one exception is /proc/self/fd/N to
 *     reopen an O_PATH fd we already hold; see open_regular in fsops.c).
 *
 * Paths. Relative paths are relative to the workspace, /home/sandbox/work;
 * absolute ones are sandbox-absolute. The path is first made lexically
 * clean: empty and "." components vanish and ".." removes the previous
 * component, clamped at "/" exactly as RESOLVE_IN_ROOT clamps it (so
 * "../../../../etc/passwd" from the workspace is the sandbox's
 * /etc/passwd). Being lexical, "link/.." means the directory holding
 * `link`, whatever `link` points to. Empty paths are refused (a C string
 * cannot carry an interior NUL, so none can sneak in).
 *
 * Symlinks. The final component is never followed by write, stat and
 * remove (a symlink is reported, replaced or removed as itself). read,
 * list, mkdir -p and export *do* follow symlinks in the path they are given
 * -- but only within the root (RESOLVE_IN_ROOT), so a link to
 * "/etc/passwd" reads the sandbox's own /etc/passwd, never the host's.
 *
 * Mount points. RESOLVE_NO_XDEV refuses to cross any mount point inside the
 * sandbox (LCS_E_DENIED), so the sandbox's own /proc, /dev and bind mounts
 * are out of reach. NOTE: this includes bind mounts of the same filesystem,
 * so root_fd must be a directory from which the files of interest are
 * reachable without crossing one (see the report on RESTRICTED mode's
 * /home/sandbox bind).
 *
 * Writes go through a temporary file in the destination directory and
 * renameat(2), so a planted symlink or hard link at the destination is
 * replaced, never written through. Appends refuse symlinks, non-regular
 * files and files with more than one hard link.
 *
 * Streaming to a pipe or socket can raise SIGPIPE; the library does not
 * touch signal dispositions (no global state), so callers that stream to
 * pipes should ignore SIGPIPE.
 */
#ifndef LCS_SESSION_FSOPS_H
#define LCS_SESSION_FSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util/error.h"
#include "util/sandbox_paths.h"

#define LCS_FS_WORKSPACE LCS_SANDBOX_WORKSPACE
/* Walks (list, export) descend at most this many directories. */
#define LCS_FS_MAX_DEPTH 64
/* Recursive removal descends at most this many directories. */
#define LCS_FS_REMOVE_MAX_DEPTH 256
/* A walk or a recursive removal gives up past this many entries. */
#define LCS_FS_MAX_ENTRIES 1000000u
/* lcs_fs_read_data refuses files larger than this (use lcs_fs_read). */
#define LCS_FS_READ_DATA_MAX ((size_t)1 << 30)
/* Modes used when the caller passes 0. */
#define LCS_FS_DEFAULT_FILE_MODE 0644u
#define LCS_FS_DEFAULT_DIR_MODE 0755u

/* Stream src_fd until end of file into `path`. Without append the file is
 * created or atomically replaced (temporary file + renameat); with append
 * it is created or appended to. The parent directory must exist
 * (LCS_E_NOT_FOUND naming the missing directory). mode: permission bits
 * (0777 mask; set-id and sticky bits are dropped; 0 means 0644); applied
 * to new files and, without append, to the replacement. owner/group: host
 * ids given to new files ((uid_t)-1 / (gid_t)-1 keep ours). */
int lcs_fs_write(int root_fd, const char *path, int src_fd, uint32_t mode, bool append, uid_t owner,
                 gid_t group, lcs_error *err);
/* The same from a buffer. */
int lcs_fs_write_data(int root_fd, const char *path, const void *data, size_t len, uint32_t mode,
                      bool append, uid_t owner, gid_t group, lcs_error *err);

/* Stream a regular file to dst_fd. Fifos, sockets, devices and directories
 * are refused (LCS_E_INVALID, "is a fifo") without being opened for I/O.
 * Sparse-aware (lcs_fs_copy_sparse): a regular destination gets holes for
 * the file's holes, a pipe gets zeros. Copies the size the file had when
 * opened. */
int lcs_fs_read(int root_fd, const char *path, int dst_fd, lcs_error *err);
/* The same with a budget: at most max_bytes (0: none) written to dst_fd,
 * else LCS_E_DENIED naming the budget. *written (may be NULL): the bytes
 * written. */
int lcs_fs_read_max(int root_fd, const char *path, int dst_fd, uint64_t max_bytes,
                    uint64_t *written, lcs_error *err);
/* The first min(max, size) bytes of a regular file into memory (NUL-
 * terminated, lcs_free), its size in *size: memory is bounded by max. */
int lcs_fs_read_prefix(int root_fd, const char *path, size_t max, void **data, size_t *len,
                       uint64_t *size, lcs_error *err);
/* Read a whole regular file (at most LCS_FS_READ_DATA_MAX bytes). *data is
 * NUL-terminated (not counted in *len); free it with lcs_free. */
int lcs_fs_read_data(int root_fd, const char *path, void **data, size_t *len, lcs_error *err);

/* lstat: a symlink is described, not followed. out->path is the clean
 * sandbox-absolute path. */
int lcs_fs_stat(int root_fd, const char *path, lcs_file_info *out, lcs_error *err);

/* The entries of a directory (recursive: the whole tree below it, never
 * following symlinks, not crossing mount points, not including the
 * directory itself), sorted by path (strcmp). Deeper than LCS_FS_MAX_DEPTH
 * or more than LCS_FS_MAX_ENTRIES entries: LCS_E_INVALID. */
int lcs_fs_list(int root_fd, const char *path, bool recursive, lcs_file_list *out, lcs_error *err);

/* Remove a file, a symlink (the link itself), an empty directory, or with
 * recursive a whole tree. Removal works on directory fds, never on path
 * strings. Missing: LCS_E_NOT_FOUND. "/" is refused. */
int lcs_fs_remove(int root_fd, const char *path, bool recursive, lcs_error *err);
/* A cleaned sandbox path that is the workspace or a directory it is in
 * ("/", "/home", "/home/sandbox"): lcs_session_remove refuses those
 * ("." and "x/.." name the workspace once cleaned); lcs_fs_remove also
 * refuses the workspace directory by identity, whatever name reached it. */
bool lcs_fs_holds_workspace(const char *clean_path);

/* Make a directory (parents: also the missing ones; an existing directory
 * is then not an error). mode as for files (0 means 0755), set exactly
 * (not filtered by the umask); created directories get owner/group. */
int lcs_fs_mkdir(int root_fd, const char *path, bool parents, uint32_t mode, uid_t owner,
                 gid_t group, lcs_error *err);

/* Write a pax (POSIX.1-2001) tar stream of the tree below directory `path`
 * (NULL: the workspace) to tar_fd. Member names are relative to `path`.
 * Symlinks are stored as symlinks; regular files are read through fds
 * opened beneath their directory; devices, fifos and sockets are skipped;
 * set-id bits are dropped; mount points are stored but not descended. */
int lcs_fs_export_tar(int root_fd, const char *path, int tar_fd, lcs_error *err);
/* The same with a budget: at most max_bytes (0: none) of file data in the
 * stream, else LCS_E_DENIED. Files with holes are sparse members (GNU
 * sparse 1.0 in pax): only their data regions are in the stream. */
int lcs_fs_export_tar_max(int root_fd, const char *path, int tar_fd, uint64_t max_bytes,
                          lcs_error *err);

/* Unpack a tar stream (our own export) from fd into the host directory dir,
 * refusing members that would land outside it (absolute names, "..",
 * writes through symlinks). */
int lcs_tar_extract(int fd, const char *dir, lcs_error *err);
/* The same writing at most max_bytes (0: none) of file data, else
 * LCS_E_DENIED; sparse members are written with their holes. */
int lcs_tar_extract_max(int fd, const char *dir, uint64_t max_bytes, lcs_error *err);

/* ---- shared between fsops.c and tarx.c; not for other callers ---- */

/* Clean sandbox-absolute form of path (see above); caller frees. */
char *lcs_fs_clean_path(const char *path, lcs_error *err);
/* openat2 with RESOLVE_IN_ROOT | NO_MAGICLINKS | NO_XDEV from root_fd;
 * returns an fd or -1 with errno set (EINTR/EAGAIN are retried). */
int lcs_fs_open_in_root(int root_fd, const char *path, int flags);
/* Open `name` below dirfd as a regular file for reading. beneath_only:
 * `name` is one entry of dirfd, no symlink followed, no mount crossed;
 * else dirfd is the sandbox root and `name` a path resolved in it. The
 * type is checked on an O_PATH fd before any I/O open. Returns the fd and
 * fills *st; -2 if it is not a regular file (*st says what it is); -1 with
 * errno otherwise (ESTALE: it changed between the check and the open). */
int lcs_fs_open_regular_at(int dirfd, const char *name, bool beneath_only, struct stat *st);
/* The next data region of fd at or after off, below size: 1 with
 * [*start, *end), 0 when only holes remain, -1 with errno. Without
 * SEEK_DATA support everything is data. */
int lcs_fs_next_data(int fd, uint64_t off, uint64_t size, uint64_t *start, uint64_t *end);
/* Copy `size` bytes of fd (a regular file, p names it in errors) to dst_fd,
 * keeping holes: when dst_fd is a regular file positioned at its end and
 * not O_APPEND, holes and all-zero chunks are seeked over (the host stores
 * only data) and the file is extended to its size at the end; otherwise
 * the zeros are written. Bytes written
 * count against max_bytes (0: no budget), starting from *written (may be
 * NULL; updated), else LCS_E_DENIED. */
int lcs_fs_copy_sparse(int fd, const char *p, uint64_t size, int dst_fd, uint64_t max_bytes,
                       uint64_t *written, lcs_error *err);
/* Fail with the right status for an errno of a resolution of `path`. */
int lcs_fs_fail_resolve(lcs_error *err, int errnum, const char *op, const char *path);
/* "a fifo", "a directory", ... */
const char *lcs_fs_type_name(mode_t mode);

/* Depth-first walk below the directory open as dirfd. fn is called for
 * every entry (names sorted per directory; `path` is the sandbox-absolute
 * path; st is from fstatat(AT_SYMLINK_NOFOLLOW)). Directories are then
 * descended when recursive, opened beneath their parent with no symlinks
 * and no mount crossing (a mount point is reported but not descended). */
typedef int (*lcs_fs_walk_fn)(void *ctx, int dirfd, const char *name, const char *path,
                              const struct stat *st, lcs_error *err);
typedef struct lcs_fs_walk {
    bool recursive;
    size_t entries;
    lcs_fs_walk_fn fn;
    void *ctx;
} lcs_fs_walk;
int lcs_fs_walk_dir(lcs_fs_walk *w, int dirfd, const char *path, int depth, lcs_error *err);

#endif
