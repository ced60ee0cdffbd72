/*
 * schema.c - the 15 agent tools: names (upstream's, in upstream's order),
 * descriptions, JSON Schemas of their parameters (required fields as
 * upstream), MCP annotations, and argument validation against the schemas.
 *
 * The schemas are the single description of each tool's parameters: the
 * OpenAI and MCP listings, tools/list and argument checking all read them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/common.h"
#include "tools/internal.h"

#define P_PATH(what) "\"path\": {\"type\": \"string\", \"description\": \"" what "\"}"
#define P_TIMEOUT                                                                                  \
    "\"timeout\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"description\": \"Seconds "    \
    "before the command and everything it started are killed; default: the sandbox's "          \
    "timeout.\"}"
#define P_WORKDIR                                                                                  \
    "\"working_dir\": {\"type\": \"string\", \"description\": \"Directory to run in (relative "   \
    "paths are relative to the workspace); default: the workspace.\"}"
#define P_ENCODING(verb)                                                                           \
    "\"encoding\": {\"type\": \"string\", \"enum\": [\"utf-8\", \"base64\"], \"default\": "       \
    "\"utf-8\", \"description\": \"" verb "\"}"

static const lcs_tool_def tools[LCS_TOOL_COUNT] = {
    {"execute_shell", "Run a shell command",
     "Execute a shell command (/bin/sh -c) in the sandbox and return its output. Files in the "
     "workspace persist between calls.",
     "{\"command\": {\"type\": \"string\", \"description\": \"The shell command to run.\"}, "
     P_TIMEOUT ", " P_WORKDIR "}",
     "[\"command\"]", true, false, false},
    {"execute_python", "Run Python code",
     "Execute Python 3 code in the sandbox and return its output (print() what you need to "
     "see).",
     "{\"code\": {\"type\": \"string\", \"description\": \"The Python source code to run.\"}, "
     P_TIMEOUT ", " P_WORKDIR "}",
     "[\"code\"]", true, false, false},
    {"save_file", "Save a file",
     "Write a file in the sandbox (created or replaced, parent directories made) and record it "
     "as an output of the task.",
     "{" P_PATH("File path; relative paths are relative to the workspace.") ", "
     "\"content\": {\"type\": \"string\", \"description\": \"The file's content.\"}, "
     "\"description\": {\"type\": \"string\", \"description\": \"What the file is (kept in the "
     "recorded-files list).\"}, " P_ENCODING(
         "How content is encoded: utf-8 text, or base64 for binary data.") "}",
     "[\"path\", \"content\"]", true, false, false},
    {"load_file", "Read a file",
     "Read a file from the sandbox and return its content.",
     "{" P_PATH("File path; relative paths are relative to the workspace.") ", " P_ENCODING(
         "How to return the content: utf-8 text (fails for binary files), or base64.") "}",
     "[\"path\"]", true, true, false},
    {"replace_in_file", "Replace text in a file",
     "Replace every occurrence of a text in a file of the sandbox.",
     "{" P_PATH("File path; relative paths are relative to the workspace.") ", "
     "\"old_value\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"The exact text "
     "to replace.\"}, "
     "\"new_value\": {\"type\": \"string\", \"description\": \"The replacement text.\"}}",
     "[\"path\", \"old_value\", \"new_value\"]", true, false, false},
    {"append_to_file", "Append to a file",
     "Append content to the end of a file in the sandbox (created if missing).",
     "{" P_PATH("File path; relative paths are relative to the workspace.") ", "
     "\"content\": {\"type\": \"string\", \"description\": \"The content to append.\"}, " P_ENCODING(
         "How content is encoded: utf-8 text, or base64 for binary data.") "}",
     "[\"path\", \"content\"]", true, false, false},
    {"list_files", "List files",
     "List a directory of the sandbox: names, directories, sizes and modification times.",
     "{\"path\": {\"type\": \"string\", \"default\": \".\", \"description\": \"Directory to "
     "list; default: the workspace.\"}, "
     "\"recursive\": {\"type\": \"boolean\", \"default\": false, \"description\": \"Also list "
     "subdirectories.\"}}",
     "[]", true, true, false},
    {"file_exists", "Check whether a file exists",
     "Tell whether a path exists in the sandbox (true or false).",
     "{" P_PATH("Path to check; relative paths are relative to the workspace.") "}",
     "[\"path\"]", true, true, false},
    {"delete_file", "Delete a file",
     "Delete a file, a symbolic link or an empty directory in the sandbox.",
     "{" P_PATH("Path to delete; relative paths are relative to the workspace.") "}",
     "[\"path\"]", true, false, true},
    {"create_directory", "Create a directory",
     "Create a directory in the sandbox, with its missing parents.",
     "{" P_PATH("Directory to create; relative paths are relative to the workspace.") "}",
     "[\"path\"]", true, false, false},
    {"get_state", "Get a state value",
     "Get a value stored with set_state (kept outside the sandbox for this task).",
     "{\"key\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"The key.\"}}",
     "[\"key\"]", false, true, false},
    {"set_state", "Set a state value",
     "Store a value under a key for later steps of this task. JSON text is stored typed (\"5\" "
     "a number, \"true\" a boolean, \"{...}\" JSON); anything else as text.",
     "{\"key\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"The key.\"}, "
     "\"value\": {\"type\": \"string\", \"description\": \"The value (text or JSON).\"}, "
     "\"value_type\": {\"type\": \"string\", \"enum\": [\"auto\", \"string\", \"number\", "
     "\"boolean\", \"json\"], \"default\": \"auto\", \"description\": \"Store the value as this "
     "type; auto: detect JSON.\"}}",
     "[\"key\", \"value\"]", false, false, false},
    {"list_state", "List state keys", "List the keys stored with set_state.", "{}", "[]", false,
     true, false},
    {"get_sandbox_info", "Describe the sandbox",
     "Describe the sandbox as actually enforced: image, access mode, network, limits, user and "
     "protections.",
     "{}", "[]", true, true, false},
    {"get_recorded_files", "List recorded files",
     "List the files saved with save_file during this task (path, size, description).", "{}",
     "[]", false, true, false},
};

const char *lcs_tool_name(size_t i)
{
    return i < LCS_TOOL_COUNT ? tools[i].name : NULL;
}

const lcs_tool_def *lcs_tool_def_at(size_t i)
{
    return i < LCS_TOOL_COUNT ? &tools[i] : NULL;
}

const lcs_tool_def *lcs_tool_def_find(const char *name)
{
    for (size_t i = 0; name && i < LCS_TOOL_COUNT; i++)
        if (strcmp(tools[i].name, name) == 0)
            return &tools[i];
    return NULL;
}

json_t *lcs_tool_input_schema(const lcs_tool_def *d)
{
    json_t *props = json_loads(d->params_json, 0, NULL);
    json_t *req = json_loads(d->required_json, 0, NULL);
    if (!props || !req) {
        /* The literals above are fixed; a parse failure is a bug caught by tests. */
        json_decref(props);
        json_decref(req);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("object"));
    json_object_set_new(o, "properties", props);
    if (json_array_size(req))
        json_object_set_new(o, "required", req);
    else
        json_decref(req);
    json_object_set_new(o, "additionalProperties", json_false());
    return o;
}

static json_t *mcp_entry(const lcs_tool_def *d)
{
    json_t *schema = lcs_tool_input_schema(d);
    if (!schema)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "title", json_string(d->title));
    json_object_set_new(o, "description", json_string(d->description));
    json_object_set_new(o, "inputSchema", schema);
    json_t *ann = json_object();
    json_object_set_new(ann, "title", json_string(d->title));
    json_object_set_new(ann, "readOnlyHint", json_boolean(d->read_only));
    if (!d->read_only)
        json_object_set_new(ann, "destructiveHint", json_boolean(d->destructive));
    json_object_set_new(ann, "openWorldHint", json_false());
    json_object_set_new(o, "annotations", ann);
    return o;
}

json_t *lcs_tool_list_mcp(const lcs_tool_policy *p, lcs_access_mode m)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < LCS_TOOL_COUNT; i++) {
        if (p && !lcs_tool_policy_allows(p, m, tools[i].name))
            continue;
        json_t *e = mcp_entry(&tools[i]);
        if (!e) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, e);
    }
    return a;
}

char *lcs_tool_schemas_json(const char *format, const lcs_tool_policy *p, lcs_access_mode m,
                            lcs_error *err)
{
    if (!format)
        format = "openai";
    bool openai = strcmp(format, "openai") == 0;
    if (!openai && strcmp(format, "mcp") != 0) {
        lcs_fail(err, LCS_E_INVALID, "tool schemas: unknown format '%s' (use openai or mcp)",
                 format);
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < LCS_TOOL_COUNT; i++) {
        const lcs_tool_def *d = &tools[i];
        if (p && !lcs_tool_policy_allows(p, m, d->name))
            continue;
        json_t *e;
        if (openai) {
            json_t *fn = json_object();
            json_object_set_new(fn, "name", json_string(d->name));
            json_object_set_new(fn, "description", json_string(d->description));
            json_object_set_new(fn, "parameters", lcs_tool_input_schema(d));
            e = json_object();
            json_object_set_new(e, "type", json_string("function"));
            json_object_set_new(e, "function", fn);
        } else
            e = mcp_entry(d);
        json_array_append_new(a, e);
    }
    char *s = a ? json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(a);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

static const char *json_type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

int lcs_tool_validate_args(const lcs_tool_def *d, const json_t *args, char *msg, size_t len)
{
    if (!json_is_object(args)) {
        snprintf(msg, len, "%s: the arguments must be a JSON object, not %s", d->name,
                 json_type_of(args));
        return -1;
    }
    json_t *schema = lcs_tool_input_schema(d);
    if (!schema) {
        snprintf(msg, len, "%s: out of memory while checking arguments", d->name);
        return -1;
    }
    json_t *props = json_object_get(schema, "properties");
    json_t *req = json_object_get(schema, "required");
    int rc = -1;
    size_t i;
    json_t *r;
    json_array_foreach(req, i, r)
    {
        const json_t *v = json_object_get(args, json_string_value(r));
        if (!v || json_is_null(v)) {
            snprintf(msg, len, "%s: missing required parameter '%s'", d->name,
                     json_string_value(r));
            goto out;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)args, key, v)
    {
        json_t *ps = json_object_get(props, key);
        if (!ps) {
            const char *known = NULL;
            char names[256] = "";
            const char *pk;
            json_t *pv;
            json_object_foreach(props, pk, pv)
            {
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", pk);
                known = names;
            }
            snprintf(msg, len, "%s: unknown parameter '%s' (parameters: %s)", d->name, key,
                     known ? known : "none");
            goto out;
        }
        if (json_is_null(v))
            continue; /* an explicit null means "not given" for optional parameters */
        const char *type = json_string_value(json_object_get(ps, "type"));
        /* set_state's value is text, but clients that send a typed JSON value
         * get it stored with that type (tools.c). */
        if (strcmp(d->name, "set_state") == 0 && strcmp(key, "value") == 0)
            continue;
        bool ok = (!strcmp(type, "string") && json_is_string(v)) ||
                  (!strcmp(type, "number") && json_is_number(v)) ||
                  (!strcmp(type, "boolean") && json_is_boolean(v));
        if (!ok) {
            snprintf(msg, len, "%s: parameter '%s' must be %s, not %s", d->name, key,
                     !strcmp(type, "string")   ? "a string"
                     : !strcmp(type, "number") ? "a number"
                                               : "a boolean (true or false)",
                     json_type_of(v));
            goto out;
        }
        json_t *en = json_object_get(ps, "enum");
        if (en) {
            bool found = false;
            size_t j;
            json_t *e;
            json_array_foreach(en, j, e) if (json_equal(e, v)) found = true;
            if (!found) {
                char *allowed = lcs_tl_json_text(en);
                snprintf(msg, len, "%s: parameter '%s' must be one of %s", d->name, key,
                         allowed ? allowed : "the listed values");
                free(allowed);
                goto out;
            }
        }
        if (json_object_get(ps, "exclusiveMinimum") && !(json_number_value(v) > 0 &&
                                                         isfinite(json_number_value(v)))) {
            snprintf(msg, len, "%s: parameter '%s' must be greater than 0", d->name, key);
            goto out;
        }
        /* Only contents may carry NUL bytes; names and paths are C strings. */
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v) &&
            strcmp(key, "content") && strcmp(key, "code") && strcmp(key, "old_value") &&
            strcmp(key, "new_value")) {
            snprintf(msg, len, "%s: parameter '%s' must not contain NUL characters", d->name, key);
            goto out;
        }
        json_t *ml = json_object_get(ps, "minLength");
        if (ml && json_string_length(v) < (size_t)json_integer_value(ml)) {
            snprintf(msg, len, "%s: parameter '%s' must not be empty", d->name, key);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(schema);
    return rc;
}
