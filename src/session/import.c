/*
 * import.c - any OCI image into the native image store.
 *
 * skopeo copies the source (an OCI layout, a docker-archive tarball or an
 * engine's image) into a fresh OCI layout in the store's scratch space; its
 * layers are applied in order to a new rootfs (layer.c: every entry
 * confined to the root, set-id bits cleared, no device nodes, owners in
 * the sandbox's host id range); the sandbox user and the directories the
 * runtime mounts on are added; a RESTRICTED sandbox of the result probes
 * what it can do; the manifest (base-tier defaults, the probed
 * capabilities and tools, the image's environment) is written; and only
 * then is the directory renamed into place, so a failure at any step
 * leaves the store as it was.
 */
#include "session/import.h"

#include "image/image.h"
#include "runtime/docker/docker.h"
#include "session/fsops.h"
#include "session/layer.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/random.h"
#include "util/rmtree.h"
#include "util/sandbox_paths.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The image store's rootfs ids: uid N of the sandbox is host 100000+N
 * (the native runtime's mapping, LCS_NATIVE_HOST_ID_BASE). */
#define ID_BASE 100000u

typedef struct source {
    char skopeo[PATH_MAX + 32]; /* transport:reference for skopeo */
    char name[256];             /* the default store name */
    char tag[128];              /* the source's tag, "latest" when none */
    bool daemon;                /* an engine's image */
} source;

/* s as an image-name component: lower case, [a-z0-9._-], starting with a
 * letter or digit. */
static void sanitize_name(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s && o + 1 < len; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-')
            c = '-';
        if (o == 0 && !isalnum((unsigned char)c))
            continue;
        out[o++] = c;
    }
    out[o] = 0;
    if (!o)
        snprintf(out, len, "imported");
}

/* The last path component of p, without a trailing ".tar". */
static void base_of(const char *p, char *out, size_t len)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", p);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = 0;
    const char *b = strrchr(tmp, '/') ? strrchr(tmp, '/') + 1 : tmp;
    char nb[256];
    snprintf(nb, sizeof nb, "%.*s", (int)sizeof nb - 1, b);
    size_t bl = strlen(nb);
    if (bl > 4 && !strcmp(nb + bl - 4, ".tar"))
        nb[bl - 4] = 0;
    sanitize_name(nb, out, len);
}

/* "repo/path:tag@digest" -> name (last path component) and tag. */
static void split_ref(const char *ref, char *name, size_t nlen, char *tag, size_t tlen)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", ref);
    char *at = strchr(tmp, '@');
    if (at)
        *at = 0;
    char *slash = strrchr(tmp, '/');
    char *colon = strrchr(slash ? slash : tmp, ':');
    snprintf(tag, tlen, "%s", colon && colon[1] ? colon + 1 : "latest");
    if (colon)
        *colon = 0;
    sanitize_name(slash ? slash + 1 : tmp, name, nlen);
}

static int parse_source(const char *s, source *src, lcs_error *err)
{
    memset(src, 0, sizeof *src);
    if (!s || !*s)
        return lcs_fail(err, LCS_E_INVALID, "no source given");
    if (strlen(s) >= sizeof src->skopeo - 16)
        return lcs_fail(err, LCS_E_INVALID, "source too long");
    if (!strncmp(s, "oci:", 4)) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", s + 4);
        char *slash = strrchr(dir, '/');
        char *colon = strrchr(slash ? slash : dir, ':');
        snprintf(src->tag, sizeof src->tag, "%s", colon && colon[1] ? colon + 1 : "latest");
        if (colon)
            *colon = 0;
        base_of(dir, src->name, sizeof src->name);
        snprintf(src->skopeo, sizeof src->skopeo, "%s", s);
        return 0;
    }
    if (!strncmp(s, "docker-archive:", 15)) {
        base_of(s + 15, src->name, sizeof src->name);
        snprintf(src->tag, sizeof src->tag, "latest");
        snprintf(src->skopeo, sizeof src->skopeo, "%s", s);
        return 0;
    }
    if (!strncmp(s, "docker-daemon:", 14)) {
        if (!s[14])
            return lcs_fail(err, LCS_E_INVALID, "docker-daemon: names no image");
        split_ref(s + 14, src->name, sizeof src->name, src->tag, sizeof src->tag);
        snprintf(src->skopeo, sizeof src->skopeo, "%s", s);
        src->daemon = true;
        return 0;
    }
    const char *colon = strchr(s, ':');
    if (colon && !strchr(s, '/') && colon != s)
        return lcs_fail(err, LCS_E_INVALID,
                        "source %s: unknown transport (use oci:DIR[:TAG], "
                        "docker-archive:FILE, docker-daemon:REF or a path)",
                        s);
    struct stat st;
    if (stat(s, &st) != 0)
        return lcs_fail(err, LCS_E_NOT_FOUND, "source %s: %s", s, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char lay[PATH_MAX + 16];
        snprintf(lay, sizeof lay, "%s/oci-layout", s);
        if (access(lay, R_OK) != 0)
            return lcs_fail(err, LCS_E_INVALID,
                            "%s is a directory without an oci-layout file: not "
                            "an OCI image layout",
                            s);
        snprintf(src->skopeo, sizeof src->skopeo, "oci:%s", s);
        base_of(s, src->name, sizeof src->name);
        snprintf(src->tag, sizeof src->tag, "latest");
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return lcs_fail(err, LCS_E_INVALID,
                        "%s is neither an OCI layout directory nor a file", s);
    snprintf(src->skopeo, sizeof src->skopeo, "docker-archive:%s", s);
    base_of(s, src->name, sizeof src->name);
    snprintf(src->tag, sizeof src->tag, "latest");
    return 0;
}

/* The store's name and version: the request's NAME[:VERSION], else the
 * source's; a tag that is no version (latest) becomes 0.0.0-TAG. */
static int store_ref(const lcs_import_request *rq, const source *src, char *name, size_t nlen,
                     char *ver, size_t vlen, lcs_error *err)
{
    char tag[128];
    if (rq->name && *rq->name) {
        snprintf(name, nlen, "%s", rq->name);
        char *slash = strrchr(name, '/');
        char *colon = strrchr(slash ? slash : name, ':');
        snprintf(tag, sizeof tag, "%s", colon ? colon + 1 : src->tag);
        if (colon)
            *colon = 0;
        if (!lcs_valid_repository(name))
            return lcs_fail(err, LCS_E_INVALID,
                            "'%s' is not a valid image name (lower-case letters, "
                            "digits, '.', '_', '-', components joined by '/')",
                            name);
        if (colon && !lcs_valid_version(tag))
            return lcs_fail(err, LCS_E_INVALID,
                            "'%s' is not a version like 1.0 or 1.0.0 "
                            "(optionally -suffix)",
                            tag);
    } else {
        snprintf(name, nlen, "%s", src->name);
        snprintf(tag, sizeof tag, "%s", src->tag);
    }
    if (lcs_valid_version(tag)) {
        snprintf(ver, vlen, "%s", tag);
        return 0;
    }
    char clean[128];
    size_t o = 0;
    for (const char *c = tag; *c && o + 1 < sizeof clean; c++)
        clean[o++] = isalnum((unsigned char)*c) || *c == '.' || *c == '-' ? *c : '-';
    clean[o] = 0;
    snprintf(ver, vlen, "0.0.0-%s", o ? clean : "imported");
    if (!lcs_valid_version(ver))
        return lcs_fail(err, LCS_E_INVALID, "tag %s gives no valid version; name "
                        "the image NAME:VERSION", tag);
    return 0;
}

static json_t *load_json_file(const char *path, lcs_error *err)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        lcs_fail(err, LCS_E_PARSE, "%s: %s", path, je.text);
    return j;
}

/* The blob path of digest (only sha256 hex: the name becomes a path). */
static int blob_path(const char *oci, const char *digest, char *out, size_t len, lcs_error *err)
{
    if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71 ||
        strspn(digest + 7, "0123456789abcdef") != 64)
        return lcs_fail(err, LCS_E_PARSE, "bad blob digest %s",
                        digest ? digest : "(none)");
    snprintf(out, len, "%s/blobs/sha256/%s", oci, digest + 7);
    return 0;
}

/* The image manifest of the layout's tag (else its only one). */
static json_t *image_manifest(const char *oci, const char *tag, lcs_error *err)
{
    char p[PATH_MAX + 200];
    snprintf(p, sizeof p, "%s/index.json", oci);
    json_t *idx = load_json_file(p, err);
    if (!idx)
        return NULL;
    json_t *ms = json_object_get(idx, "manifests"), *pick = NULL, *m;
    size_t i;
    json_array_foreach(ms, i, m) {
        const char *rn = json_string_value(json_object_get(
            json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
        if (!pick || (rn && !strcmp(rn, tag)))
            pick = m;
    }
    const char *mt = json_string_value(json_object_get(pick, "mediaType"));
    json_t *r = NULL;
    if (!pick)
        lcs_fail(err, LCS_E_PARSE, "the copied layout lists no image");
    else if (mt && strcmp(mt, "application/vnd.oci.image.manifest.v1+json"))
        lcs_fail(err, LCS_E_UNSUPPORTED, "the image is a %s, not one image", mt);
    else if (blob_path(oci, json_string_value(json_object_get(pick, "digest")), p, sizeof p,
                       err) == 0)
        r = load_json_file(p, err);
    json_decref(idx);
    return r;
}

/* Make sure uid/gid 1000 has a name (etc/passwd, etc/group), so that
 * whoami and $HOME work; true when a line was added. Files that are not
 * plain files (a symlink) are left alone. */
static bool add_user(int root_fd, const char *file, const char *line)
{
    void *data = NULL;
    size_t len = 0;
    lcs_error e;
    lcs_error_clear(&e);
    int have = lcs_fs_read_data(root_fd, file, &data, &len, &e) == 0;
    if (!have && e.code != LCS_E_NOT_FOUND)
        return false;
    bool found = false;
    for (char *l = data; have && l && *l;) {
        char *nl = strchr(l, '\n');
        /* name:x:ID:... : the third field */
        const char *f = l;
        for (int k = 0; k < 2 && f; k++) {
            f = strchr(f, ':');
            if (f && (!nl || f < nl))
                f++;
            else
                f = NULL;
        }
        if (f && !strncmp(f, "1000:", 5))
            found = true;
        l = nl ? nl + 1 : NULL;
    }
    bool nl_needed = have && len && ((char *)data)[len - 1] != '\n';
    lcs_free(data);
    if (found)
        return false;
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s\n", nl_needed ? "\n" : "", line);
    return lcs_fs_write_data(root_fd, file, buf, strlen(buf), 0644, have, ID_BASE, ID_BASE,
                             &e) == 0;
}

/* What the runtime mounts on, and the sandbox's home. */
static int skeleton(int root_fd, bool *user_added, lcs_error *err)
{
    static const struct {
        const char *path;
        uint32_t mode;
        uid_t uid;
    } dirs[] = {{"/proc", 0555, ID_BASE},
                {"/dev", 0755, ID_BASE},
                {"/sys", 0555, ID_BASE},
                {"/tmp", 01777, ID_BASE},
                {"/etc/llmcore", 0755, ID_BASE},
                {LCS_SANDBOX_HOME, 0755, ID_BASE + 1000},
                {LCS_SANDBOX_WORKSPACE, 0755, ID_BASE + 1000}};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (lcs_fs_mkdir(root_fd, dirs[i].path, true, dirs[i].mode, dirs[i].uid, dirs[i].uid,
                         err) < 0)
            return -1;
    bool a = add_user(root_fd, "/etc/passwd",
                      "sandbox:x:1000:1000:sandbox:" LCS_SANDBOX_HOME ":/bin/sh");
    bool b = add_user(root_fd, "/etc/group", "sandbox:x:1000:");
    *user_added = a || b;
    return 0;
}

/* The probe: one shell script in a RESTRICTED sandbox of the new rootfs. */
static const char probe_script[] =
    "for t in sh bash dash python3 pip3 node npm git curl wget jq pandoc pdftotext make gcc "
    "rustc cargo tar gzip unzip zip sqlite3 grep sed awk find xargs chromium; do\n"
    "  command -v \"$t\" >/dev/null 2>&1 && echo \"tool $t\"\n"
    "done\n"
    "echo probe > " LCS_SANDBOX_WORKSPACE "/.lcs-probe 2>/dev/null && echo 'cap filesystem'\n"
    "python3 -c 'print(1)' 2>/dev/null | grep -qx 1 && echo 'cap python'\n"
    "node -e 'console.log(1)' 2>/dev/null | grep -qx 1 && echo 'cap nodejs'\n"
    "git --version >/dev/null 2>&1 && echo 'cap git'\n"
    "curl --version >/dev/null 2>&1 && echo 'cap curl'\n"
    "jq --version >/dev/null 2>&1 && echo 'cap jq'\n"
    "pandoc --version >/dev/null 2>&1 && echo 'cap pandoc'\n"
    "pdftotext -v >/dev/null 2>&1 && echo 'cap pdf_tools'\n"
    "rustc --version >/dev/null 2>&1 && echo 'cap rust'\n"
    "python3 -c 'import pandas, numpy' 2>/dev/null && echo 'cap data_analysis'\n"
    "python3 -c 'import matplotlib' 2>/dev/null && echo 'cap visualization'\n"
    "exit 0\n";

/* Run the probe; fills caps and tools (JSON arrays) and says how it went
 * in *how ("ok", or why nothing was found). -1 only when no sandbox could
 * be made at all. */
static int probe(const lcs_registry *reg, const char *rootfs, const char *manifest_json,
                 json_t *caps, json_t *tools, char *how, size_t hlen, lcs_error *err)
{
    lcs_manifest *m = lcs_manifest_load_string(manifest_json, err);
    if (!m)
        return -1;
    lcs_run_request rq;
    lcs_run_request_init(&rq);
    const char *argv[] = {"/bin/sh", "-c", probe_script, NULL};
    rq.rootfs = rootfs;
    rq.manifest = m;
    rq.argv = argv;
    rq.backend = "native";
    rq.overrides.timeout_seconds = 120;
    lcs_run_result res;
    memset(&res, 0, sizeof res);
    int rc = lcs_run(reg, &rq, &res, err);
    lcs_manifest_free(m);
    if (rc < 0) {
        lcs_error_prefix(err, "probing the image: ");
        return -1;
    }
    if (strcmp(res.verdict, "ok") != 0) {
        const char *e = res.stderr_data && res.stderr_data[0] ? res.stderr_data : res.verdict;
        snprintf(how, hlen, "no shell ran (%.*s): no capabilities found",
                 (int)strcspn(e, "\n"), e);
    } else {
        snprintf(how, hlen, "ok");
        json_array_append_new(caps, json_string("shell"));
        for (char *l = res.stdout_data; l && *l;) {
            char *nl = strchr(l, '\n');
            if (nl)
                *nl = 0;
            if (!strncmp(l, "tool ", 5))
                json_array_append_new(tools, json_string(l + 5));
            else if (!strncmp(l, "cap ", 4))
                json_array_append_new(caps, json_string(l + 4));
            l = nl ? nl + 1 : NULL;
        }
    }
    lcs_run_result_clear(&res);
    return 0;
}

/* The manifest: the builtin base image's, renamed, with what was found. */
static char *manifest_text(const char *name, const char *ver, const char *source_name,
                           json_t *config, json_t *caps, json_t *tools, lcs_error *err)
{
    lcs_manifest *base = lcs_builtin_manifest_get("llmcore-sandbox-base", err);
    if (!base)
        return NULL;
    json_t *m = lcs_manifest_to_jansson(base);
    lcs_manifest_free(base);
    if (!m) {
        lcs_fail_nomem(err);
        return NULL;
    }
    char desc[600];
    snprintf(desc, sizeof desc, "Imported from %s", source_name);
    json_object_set_new(m, "name", json_string(name));
    json_object_set_new(m, "version", json_string(ver));
    json_object_set_new(m, "description", json_string(desc));
    json_object_set_new(m, "parent_image", json_null());
    json_object_set(m, "capabilities", caps);
    json_object_set(m, "tools", tools);
    /* the image's own environment (PATH above all), then ours */
    json_t *env = json_object();
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(config, "config"), "Env"), i, e) {
        const char *kv = json_string_value(e);
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq || eq == kv || isdigit((unsigned char)kv[0]) ||
            strspn(kv, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                (size_t)(eq - kv) ||
            (size_t)(eq - kv) >= 128)
            continue;
        char k[128];
        memcpy(k, kv, (size_t)(eq - kv));
        k[eq - kv] = 0;
        json_object_set_new(env, k, json_string(eq + 1));
    }
    json_object_set_new(env, "LANG", json_string("C.UTF-8"));
    json_object_set_new(env, "LLMCORE_SANDBOX", json_string("1"));
    json_object_set_new(env, "LLMCORE_IMAGE_TIER", json_string("base"));
    json_object_set_new(m, "environment", env);
    char *s = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(m);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

static int write_text(const char *path, const char *text, lcs_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return lcs_fail_errno(err, "write %s", path);
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    if (close(fd) != 0 || !ok)
        return lcs_fail_errno(err, "write %s", path);
    return 0;
}

/* Rename tmp to dest; an existing dest (force) is moved aside first and
 * removed once the new one is in place. */
static int install(const char *tmp, const char *dest, bool force, lcs_error *err)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dest);
    char *s = strrchr(parent, '/');
    if (s)
        *s = 0;
    /* <store>/images, then its NAME directory (NAME has no '/': the store
     * spells those '+') */
    char *up = strrchr(parent, '/');
    if (up) {
        *up = 0;
        if (mkdir(parent, 0755) != 0 && errno != EEXIST)
            return lcs_fail_errno(err, "mkdir %s", parent);
        *up = '/';
    }
    if (mkdir(parent, 0755) != 0 && errno != EEXIST)
        return lcs_fail_errno(err, "mkdir %s", parent);
    struct stat st;
    char old[PATH_MAX + 40] = "";
    if (lstat(dest, &st) == 0) {
        if (!force)
            return lcs_fail(err, LCS_E_EXISTS,
                            "%s is already in the store (--force replaces it)",
                            dest);
        char hex[17];
        if (lcs_random_hex(hex, 8, err) < 0)
            return -1;
        snprintf(old, sizeof old, "%s.old-%s", dest, hex);
        if (rename(dest, old) != 0)
            return lcs_fail_errno(err, "move the old %s aside", dest);
    }
    if (rename(tmp, dest) != 0) {
        int e = errno;
        if (old[0])
            (void)rename(old, dest); /* put the old one back */
        errno = e;
        return lcs_fail_errno(err, "install %s", dest);
    }
    if (old[0])
        lcs_rm_tree(old);
    return 0;
}

json_t *lcs_image_import(const lcs_registry *reg, const lcs_import_request *rq, lcs_error *err)
{
    double t0 = lcs_now();
    source src;
    char name[256], ver[160];
    if (!reg || !rq) {
        lcs_fail(err, LCS_E_INVALID, "no registry or request");
        return NULL;
    }
    if (parse_source(rq->source, &src, err) < 0 ||
        store_ref(rq, &src, name, sizeof name, ver, sizeof ver, err) < 0)
        return NULL;
    lcs_manifest *bi = lcs_builtin_manifest_get(name, NULL);
    if (bi) {
        lcs_manifest_free(bi);
        lcs_fail(err, LCS_E_EXISTS,
                 "%s is a builtin image's name; import under another name "
                 "(--name NAME[:VERSION])",
                 name);
        return NULL;
    }
    if (geteuid() != 0) {
        lcs_fail(err, LCS_E_DENIED,
                 "needs root (the store's files belong to the sandbox's host ids, "
                 "%u and up)",
                 ID_BASE);
        return NULL;
    }
    const char *store = lcs_registry_store_dir(reg);
    if (strlen(store) > PATH_MAX - 512) {
        lcs_fail(err, LCS_E_INVALID, "the store's path is too long");
        return NULL;
    }
    char *dest = lcs_store_image_dir(store, name, ver);
    char tmp[PATH_MAX + 32], scratch[PATH_MAX];
    json_t *report = NULL, *caps = json_array(), *tools = json_array();
    json_t *manifest = NULL, *config = NULL;
    char *mtext = NULL;
    int root_fd = -1;
    bool made = false;
    if (!dest || !caps || !tools) {
        lcs_fail_nomem(err);
        goto out;
    }
    struct stat st;
    if (!rq->force && lstat(dest, &st) == 0) {
        lcs_fail(err, LCS_E_EXISTS,
                 "%s:%s is already in the store (--force replaces it)", name, ver);
        goto out;
    }
    /* scratch space in the store: the final rename stays on one filesystem */
    snprintf(scratch, sizeof scratch, "%s/tmp", store);
    if ((mkdir(store, 0755) != 0 && errno != EEXIST) ||
        (mkdir(scratch, 0755) != 0 && errno != EEXIST)) {
        lcs_fail_errno(err, "mkdir %s", scratch);
        goto out;
    }
    snprintf(tmp, sizeof tmp, "%s/import-XXXXXX", scratch);
    if (!mkdtemp(tmp)) {
        lcs_fail_errno(err, "scratch directory in %s", scratch);
        goto out;
    }
    made = true;
    /* the sandbox's host ids must be able to reach the rootfs */
    chmod(tmp, 0755);
    char engine[PATH_MAX], oci[PATH_MAX + 64], dst[PATH_MAX + 300], what[PATH_MAX + 64];
    if (src.daemon && lcs_docker_engine_default(rq->engine, engine, sizeof engine, err) < 0)
        goto out;
    snprintf(oci, sizeof oci, "%s/oci", tmp);
    snprintf(dst, sizeof dst, "oci:%s:%s", oci, ver);
    snprintf(what, sizeof what, "copying %s", rq->source);
    if (lcs_skopeo_copy(src.skopeo, dst, src.daemon ? engine : NULL, NULL, what, err) < 0)
        goto out;
    manifest = image_manifest(oci, ver, err);
    char p[PATH_MAX + 200];
    if (!manifest ||
        blob_path(oci, json_string_value(json_object_get(json_object_get(manifest, "config"),
                                                         "digest")),
                  p, sizeof p, err) < 0 ||
        !(config = load_json_file(p, err)))
        goto out;
    char rootfs[PATH_MAX + 64];
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", tmp);
    if (mkdir(rootfs, 0755) != 0 || chown(rootfs, ID_BASE, ID_BASE) != 0 ||
        (root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        lcs_fail_errno(err, "make %s", rootfs);
        goto out;
    }
    lcs_layer_stats ls;
    memset(&ls, 0, sizeof ls);
    json_t *layers = json_object_get(manifest, "layers"), *l;
    size_t i;
    json_array_foreach(layers, i, l) {
        if (blob_path(oci, json_string_value(json_object_get(l, "digest")), p, sizeof p, err) < 0)
            goto out;
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            lcs_fail_errno(err, "layer %zu", i + 1);
            goto out;
        }
        int rc = lcs_layer_apply(root_fd, fd, ID_BASE, &ls, err);
        close(fd);
        if (rc < 0) {
            lcs_error_prefix(err, "layer %zu of %zu: ", i + 1,
                             json_array_size(layers));
            goto out;
        }
    }
    bool user_added = false;
    if (skeleton(root_fd, &user_added, err) < 0)
        goto out;
    /* probe with the manifest as it will be, less what the probe finds */
    mtext = manifest_text(name, ver, rq->source, config, caps, tools, err);
    char how[300];
    if (!mtext || probe(reg, rootfs, mtext, caps, tools, how, sizeof how, err) < 0)
        goto out;
    free(mtext);
    mtext = manifest_text(name, ver, rq->source, config, caps, tools, err);
    lcs_manifest *check = mtext ? lcs_manifest_load_string(mtext, err) : NULL;
    if (!check)
        goto out;
    lcs_manifest_free(check);
    char mpath[PATH_MAX + 64];
    snprintf(mpath, sizeof mpath, "%s/capabilities.json", tmp);
    if (write_text(mpath, mtext, err) < 0 ||
        lcs_fs_write_data(root_fd, "/etc/llmcore/capabilities.json", mtext, strlen(mtext), 0644,
                          false, ID_BASE, ID_BASE, err) < 0)
        goto out;
    close(root_fd);
    root_fd = -1;
    if (install(tmp, dest, rq->force, err) < 0)
        goto out;
    made = false;
    char ref[420];
    snprintf(ref, sizeof ref, "%s:%s", name, ver);
    report = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s?,s:I,s:I,s:b,s:O,s:O,s:s,s:f}",
                       "image", ref, "source", rq->source, "dir", dest, "layers",
                       (json_int_t)json_array_size(layers), "entries", (json_int_t)ls.entries,
                       "whiteouts", (json_int_t)ls.removed, "setid_cleared",
                       (json_int_t)ls.setid_cleared, "first_setid",
                       ls.setid_cleared ? ls.first_setid : NULL, "special_skipped",
                       (json_int_t)ls.skipped, "ids_clamped", (json_int_t)ls.ids_clamped,
                       "user_added", user_added, "capabilities", caps, "tools", tools, "probe",
                       how, "seconds", lcs_now() - t0);
    if (!report)
        lcs_fail_nomem(err);
out:
    if (root_fd >= 0)
        close(root_fd);
    if (made)
        lcs_rm_tree(tmp);
    json_decref(manifest);
    json_decref(config);
    json_decref(caps);
    json_decref(tools);
    free(mtext);
    free(dest);
    return report;
}
