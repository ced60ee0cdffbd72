/*
 * render.c - the policy as a Docker Engine API container: one function,
 * checked against golden files (tests/unit/test_docker.c).
 *
 * Only fields of API 1.41 (Podman 4.3's level) are used. What the native
 * runtime enforces and an engine cannot (a bound on the root's writable
 * layer in FULL mode, a network that cannot reach the host) is left out
 * here, never faked with a field the engine would ignore.
 */
#include "runtime/docker/docker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_json.h"
#include "util/error.h"
#include "util/sandbox_paths.h"

#define MIB (1024ull * 1024ull)

static json_t *strv(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *ulimit(const char *name, json_int_t v)
{
    return json_pack("{s:s,s:I,s:I}", "Name", name, "Soft", v, "Hard", v);
}

static json_t *bind_mount(const char *src, const char *dst, int ro)
{
    /* Mounts, not Binds: a host path with ':' or ',' cannot be misparsed */
    return json_pack("{s:s,s:s,s:s,s:b}", "Type", "bind", "Source", src, "Target", dst,
                     "ReadOnly", ro);
}

json_t *lcs_docker_render_create(const lcs_docker_create *c, lcs_error *err)
{
    if (!c || !c->policy || !c->image || !c->image[0] || !c->seccomp) {
        lcs_fail(err, LCS_E_INVALID, "docker container: a policy, an image and a seccomp "
                                     "profile are needed");
        return NULL;
    }
    /* every value is one the engine takes: the policy's minimum memory
     * (16 MiB) is above Docker's (6 MiB) */
    const lcs_policy *p = c->policy;
    json_t *pol = lcs_policy_json(p);
    char *pol_text = pol ? json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(pol);
    size_t sl = strlen(c->seccomp) + sizeof "seccomp=";
    char *seccomp = malloc(sl);
    if (!pol_text || !seccomp) {
        free(pol_text);
        free(seccomp);
        lcs_fail_nomem(err);
        return NULL;
    }
    snprintf(seccomp, sl, "seccomp=%s", c->seccomp);
    char user[32], tmp_opts[96], ws_opts[128];
    snprintf(user, sizeof user, "%u:%u", p->uid, p->gid);
    /* nosuid, nodev: as the native runtime's tmpfs; the workspace belongs to
     * the sandbox user, sized as the writable layer is natively */
    snprintf(tmp_opts, sizeof tmp_opts, "rw,nosuid,nodev,mode=1777,size=%llu",
             (unsigned long long)(p->tmp_mb * MIB));
    /* the workspace's owner: Docker passes uid=/gid= to the kernel, Podman
     * refuses them and has "U" (owned by the container's user) instead */
    if (c->flavour == LCS_ENGINE_PODMAN)
        snprintf(ws_opts, sizeof ws_opts, "rw,nosuid,nodev,mode=0755,size=%llu,U",
                 (unsigned long long)(p->disk_mb * MIB));
    else
        snprintf(ws_opts, sizeof ws_opts, "rw,nosuid,nodev,mode=0755,uid=%u,gid=%u,size=%llu",
                 p->uid, p->gid, (unsigned long long)(p->disk_mb * MIB));

    json_t *labels = json_pack("{s:s,s:s}", "llmcore-sandbox", "1", "llmcore-sandbox.policy",
                               pol_text);
    if (c->session_id)
        json_object_set_new(labels, "llmcore-sandbox.session", json_string(c->session_id));
    json_t *mounts = json_array();
    if (p->input_dir)
        json_array_append_new(mounts, bind_mount(p->input_dir, LCS_SANDBOX_INPUT, 1));
    if (p->output_dir)
        json_array_append_new(mounts, bind_mount(p->output_dir, LCS_SANDBOX_OUTPUT, 0));
    json_int_t mem = (json_int_t)(p->memory_mb * MIB);
    json_t *ulimits = json_pack("[o,o,o]", ulimit("fsize", (json_int_t)(p->file_size_mb * MIB)),
                                ulimit("nofile", (json_int_t)p->open_files), ulimit("core", 0));
    if (ulimits && c->nproc)
        json_array_append_new(ulimits, ulimit("nproc", (json_int_t)c->nproc));
    json_t *hc = json_pack(
        "{s:[s], s:[s,s], s:b, s:b, s:{s:s,s:s}, s:s, s:I, s:I, s:I, s:I, s:o, s:b, s:o, "
        "s:s, s:i}",
        "CapDrop", "ALL", "SecurityOpt", "no-new-privileges", seccomp, "Privileged", 0,
        "ReadonlyRootfs", !p->writable_root, "Tmpfs", "/tmp", tmp_opts, LCS_SANDBOX_WORKSPACE,
        ws_opts, "NetworkMode",
        p->network == LCS_NETWORK_FULL ? (c->full_network ? c->full_network : "bridge") : "none",
        "Memory", mem, "MemorySwap", mem, "NanoCpus", (json_int_t)(p->cpus * 1e9 + 0.5),
        "PidsLimit", (json_int_t)p->pids, "Ulimits", ulimits, "Init", 1, "Mounts",
        mounts, "IpcMode", "private", "OomScoreAdj", 1000);
    /* a session's container runs nothing of the caller's: its init (the
     * engine's, Init above) keeps it up, and execs come later */
    static const char *const keepalive[] = {"sleep", "infinity", NULL};
    const char *const *cmd = c->argv ? c->argv : keepalive;
    json_t *o = hc ? json_pack("{s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:o}",
                               "Image", c->image, "Cmd", strv(cmd), "User", user, "WorkingDir",
                               p->cwd ? p->cwd : LCS_SANDBOX_WORKSPACE, "Env",
                               strv((const char *const *)p->env), "Hostname", "sandbox", "Labels",
                               labels, "NetworkDisabled", p->network != LCS_NETWORK_FULL,
                               "AttachStdin", c->argv != NULL, "OpenStdin", c->argv != NULL,
                               "StdinOnce", c->argv != NULL, "Tty", 0, "HostConfig", hc)
                   : NULL;
    if (!hc)
        json_decref(labels);
    free(pol_text);
    free(seccomp);
    if (!o)
        lcs_fail_nomem(err);
    return o;
}
