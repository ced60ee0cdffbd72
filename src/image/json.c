/*
 * json.c - JSON forms of registry entries and selections, for bindings and
 * for the CLI's --json output. Key order is fixed.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/error.h"

static char *dump(json_t *o, lcs_error *err)
{
    char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

static json_t *info_to_jansson(const lcs_image_info *i)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "ref", json_string(i->ref));
    json_object_set_new(o, "name", json_string(i->manifest->name));
    json_object_set_new(o, "version", json_string(i->manifest->version));
    json_object_set_new(o, "tier", json_string(lcs_tier_name(i->manifest->tier)));
    json_object_set_new(o, "builtin", json_boolean(i->builtin));
    json_object_set_new(o, "available_locally", json_boolean(i->available_locally));
    json_object_set_new(o, "source", json_string(i->source ? i->source : ""));
    json_object_set_new(o, "rootfs", i->rootfs ? json_string(i->rootfs) : json_null());
    json_object_set_new(o, "manifest", lcs_manifest_to_jansson(i->manifest));
    return o;
}

char *lcs_image_info_to_json(const lcs_image_info *i, lcs_error *err)
{
    if (!i || !i->manifest) {
        lcs_fail(err, LCS_E_INVALID, "no image given");
        return NULL;
    }
    return dump(info_to_jansson(i), err);
}

char *lcs_image_list_to_json(const lcs_image_list *l, lcs_error *err)
{
    if (!l) {
        lcs_fail(err, LCS_E_INVALID, "no image list given");
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->count; i++)
        json_array_append_new(a, info_to_jansson(&l->items[i]));
    return dump(a, err);
}

char *lcs_selection_to_json(const lcs_selection *sel, lcs_error *err)
{
    if (!sel || !sel->image) {
        lcs_fail(err, LCS_E_INVALID, "no selection given");
        return NULL;
    }
    json_t *o = json_object();
    if (!o) {
        lcs_fail_nomem(err);
        return NULL;
    }
    json_object_set_new(o, "image", json_string(sel->image));
    json_object_set_new(o, "reason", json_string(sel->reason));
    json_object_set_new(o, "access_mode", json_string(lcs_access_mode_name(sel->access_mode)));
    json_t *alts = json_array();
    for (size_t i = 0; alts && i < sel->n_alternatives; i++)
        json_array_append_new(alts, json_string(sel->alternatives[i]));
    json_object_set_new(o, "alternatives", alts);
    json_object_set_new(o, "required_capabilities", lcs_capset_to_jansson(sel->required));
    json_object_set_new(o, "manifest",
                        sel->manifest ? lcs_manifest_to_jansson(sel->manifest) : json_null());
    return dump(o, err);
}

char *lcs_manifest_json_normalize(const char *json, lcs_error *err)
{
    lcs_manifest *m = lcs_manifest_load_string(json, err);
    if (!m)
        return NULL;
    char *s = lcs_manifest_to_json(m, err);
    lcs_manifest_free(m);
    return s;
}
