/*
 * random.c - random identifiers from the kernel's generator.
 */
#include "util/random.h"

#include <errno.h>
#include <sys/random.h>

#include "util/error.h"

int lcs_random_hex(char *out, size_t nbytes, lcs_error *err)
{
    unsigned char buf[64];
    if (nbytes > sizeof buf)
        return lcs_fail(err, LCS_E_INTERNAL, "random id of %zu bytes requested (at most 64)",
                        nbytes);
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = getrandom(buf + got, nbytes - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return lcs_fail_errno(err, "getrandom failed while making a random id");
        }
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}
