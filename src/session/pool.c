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

/* spec.json of a warm sandbox for pr, with its key and pool dir; NULL on
 * error (err set). */
static json_t *warm_spec(const struct lcs_pool_req *pr, char key[33], char *pool, size_t plen,
                         lcs_error *err)
{
    json_t *spec = lcs_sess_spec_json(pr->spec, pr->idle_seconds, WARM_LABEL, pr->pol, pr->image);
    if (!spec) {
        lcs_fail_nomem(err);
        return NULL;
    }
    /* The key covers the spec without what does not change the sandbox. */
    json_object_del(spec, "label");
    json_object_del(spec, "idle_timeout");
    char *txt = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(spec, "label", json_string(WARM_LABEL));
    json_object_set_new(spec, "idle_timeout", json_real(pr->idle_seconds));
    if (!txt) {
        json_decref(spec);
        lcs_fail_nomem(err);
        return NULL;
    }
    khash h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    kh_add(&h, txt, strlen(txt) + 1);
    free(txt);
    kh_stat(&h, pr->spec->rootfs);
    const char *prof = pr->spec->seccomp_profile;
    kh_stat(&h, prof && strcmp(prof, LCS_NATIVE_SECCOMP_BUILTIN) ? prof : NULL);
    kh_add(&h, &lcs_build_id, sizeof lcs_build_id);
    snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.a, (unsigned long long)h.b);
    if (lcs_sess_pool_dir(pool, plen, err) < 0) {
        json_decref(spec);
        return NULL;
    }
    char build[24];
    snprintf(build, sizeof build, "%016llx", lcs_build_id);
    json_object_set_new(spec, "warm",
                        json_pack("{s:s,s:s,s:s}", "key", key, "pool", pool, "build", build));
    return spec;
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
    char key[33], pool[PATH_MAX - 128], slot[PATH_MAX], claimed[PATH_MAX], rnd[17];
    json_t *spec = warm_spec(pr, key, pool, sizeof pool, err);
    if (!spec)
        return -1;
    json_decref(spec);
    if (lcs_sess_random_id(rnd) < 0)
        return 0;
    snprintf(slot, sizeof slot, "%s/%s", pool, key);
    snprintf(claimed, sizeof claimed, "%s/.claimed-%s", pool, rnd);
    /* The claim: whoever renames the slot owns what it names. None ready:
     * tell the one being started (if any) that runs are still coming. */
    if (rename(slot, claimed) < 0) {
        char marker[PATH_MAX + 16], active[PATH_MAX + 16];
        struct stat st;
        snprintf(marker, sizeof marker, "%s.building", slot);
        snprintf(active, sizeof active, "%s.active", slot);
        if (lstat(marker, &st) == 0) {
            int fd = open(active, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
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
    json_t *w = json_object_get(spec, "warm");
    const char *key = json_string_value(json_object_get(w, "key"));
    const char *pool = json_string_value(json_object_get(w, "pool"));
    if (!key || !pool)
        return;
    char marker[PATH_MAX], slot[PATH_MAX], root[PATH_MAX - 64];
    snprintf(marker, sizeof marker, "%s/%s.building", pool, key);
    snprintf(slot, sizeof slot, "%s/%s", pool, key);
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
        /* A starter that died leaves its marker: after a minute it is void. */
        struct stat st;
        if (lstat(marker, &st) < 0 || time(NULL) - st.st_mtime < BUILDING_STALE_S)
            return;
        unlink(marker);
    }
    if (fd < 0)
        return;
    close(fd);
    struct stat st;
    char id[LCS_SESS_ID_LEN + 1], dir[PATH_MAX], sp[PATH_MAX + 16];
    if (lstat(slot, &st) == 0 || lcs_sess_root(root, sizeof root, NULL) < 0 ||
        lcs_sess_random_id(id) < 0)
        goto drop;
    snprintf(dir, sizeof dir, "%s/%s", root, id);
    snprintf(sp, sizeof sp, "%s/spec.json", dir);
    if (mkdir(dir, 0700) < 0)
        goto drop;
    if (json_dump_file(spec, sp, JSON_COMPACT) < 0 || lcs_sess_spawn_monitor(dir, 0, NULL) < 0) {
        lcs_sess_cleanup_dir(dir, NULL);
        goto drop;
    }
    return; /* the new monitor removes the marker once it serves (or fails) */
drop:
    unlink(marker);
}

void lcs_pool_refill(const struct lcs_pool_req *pr)
{
    char key[33], pool[PATH_MAX - 128];
    json_t *spec = warm_spec(pr, key, pool, sizeof pool, NULL);
    if (spec)
        start_successor(spec);
    json_decref(spec);
}

void lcs_pool_respawn(json_t *spec)
{
    start_successor(spec);
}


static int pool_paths(json_t *spec, char *slot, char *marker, size_t len)
{
    json_t *w = json_object_get(spec, "warm");
    const char *key = json_string_value(json_object_get(w, "key"));
    const char *pool = json_string_value(json_object_get(w, "pool"));
    if (!key || !pool)
        return -1;
    snprintf(slot, len, "%s/%s", pool, key);
    snprintf(marker, len, "%s/%s.building", pool, key);
    return 0;
}

static void drop_active(json_t *spec)
{
    char slot[PATH_MAX], marker[PATH_MAX], active[PATH_MAX + 16];
    if (pool_paths(spec, slot, marker, sizeof slot) == 0) {
        snprintf(active, sizeof active, "%s.active", slot);
        unlink(active);
    }
}

int lcs_pool_register(json_t *spec, const char *id)
{
    char slot[PATH_MAX], marker[PATH_MAX], build[24];
    if (pool_paths(spec, slot, marker, sizeof slot) < 0)
        return -1;
    /* Only for callers of this very build (the key says which). */
    snprintf(build, sizeof build, "%016llx", lcs_build_id);
    const char *want = json_string_value(json_object_get(json_object_get(spec, "warm"), "build"));
    int rc = want && !strcmp(want, build) ? symlink(id, slot) : -1;
    drop_active(spec);
    unlink(marker);
    return rc;
}

void lcs_pool_unregister(json_t *spec, const char *id, int registered)
{
    char slot[PATH_MAX], marker[PATH_MAX], cur[LCS_SESS_ID_LEN + 2];
    if (pool_paths(spec, slot, marker, sizeof slot) < 0)
        return;
    /* Only our own slot (a claimer may have renamed it away already; then
     * it finds this monitor gone and runs cold). */
    ssize_t n = readlink(slot, cur, sizeof cur - 1);
    if (n > 0) {
        cur[n] = 0;
        if (!strcmp(cur, id))
            unlink(slot);
    }
    /* A start that failed before registering: the marker is ours. */
    if (!registered) {
        drop_active(spec);
        unlink(marker);
    }
}

int lcs_pool_wait_quiet(json_t *spec, double max_seconds)
{
    char slot[PATH_MAX], marker[PATH_MAX], active[PATH_MAX + 16];
    if (pool_paths(spec, slot, marker, sizeof slot) < 0)
        return -1;
    snprintf(active, sizeof active, "%s.active", slot);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct stat st;
        struct timespec now, mono;
        if (lstat(active, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
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
