/*
 * archive_dl.h - libarchive, loaded at the point of use.
 *
 * libarchive is not linked: its dependencies (libxml2, ICU, libstdc++, the
 * compression libraries: about 17 shared libraries) would be loaded at the
 * start of every process, which is most of the command-line tool's start-up
 * time, while only tar export and keeping a workspace need it. Instead, an
 * operation that needs it opens libarchive.so.13 with dlopen into an
 * lcs_archive_lib it owns, calls it through the function pointers, and
 * closes it when done. The types come from <archive.h>, so a call through
 * the struct is checked exactly like a direct call.
 *
 *   lcs_archive_lib al;
 *   if (lcs_archive_open(&al, err) < 0)
 *       return -1;
 *   struct archive *a = al.write_new();
 *   ...
 *   al.write_free(a);
 *   lcs_archive_close(&al);
 */
#ifndef LCS_UTIL_ARCHIVE_DL_H
#define LCS_UTIL_ARCHIVE_DL_H

#include "llmcore/sandbox.h"

#include <archive.h>
#include <archive_entry.h>

/* The soname loaded, and the Debian/Ubuntu package that ships it. */
#define LCS_ARCHIVE_SONAME "libarchive.so.13"
#define LCS_ARCHIVE_PACKAGE "libarchive13"

/* Every function used, without its "archive_" prefix: X(write_new) is the
 * member write_new of type archive_write_new's, loaded from the symbol
 * "archive_write_new". */
#define LCS_ARCHIVE_FUNCTIONS(X)                                                                   \
    X(error_string)                                                                                \
    X(read_new)                                                                                    \
    X(read_support_format_tar)                                                                     \
    X(read_support_filter_all)                                                                     \
    X(read_open_fd)                                                                                \
    X(read_open_filename)                                                                          \
    X(read_next_header)                                                                            \
    X(read_data)                                                                                   \
    X(read_data_block)                                                                             \
    X(read_free)                                                                                   \
    X(write_new)                                                                                   \
    X(write_set_format_pax_restricted)                                                             \
    X(write_open_fd)                                                                               \
    X(write_header)                                                                                \
    X(write_data)                                                                                  \
    X(write_finish_entry)                                                                          \
    X(write_close)                                                                                 \
    X(write_free)                                                                                  \
    X(write_disk_new)                                                                              \
    X(write_disk_set_options)                                                                      \
    X(write_data_block)                                                                            \
    X(entry_new)                                                                                   \
    X(entry_free)                                                                                  \
    X(entry_copy_stat)                                                                             \
    X(entry_pathname)                                                                              \
    X(entry_set_pathname)                                                                          \
    X(entry_set_perm)                                                                              \
    X(entry_set_nlink)                                                                             \
    X(entry_set_size)                                                                              \
    X(entry_set_symlink)                                                                           \
    X(entry_sparse_add_entry)                                                                      \
    X(entry_symlink)                                                                               \
    X(entry_filetype)                                                                              \
    X(entry_perm)                                                                                  \
    X(entry_uid)                                                                                   \
    X(entry_gid)                                                                                   \
    X(entry_set_uid)                                                                               \
    X(entry_set_gid)                                                                               \
    X(entry_hardlink)                                                                              \
    X(entry_set_hardlink)

typedef struct lcs_archive_lib {
    void *handle; /* from dlopen; NULL when closed */
#define LCS_ARCHIVE_MEMBER(name) __typeof__(archive_##name) *name;
    LCS_ARCHIVE_FUNCTIONS(LCS_ARCHIVE_MEMBER)
#undef LCS_ARCHIVE_MEMBER
} lcs_archive_lib;

/* Load libarchive and resolve every function into *al. Returns 0, or -1
 * with LCS_E_UNSUPPORTED naming the library and the package to install (al
 * is then zeroed and needs no close). */
int lcs_archive_open(lcs_archive_lib *al, lcs_error *err);

/* Release what lcs_archive_open loaded and zero *al. No-op on a zeroed or
 * already closed struct. Call it only once nothing of libarchive's (archive,
 * entry, returned string) is in use any more. */
void lcs_archive_close(lcs_archive_lib *al);

/* A statically linked executable (the command-line tool) cannot dlopen
 * safely: the library would bring a second C library that must be the very
 * version the executable was linked with. There the archive operations run
 * in llmcore-sandbox-archive, a small dynamically linked helper (libexec),
 * on descriptors handed to it. True in such a process. */
int lcs_archive_use_helper(void);

/* Run `llmcore-sandbox-archive OP ARG MAX_BYTES` (the copy budget, 0:
 * none) with in_fd as its stdin, out_fd as
 * its stdout and root_fd as its fd 3 (each -1 for none) and wait for it.
 * Its error, if any, comes back as the lcs error it hit. */
int lcs_archive_helper(const char *op, const char *arg, uint64_t max_bytes, int in_fd, int out_fd,
                       int root_fd, lcs_error *err);

#endif
