/*
 * layer.h - one OCI image layer applied to a root filesystem being built
 * (images import).
 */
#ifndef LCS_SESSION_LAYER_H
#define LCS_SESSION_LAYER_H

#include "llmcore/sandbox.h"

#include <stdint.h>

typedef struct lcs_layer_stats {
    uint64_t entries;       /* entries written */
    uint64_t removed;       /* whiteouts applied */
    uint64_t setid_cleared; /* entries whose set-uid/set-gid bits were cleared */
    uint64_t skipped;       /* device nodes, fifos and sockets not created */
    uint64_t ids_clamped;   /* owners outside 0..65535, given to nobody (65534) */
    char first_setid[256];  /* the first entry whose set-id bits were cleared */
} lcs_layer_stats;

/* Apply the layer read from layer_fd (a seekable tar, plain or compressed:
 * it is read twice, whiteouts first) to the directory open as root_fd,
 * owners shifted by id_base. Adds to *st. Every entry is confined to the
 * root (layer.c says how); an entry that climbs out with ".." fails with
 * LCS_E_INVALID naming it. Where the process cannot load libarchive (the
 * static command-line tool) it runs in llmcore-sandbox-archive. */
int lcs_layer_apply(int root_fd, int layer_fd, uint32_t id_base, lcs_layer_stats *st,
                    lcs_error *err);

#endif
