/*
 * internal.h - declarations shared between the agent-tool modules
 * (state.c, toolpolicy.c, schema.c, tracker.c, tools.c, mcp.c).
 */
#ifndef LCS_TOOLS_INTERNAL_H
#define LCS_TOOLS_INTERNAL_H

#include <jansson.h>

#include "llmcore/sandbox.h"

/* state.c */
lcs_state_type lcs_state_auto_type(const char *v, size_t n, size_t *off, size_t *len);
json_t *lcs_state_value_to_json(lcs_state_type t, const char *v, size_t n);
json_t *lcs_state_files_value(lcs_state *s, lcs_error *err);

/* schema.c: the tool table. */
typedef struct lcs_tool_def {
    const char *name;
    const char *title;
    const char *description;
    const char *params_json;   /* JSON Schema "properties" object */
    const char *required_json; /* JSON array of required parameter names */
    bool needs_session;        /* false: host-side only (state tools) */
    bool read_only, destructive;
} lcs_tool_def;

const lcs_tool_def *lcs_tool_def_find(const char *name);
const lcs_tool_def *lcs_tool_def_at(size_t i);
/* The JSON Schema of a tool's arguments (an object schema). */
json_t *lcs_tool_input_schema(const lcs_tool_def *d);
/* Check args against the schema: types, required, no unknown names, enum
 * values. Returns 0 or -1 with a message naming the parameter. */
int lcs_tool_validate_args(const lcs_tool_def *d, const json_t *args, char *msg, size_t len);
/* The tool list in MCP shape ([{name, title, description, inputSchema,
 * annotations}]); policy may be NULL. */
json_t *lcs_tool_list_mcp(const lcs_tool_policy *p, lcs_access_mode m);

/* toolpolicy.c: true if allowed (no message). */
bool lcs_tool_policy_allows(const lcs_tool_policy *p, lcs_access_mode m, const char *tool);

#endif
