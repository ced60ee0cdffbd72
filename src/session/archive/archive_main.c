/*
 * archive_main.c - llmcore-sandbox-archive: runs one tar operation for a
 * statically linked caller, which cannot load libarchive itself
 * (util/archive_dl.h). Started by lcs_archive_helper(); not meant to be run
 * by hand.
 *
 *   llmcore-sandbox-archive export PATH    tar of PATH below the sandbox root
 *                                          on fd 3, written to stdout
 *   llmcore-sandbox-archive extract DIR    tar from stdin unpacked into DIR
 *
 * Exit status 0, or the lcs error code with its message on stderr.
 */
#include "session/fsops.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    lcs_error err;
    memset(&err, 0, sizeof err);
    int rc;
    if (argc == 3 && !strcmp(argv[1], "export"))
        rc = lcs_fs_export_tar(3, argv[2], 1, &err);
    else if (argc == 3 && !strcmp(argv[1], "extract"))
        rc = lcs_tar_extract(0, argv[2], &err);
    else
        rc = lcs_fail(&err, LCS_E_INVALID,
                      "usage: llmcore-sandbox-archive export PATH | extract DIR");
    if (rc == 0)
        return 0;
    fprintf(stderr, "%s\n", err.message);
    return err.code >= LCS_E_INVALID && err.code <= LCS_E_INTERNAL ? (int)err.code
                                                                    : (int)LCS_E_INTERNAL;
}
