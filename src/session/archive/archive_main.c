/*
 * archive_main.c - llmcore-sandbox-archive: runs one tar operation for a
 * statically linked caller, which cannot load libarchive itself
 * (util/archive_dl.h). Started by lcs_archive_helper(); not meant to be run
 * by hand.
 *
 *   llmcore-sandbox-archive export PATH MAX    tar of PATH below the sandbox
 *                                              root on fd 3, written to stdout
 *   llmcore-sandbox-archive extract DIR MAX    tar from stdin unpacked into DIR
 *   llmcore-sandbox-archive layer BASE 0       OCI layer from stdin applied to
 *                                              the root on fd 3, owners shifted
 *                                              by BASE; its stats on stdout
 *
 * MAX is the copy budget in bytes of file data (0: none).
 * Exit status 0, or the lcs error code with its message on stderr.
 */
#include "session/fsops.h"
#include "session/layer.h"
#include "util/error.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    lcs_error err;
    memset(&err, 0, sizeof err);
    int rc;
    char *end = NULL;
    unsigned long long max = argc == 4 ? strtoull(argv[3], &end, 10) : 0;
    if (argc != 4 || !end || *end || !argv[3][0])
        rc = lcs_fail(&err, LCS_E_INVALID,
                      "usage: llmcore-sandbox-archive export PATH MAX | extract DIR MAX | layer BASE 0");
    else if (!strcmp(argv[1], "export"))
        rc = lcs_fs_export_tar_max(3, argv[2], 1, max, &err);
    else if (!strcmp(argv[1], "extract"))
        rc = lcs_tar_extract_max(0, argv[2], max, &err);
    else if (!strcmp(argv[1], "layer")) {
        lcs_layer_stats st;
        memset(&st, 0, sizeof st);
        unsigned long base = strtoul(argv[2], &end, 10);
        rc = *end || base > UINT32_MAX
                 ? lcs_fail(&err, LCS_E_INVALID, "layer: bad id base %s", argv[2])
                 : lcs_layer_apply(3, 0, (uint32_t)base, &st, &err);
        json_t *j = rc == 0 ? json_pack("{s:I,s:I,s:I,s:I,s:I,s:s}", "entries",
                                        (json_int_t)st.entries, "removed", (json_int_t)st.removed,
                                        "setid_cleared", (json_int_t)st.setid_cleared, "skipped",
                                        (json_int_t)st.skipped, "ids_clamped",
                                        (json_int_t)st.ids_clamped, "first_setid", st.first_setid)
                            : NULL;
        if (rc == 0 && (!j || json_dumpf(j, stdout, 0) != 0 || fflush(stdout) != 0))
            rc = lcs_fail(&err, LCS_E_IO, "layer: cannot write the stats");
        json_decref(j);
    }
    else
        rc = lcs_fail(&err, LCS_E_INVALID,
                      "usage: llmcore-sandbox-archive export PATH MAX | extract DIR MAX | layer BASE 0");
    if (rc == 0)
        return 0;
    fprintf(stderr, "%s\n", err.message);
    return err.code >= LCS_E_INVALID && err.code <= LCS_E_INTERNAL ? (int)err.code
                                                                    : (int)LCS_E_INTERNAL;
}
