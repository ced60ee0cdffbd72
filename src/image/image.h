/*
 * image.h - internal interfaces shared by the image-system sources
 * (manifest.c, ref.c, registry.c, selector.c, json.c).
 */
#ifndef LCS_IMAGE_IMAGE_H
#define LCS_IMAGE_IMAGE_H

#include <jansson.h>
#include <stdbool.h>

#include "llmcore/sandbox.h"

bool lcs_valid_repository(const char *s);
bool lcs_valid_tag(const char *s);
/* A manifest version: 1.0 or 1.0.0, optionally -suffix ([A-Za-z0-9.-]). */
bool lcs_valid_version(const char *v);

/* Manifest <-> jansson. `source` names the input in messages. */
lcs_manifest *lcs_manifest_from_json(json_t *root, const char *source, lcs_error *err);
json_t *lcs_manifest_to_jansson(const lcs_manifest *m);

/* A capability set as a JSON array of names in canonical order. */
json_t *lcs_capset_to_jansson(lcs_capset s);

#endif
