/*
 * curl_dl.h - libcurl, loaded at the point of use (as libarchive is:
 * util/archive_dl.h).
 *
 * Only the Docker backend needs libcurl, and only in the process that
 * talks to the engine: the session monitor. Linking it would load libcurl
 * and its ~25 dependencies (TLS, HTTP/2, LDAP, SSH, ...) into every
 * process of the library, and the static command-line tool cannot link
 * Debian's libcurl at all (docs/backends.md). So the engine client opens
 * libcurl.so.4 with dlopen into an lcs_curl_lib it owns and calls it
 * through these pointers; the types come from <curl/curl.h>, so each call
 * is checked like a direct one.
 */
#ifndef LCS_RUNTIME_DOCKER_CURL_DL_H
#define LCS_RUNTIME_DOCKER_CURL_DL_H

#include <curl/curl.h>

#include "llmcore/sandbox.h"

#define LCS_CURL_SONAME "libcurl.so.4"
#define LCS_CURL_PACKAGE "libcurl4"

#define LCS_CURL_FUNCTIONS(X)                                                                      \
    X(easy_init)                                                                                   \
    X(easy_setopt)                                                                                 \
    X(easy_perform)                                                                                \
    X(easy_getinfo)                                                                                \
    X(easy_cleanup)                                                                                \
    X(easy_strerror)                                                                               \
    X(slist_append)                                                                                \
    X(slist_free_all)

typedef struct lcs_curl_lib {
    void *handle; /* from dlopen; NULL when closed */
#define LCS_CURL_MEMBER(name) __typeof__(curl_##name) *name;
    LCS_CURL_FUNCTIONS(LCS_CURL_MEMBER)
#undef LCS_CURL_MEMBER
} lcs_curl_lib;

/* Load libcurl into *cl. 0, or -1 with LCS_E_UNSUPPORTED naming the
 * library and its package (cl is then zeroed). */
int lcs_curl_open(lcs_curl_lib *cl, lcs_error *err);
/* Release it and zero *cl; a no-op on a zeroed struct. */
void lcs_curl_close(lcs_curl_lib *cl);

#endif
