/*
 * policy_json.h - the policy as a jansson object, for the library's own
 * JSON documents (a session's spec, results).
 */
#ifndef LCS_POLICY_POLICY_JSON_H
#define LCS_POLICY_POLICY_JSON_H

#include <jansson.h>

#include "llmcore/sandbox.h"

/* The policy as a JSON object (what lcs_policy_to_json prints); NULL: no
 * memory. */
json_t *lcs_policy_json(const lcs_policy *p);

#endif
