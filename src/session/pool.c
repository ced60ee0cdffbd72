/*
 * pool.c - warm runs (`run --warm`, lcs_run_request.warm): a run takes a
 * sandbox that was started in advance for exactly the same spec, uses it for
 * its one command, and that sandbox's monitor destroys it after answering
 * and starts its successor. Every run still gets a sandbox nobody used
 * before; only the building moved out of the caller's way. See
 * docs/sessions.md ("Warm runs").
 *
 * A warm sandbox is an ordinary session (listed by ps, removable with rm)
 * whose spec.json carries {"warm": {"key", "pool"}}; its monitor refuses
 * file access and every exec but one marked final. In <state>/pool (0700):
 *
 *   <key>            symlink -> the session id of a ready, unclaimed one
 *   <key>.building   a successor is being started (O_EXCL: at most one)
 *   <key>.active     touched by a run that found none ready while one was
 *                    being started: that one builds after QUIET_NS of calm
 *
 * The key (32 hex digits) covers everything that makes two sandboxes the
 * same: the spec (policy, environment, limits, rootfs path, seccomp
 * profile; not the label or idle time), the identity and mtime of the
 * rootfs directory and of a custom seccomp profile, and the library's build
 * id, which a warm sandbox's monitor checks against its own before it
 * offers itself (a rebuilt image or runtime never serves an old sandbox).
 * Claiming renames the slot away: rename is atomic, so exactly one caller
 * gets each sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/native/native.h"
#include "session/session_int.h"
#include "util/error.h"
#include "util/random.h"

#define WARM_LABEL "warm: started for a run --warm, serves one run"
#define BUILDING_STALE_S 60
/* A warm sandbox is built only after this long without a run that found
 * none ready: in a loop of runs back to back they all stay cold instead of
 * competing with builds for the CPU. */
#define QUIET_NS 25000000L

/* Two 64-bit FNV-1a hashes with different offsets: 128 bits, enough that
 * two different specs of one user never meet by chance. */
typedef struct {
    uint64_t a, b;
} khash;

static void kh_add(khash *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h->a = (h->a ^ p[i]) * 0x100000001b3ULL;
        h->b = (h->b ^ p[i]) * 0x100000001b3ULL;
    }
}

static void kh_stat(khash *h, const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    if (path && stat(path, &st) == 0) {
        uint64_t v[5] = {st.st_dev, st.st_ino, (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec, (uint64_t)st.st_size};
        kh_add(h, v, sizeof v);
    } else {
        kh_add(h, "-", 1);
    }
}

/* The library's build id as text (spec.json's warm.build). */
static void build_text(char out[24])
{
    snprintf(out, 24, "%016llx", lcs_build_id);
}

/* The pool's names for one key (see the top of this file). */
typedef struct {
    char slot[PATH_MAX], marker[PATH_MAX + 16], active[PATH_MAX + 16];
} pool_names;

static void names_of(const char *pool, const char *key, pool_names *n)
{
    snprintf(n->slot, sizeof n->slot, "%s/%s", pool, key);
    snprintf(n->marker, sizeof n->marker, "%s.building", n->slot);
    snprintf(n->active, sizeof n->active, "%s.active", n->slot);
}

/* The names of a warm sandbox's spec ("warm": {"key", "pool"}); -1 if it
 * is not one. */
static int spec_names(json_t *spec, pool_names *n)
{
    json_t *w = json_object_get(spec, "warm");
    const char *key = json_string_value(json_object_get(w, "key"));
    const char *pool = json_string_value(json_object_get(w, "pool"));
    if (!key || !pool)
        return -1;
    names_of(pool, key, n);
    return 0;
}

/* The pool key of pr and, if spec_out, its warm sandbox's spec.json without
 * label, idle time and "warm" object (what the key covers); -1 (err set)
 * when out of memory. */
static int warm_key(const struct lcs_pool_req *pr, char key[33], json_t **spec_out,
                    lcs_error *err)
{
    json_t *spec = lcs_sess_spec_json(pr->spec, 0, NULL, pr->pol, pr->image);
    char *txt = NULL;
    if (spec) {
        json_object_del(spec, "label");
        json_object_del(spec, "idle_timeout");
        txt = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (!txt) {
        json_decref(spec);
        return lcs_fail_nomem(err);
    }
    khash h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    kh_add(&h, txt, strlen(txt) + 1);
    free(txt);
    kh_stat(&h, pr->spec->rootfs);
    const char *prof = pr->spec->seccomp_profile;
    kh_stat(&h, prof && strcmp(prof, LCS_NATIVE_SECCOMP_BUILTIN) ? prof : NULL);
    kh_add(&h, &lcs_build_id, sizeof lcs_build_id);
    snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.a, (unsigned long long)h.b);
    if (spec_out)
        *spec_out = spec;
    else
        json_decref(spec);
    return 0;
}

static int valid_id(const char *id)
{
    if (strlen(id) != LCS_SESS_ID_LEN)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

int lcs_pool_run(const struct lcs_pool_req *pr, const lcs_exec_options *eo, lcs_run_result *res,
                 lcs_error *err)
{
    char key[33], pool[PATH_MAX - 128], claimed[PATH_MAX], rnd[17];
    pool_names nm;
    if (warm_key(pr, key, NULL, err) < 0 || lcs_sess_pool_dir(pool, sizeof pool, err) < 0)
        return -1;
    if (lcs_random_hex(rnd, 8, NULL) < 0)
        return 0;
    names_of(pool, key, &nm);
    snprintf(claimed, sizeof claimed, "%s/.claimed-%s", pool, rnd);
    /* The claim: whoever renames the slot owns what it names. None ready:
     * tell the one being started (if any) that runs are still coming. */
    if (rename(nm.slot, claimed) < 0) {
        struct stat st;
        if (lstat(nm.marker, &st) == 0) {
            int fd = open(nm.active, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd >= 0) {
                futimens(fd, NULL);
                close(fd);
            }
        }
        return 0;
    }
    char id[LCS_SESS_ID_LEN + 2];
    ssize_t n = readlink(claimed, id, sizeof id - 1);
    unlink(claimed);
    if (n <= 0)
        return 0;
    id[n] = 0;
    char root[PATH_MAX - 64];
    if (!valid_id(id) || lcs_sess_root(root, sizeof root, NULL) < 0)
        return 0;
    lcs_session *s = lcs_sess_handle(root, id);
    if (!s)
        return 0;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", root, id);
    int rc = 0;
    /* A monitor that died since it registered: run cold instead (the stale
     * directory is cleaned by the next session call). */
    if (lcs_sess_alive(dir))
        rc = lcs_sess_exec(s, eo, 1, res, err) < 0 ? -1 : 1;
    free(s);
    if (rc == 1)
        res->warm = true;
    return rc;
}

/* Start a warm sandbox for spec (which has its "warm" object) unless one
 * is ready or being started. */
static void start_successor(json_t *spec)
{
    pool_names nm;
    if (spec_names(spec, &nm) < 0)
        return;
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = open(nm.marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
        /* A starter that died leaves its marker: after a minute it is void. */
        struct stat st;
        if (lstat(nm.marker, &st) < 0 || time(NULL) - st.st_mtime < BUILDING_STALE_S)
            return;
        unlink(nm.marker);
    }
    if (fd < 0)
        return;
    close(fd);
    struct stat st;
    lcs_session *s = lstat(nm.slot, &st) == 0 ? NULL : lcs_sess_start(spec, 0, NULL);
    if (!s)
        unlink(nm.marker);
    /* else the new monitor removes the marker once it serves (or fails) */
    free(s);
}

void lcs_pool_refill(const struct lcs_pool_req *pr)
{
    char key[33], pool[PATH_MAX - 128], build[24];
    json_t *spec = NULL;
    if (warm_key(pr, key, &spec, NULL) == 0 && lcs_sess_pool_dir(pool, sizeof pool, NULL) == 0) {
        build_text(build);
        json_object_set_new(spec, "label", json_string(WARM_LABEL));
        json_object_set_new(spec, "idle_timeout", json_real(pr->idle_seconds));
        json_object_set_new(spec, "warm",
                            json_pack("{s:s,s:s,s:s}", "key", key, "pool", pool, "build", build));
        start_successor(spec);
    }
    json_decref(spec);
}

void lcs_pool_respawn(json_t *spec)
{
    start_successor(spec);
}

int lcs_pool_register(json_t *spec, const char *id)
{
    pool_names nm;
    char build[24];
    if (spec_names(spec, &nm) < 0)
        return -1;
    /* Only for callers of this very build (the key says which). */
    build_text(build);
    const char *want = json_string_value(json_object_get(json_object_get(spec, "warm"), "build"));
    int rc = want && !strcmp(want, build) ? symlink(id, nm.slot) : -1;
    unlink(nm.active);
    unlink(nm.marker);
    return rc;
}

void lcs_pool_unregister(json_t *spec, const char *id, int registered)
{
    pool_names nm;
    char cur[LCS_SESS_ID_LEN + 2];
    if (spec_names(spec, &nm) < 0)
        return;
    /* Only our own slot (a claimer may have renamed it away already; then
     * it finds this monitor gone and runs cold). */
    ssize_t n = readlink(nm.slot, cur, sizeof cur - 1);
    if (n > 0) {
        cur[n] = 0;
        if (!strcmp(cur, id))
            unlink(nm.slot);
    }
    /* A start that failed before registering: the marker is ours. */
    if (!registered) {
        unlink(nm.active);
        unlink(nm.marker);
    }
}

int lcs_pool_wait_quiet(json_t *spec, double max_seconds)
{
    pool_names nm;
    if (spec_names(spec, &nm) < 0)
        return -1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct stat st;
        struct timespec now, mono;
        if (lstat(nm.active, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
            return 0; /* no run came while this one was pending */
        long long left = (long long)(st.st_mtim.tv_sec - now.tv_sec) * 1000000000LL +
                         (st.st_mtim.tv_nsec - now.tv_nsec) + QUIET_NS;
        if (left <= 0)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        if (mono.tv_sec - t0.tv_sec >= max_seconds)
            return -1; /* runs kept coming: give up, the next cold run starts one */
        struct timespec d = {(time_t)(left / 1000000000LL), (long)(left % 1000000000LL)};
        nanosleep(&d, NULL);
    }
}
