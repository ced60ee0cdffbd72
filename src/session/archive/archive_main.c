/*
 * archive_main.c - llmcore-sandbox-archive: runs one tar operation for a
 * statically linked caller, which cannot load libarchive itself
 * (util/archive_dl.h). Started by lcs_archive_helper(); not meant to be run
 * by hand.
 *
 *   llmcore-sandbox-archive export PATH MAX    tar of PATH below the sandbox
 *                                              root on fd 3, written to stdout
 *   llmcore-sandbox-archive extract DIR MAX    tar from stdin unpacked into DIR
 *
 * MAX is the copy budget in bytes of file data (0: none).
 * Exit status 0, or the lcs error code with its message on stderr.
 */
#include "session/fsops.h"
#include "util/error.h"

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
                      "usage: llmcore-sandbox-archive export PATH MAX | extract DIR MAX");
    else if (!strcmp(argv[1], "export"))
        rc = lcs_fs_export_tar_max(3, argv[2], 1, max, &err);
    else if (!strcmp(argv[1], "extract"))
        rc = lcs_tar_extract_max(0, argv[2], max, &err);
    else
        rc = lcs_fail(&err, LCS_E_INVALID,
                      "usage: llmcore-sandbox-archive export PATH MAX | extract DIR MAX");
    if (rc == 0)
        return 0;
    fprintf(stderr, "%s\n", err.message);
    return err.code >= LCS_E_INVALID && err.code <= LCS_E_INTERNAL ? (int)err.code
                                                                    : (int)LCS_E_INTERNAL;
}
