/*
 * curl_dl.c - libcurl, loaded at the point of use (see curl_dl.h).
 */
#include "runtime/docker/curl_dl.h"
#include "util/error.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

int lcs_curl_open(lcs_curl_lib *cl, lcs_error *err)
{
    memset(cl, 0, sizeof *cl);
    /* RTLD_LOCAL: libcurl's symbols and its dependencies' stay out of the
     * global namespace, so nothing else in the process binds to them. */
    cl->handle = dlopen(LCS_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!cl->handle) {
        const char *why = dlerror();
        why = why ? why : "dlopen failed";
        bool absent = strstr(why, "No such file") != NULL;
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "%s %s: apt-get install %s%s (%st64 on Debian 13, Ubuntu 24.04 and later); "
                        "the Docker backend loads it to talk to the engine (%s)",
                        LCS_CURL_SONAME, absent ? "not found" : "cannot be loaded",
                        absent ? "" : "--reinstall ", LCS_CURL_PACKAGE, LCS_CURL_PACKAGE, why);
    }
    const char *missing = NULL;
#define LCS_CURL_LOAD(name)                                                                        \
    if (!missing) {                                                                                \
        void *sym = dlsym(cl->handle, "curl_" #name);                                              \
        if (sym)                                                                                   \
            cl->name = (__typeof__(cl->name))sym;                                                  \
        else                                                                                       \
            missing = "curl_" #name;                                                               \
    }
    LCS_CURL_FUNCTIONS(LCS_CURL_LOAD)
#undef LCS_CURL_LOAD
    if (missing) {
        lcs_curl_close(cl);
        return lcs_fail(err, LCS_E_UNSUPPORTED, "%s lacks %s: apt-get install %s", LCS_CURL_SONAME,
                        missing, LCS_CURL_PACKAGE);
    }
    return 0;
}

void lcs_curl_close(lcs_curl_lib *cl)
{
    if (cl->handle)
        dlclose(cl->handle);
    memset(cl, 0, sizeof *cl);
}
