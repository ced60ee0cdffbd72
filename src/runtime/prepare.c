/*
 * prepare.c - the one "prepare" step: image -> manifest + rootfs -> policy
 * -> backend spec, for one-shot runs, warm runs and sessions alike.
 *
 * The shipped seccomp profile is compiled into the library as a BPF program
 * at build time (src/runtime/native/seccomp_default.c), so no file on disk
 * can be swapped for it and no sandbox start pays for compiling it; a
 * caller's profile is a file the backend compiles.
 */
#include "runtime/prepare.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/builtin.h"
#include "image/image.h"
#include "util/error.h"

/* The image's manifest and rootfs: an explicit rootfs (with the given
 * manifest, or the builtin base's), or a built registry image. */
static int resolve_image(const lcs_registry *reg, const char *image, const char *req_rootfs,
                      const lcs_manifest *manifest, lcs_manifest **m, char **rootfs,
                      lcs_error *err)
{
    *m = NULL;
    *rootfs = NULL;
    if (req_rootfs) {
        struct stat st;
        if (stat(req_rootfs, &st) != 0 || !S_ISDIR(st.st_mode))
            return lcs_fail(err, LCS_E_NOT_FOUND, "root filesystem %s is not a directory",
                            req_rootfs);
        *m = manifest ? lcs_manifest_copy(manifest, err)
                           : lcs_builtin_manifest_get(LCS_IMAGE_PREFIX "base", err);
        if (!*m)
            return -1;
        if (!(*rootfs = strdup(req_rootfs))) {
            lcs_manifest_free(*m);
            *m = NULL;
            return lcs_fail_nomem(err);
        }
        return 0;
    }
    if (!image)
        return lcs_fail(err, LCS_E_INVALID, "a run needs an image or a root filesystem");
    if (!reg)
        return lcs_fail(err, LCS_E_INVALID, "running image %s needs a registry", image);
    lcs_image_info info;
    if (lcs_registry_get(reg, image, &info, err) != 0)
        return -1;
    if (!info.available_locally) {
        lcs_fail(err, LCS_E_NOT_FOUND,
                 "image %s is known but not built in the image store %s; build it first "
                 "(cd container_images && make %s)",
                 info.ref, lcs_registry_store_dir(reg),
                 strncmp(info.manifest->name, LCS_IMAGE_PREFIX, strlen(LCS_IMAGE_PREFIX)) == 0
                     ? info.manifest->name + strlen(LCS_IMAGE_PREFIX)
                     : info.manifest->name);
        lcs_image_info_clear(&info);
        return -1;
    }
    *m = info.manifest;
    *rootfs = info.rootfs;
    info.manifest = NULL;
    info.rootfs = NULL;
    lcs_image_info_clear(&info);
    return 0;
}

static void spec_from_policy(const lcs_policy *pol, const char *rootfs, lcs_native_spec *s)
{
    memset(s, 0, sizeof *s);
    s->rootfs = rootfs;
    s->env = (const char *const *)pol->env;
    s->cwd = pol->cwd;
    s->uid = pol->uid;
    s->gid = pol->gid;
    s->network = pol->network == LCS_NETWORK_FULL ? LCS_NATIVE_NET_FULL : LCS_NATIVE_NET_NONE;
    s->writable_root = pol->writable_root;
    s->memory_bytes = pol->memory_mb * 1024 * 1024;
    s->cpus = pol->cpus;
    s->pids = pol->pids;
    s->timeout_s = pol->timeout_seconds;
    s->output_limit_bytes = pol->output_bytes;
    s->fsize_bytes = pol->file_size_mb * 1024 * 1024;
    s->nofile = pol->open_files;
    s->tmp_bytes = pol->tmp_mb * 1024 * 1024;
    s->layer_bytes = pol->disk_mb * 1024 * 1024;
    s->input_dir = pol->input_dir;
    s->output_dir = pol->output_dir;
    s->allow_degraded = pol->allow_degraded;
}

void lcs_prepared_clear(lcs_prepared *p)
{
    if (!p)
        return;
    lcs_policy_clear(&p->policy);
    lcs_manifest_free(p->manifest);
    free(p->rootfs);
    free(p->image);
    free(p->seccomp_real);
    memset(p, 0, sizeof *p);
}

int lcs_prepare(const lcs_registry *reg, const lcs_prepare_req *req, lcs_prepared *out,
                lcs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!req)
        return lcs_fail(err, LCS_E_INVALID, "nothing to prepare");
    if (resolve_image(reg, req->image, req->rootfs, req->manifest, &out->manifest, &out->rootfs,
                      err) != 0 ||
        lcs_policy_compute(out->manifest, req->overrides, &out->policy, err) != 0)
        goto fail;
    if (!(out->image = lcs_manifest_full_name(out->manifest))) {
        lcs_fail_nomem(err);
        goto fail;
    }
    const char *profile = LCS_NATIVE_SECCOMP_BUILTIN;
    if (req->seccomp_profile && req->outlives) {
        /* the sandbox outlives this process and its working directory */
        if (!(out->seccomp_real = realpath(req->seccomp_profile, NULL))) {
            if (errno == ENOENT || errno == ENOTDIR)
                lcs_fail(err, LCS_E_NOT_FOUND, "seccomp profile file not found: %s",
                         req->seccomp_profile);
            else
                lcs_fail_errno(err, "seccomp profile %s", req->seccomp_profile);
            goto fail;
        }
        profile = out->seccomp_real;
    } else if (req->seccomp_profile)
        profile = req->seccomp_profile;
    spec_from_policy(&out->policy, out->rootfs, &out->spec);
    out->spec.seccomp_profile = profile;
    return 0;
fail:
    lcs_prepared_clear(out);
    return -1;
}
