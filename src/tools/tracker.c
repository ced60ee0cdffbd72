/*
 * tracker.c - host-side output tracking: one run directory per sandbox
 * with its metadata, execution log, file manifest, copied outputs and state.
 *
 * Upstream's tracker wrote into the very directory it mounted read-write
 * into the sandbox and opened files there by path, so sandboxed code could
 * plant a symlink and make the host append to or truncate any file. Here:
 *   - the base directory is the caller's (mode 0700, checked) and is never
 *     mounted into a sandbox;
 *   - every file is opened with openat() relative to a directory fd held
 *     open, with O_NOFOLLOW, and files we create use O_EXCL (metadata and
 *     manifests are written to a fresh temporary name, then renamed);
 *   - names chosen by the sandbox (copied outputs) are sanitised to one
 *     path component and made unique, so nothing lands outside outputs/;
 *   - an active run holds an exclusive flock on <run>/.lock, and cleanup or
 *     deletion skips (or refuses) a run whose lock is held.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/common.h"
#include "util/jsonbytes.h"
#include "util/random.h"
#include "util/rmtree.h"
#include "util/io.h"
#include "tools/internal.h"

struct lcs_tracker {
    char *base;
    int base_fd;
};

struct lcs_tracker_run {
    lcs_tracker *t;
    char *id, *dir, *state_path;
    int dir_fd, outputs_fd, logs_fd, state_fd, lock_fd;
    int exec_log_fd, agent_log_fd;
    json_t *meta;     /* metadata.json */
    json_t *manifest; /* file_manifest.json */
    json_t *by_tool;  /* summary per tool */
    unsigned long successful, failed;
    uint32_t in_chars, out_chars;
    /* copy-out budget and what was used of it */
    uint64_t max_copy_bytes, copied_bytes;
    size_t max_copy_files, copied_files, not_copied;
};

/* ---- small file helpers (all relative to a directory fd) */

/* Write text to dirfd/name atomically: a fresh O_EXCL temporary, then rename
 * over the name (rename replaces a planted symlink itself, never its target). */
static int write_atomic(int dirfd, const char *dirpath, const char *name, const char *text,
                        lcs_error *err)
{
    char hex[17], tmp[NAME_MAX + 1];
    if (lcs_random_hex(hex, 8, err))
        return -1;
    snprintf(tmp, sizeof tmp, ".%s.%s.tmp", name, hex);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return lcs_fail_errno(err, "cannot create %s/%s", dirpath, tmp);
    size_t n = strlen(text);
    if (lcs_write_all(fd, text, n) != 0 || lcs_write_all(fd, "\n", 1) != 0) {
        lcs_fail_errno(err, "cannot write %s/%s", dirpath, tmp);
        close(fd);
        unlinkat(dirfd, tmp, 0);
        return -1;
    }
    close(fd);
    if (renameat(dirfd, tmp, dirfd, name) != 0) {
        lcs_fail_errno(err, "cannot rename %s/%s to %s", dirpath, tmp, name);
        unlinkat(dirfd, tmp, 0);
        return -1;
    }
    return 0;
}

static int write_json_atomic(int dirfd, const char *dirpath, const char *name, json_t *v,
                             lcs_error *err)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s)
        return lcs_fail_nomem(err);
    int rc = write_atomic(dirfd, dirpath, name, s, err);
    free(s);
    return rc;
}

static json_t *read_json_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    json_t *v = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 16 * 1024 * 1024) {
        FILE *f = fdopen(fd, "r");
        if (f) {
            v = json_loadf(f, 0, NULL);
            fclose(f);
            return v;
        }
    }
    close(fd);
    return NULL;
}

static int open_dir_at(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* ---- the base directory */

static char *default_base(lcs_error *err)
{
    const char *env = getenv("LLMCORE_SANDBOX_RUNS");
    char buf[PATH_MAX];
    if (env && *env)
        snprintf(buf, sizeof buf, "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, sizeof buf, "/var/lib/llmcore-sandbox/runs");
    else {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && *xdg == '/')
            snprintf(buf, sizeof buf, "%s/llmcore-sandbox/runs", xdg);
        else if (home && *home == '/')
            snprintf(buf, sizeof buf, "%s/.local/share/llmcore-sandbox/runs", home);
        else {
            lcs_fail(err, LCS_E_INVALID,
                     "output tracker: no runs directory: set LLMCORE_SANDBOX_RUNS or HOME");
            return NULL;
        }
    }
    char *s = strdup(buf);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

/* mkdir -p with mode 0700 for the directories we create. */
static int mkdir_parents(const char *path, lcs_error *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return lcs_fail_errno(err, "output tracker: cannot create directory %s", buf);
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

lcs_tracker *lcs_tracker_open(const char *base_dir, lcs_error *err)
{
    char *base = base_dir ? strdup(base_dir) : default_base(err);
    if (!base) {
        if (base_dir)
            lcs_fail_nomem(err);
        return NULL;
    }
    size_t bl = strlen(base);
    while (bl > 1 && base[bl - 1] == '/')
        base[--bl] = '\0';
    if (!*base || mkdir_parents(base, err) != 0) {
        if (!*base)
            lcs_fail(err, LCS_E_INVALID, "output tracker: empty runs directory");
        free(base);
        return NULL;
    }
    int fd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        lcs_fail_errno(err, "output tracker: cannot open runs directory %s%s", base,
                       errno == ELOOP || errno == ENOTDIR ? " (a symlink or not a directory)" : "");
        free(base);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 0022)) {
        lcs_fail(err, LCS_E_DENIED,
                 "output tracker: runs directory %s must belong to uid %u and not be writable by "
                 "group or others (it is uid %u, mode %03o): chown it and chmod 700 it, or use "
                 "another directory",
                 base, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        close(fd);
        free(base);
        return NULL;
    }
    lcs_tracker *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        free(base);
        lcs_fail_nomem(err);
        return NULL;
    }
    t->base = base;
    t->base_fd = fd;
    return t;
}

void lcs_tracker_close(lcs_tracker *t)
{
    if (!t)
        return;
    close(t->base_fd);
    free(t->base);
    free(t);
}

const char *lcs_tracker_base_dir(const lcs_tracker *t)
{
    return t ? t->base : NULL;
}

static bool valid_run_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 128 || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void lcs_tracker_run_options_init(lcs_tracker_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->sandbox_type = "native";
    o->access_level = "restricted";
    o->task_description = "";
    o->input_preview_chars = 200;
    o->output_preview_chars = 500;
    o->max_copy_bytes = LCS_TRACKER_COPY_BYTES;
    o->max_copy_files = LCS_TRACKER_COPY_FILES;
}

static void run_free(lcs_tracker_run *r)
{
    if (!r)
        return;
    int fds[] = {r->dir_fd, r->outputs_fd, r->logs_fd, r->state_fd, r->exec_log_fd,
                 r->agent_log_fd, r->lock_fd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    json_decref(r->meta);
    json_decref(r->manifest);
    json_decref(r->by_tool);
    free(r->id);
    free(r->dir);
    free(r->state_path);
    free(r);
}

static int save_meta(lcs_tracker_run *r, lcs_error *err)
{
    return write_json_atomic(r->dir_fd, r->dir, "metadata.json", r->meta, err);
}

lcs_tracker_run *lcs_tracker_run_create(lcs_tracker *t, const lcs_tracker_run_options *opts,
                                        lcs_error *err)
{
    lcs_tracker_run_options defaults;
    lcs_tracker_run_options_init(&defaults);
    const lcs_tracker_run_options *o = opts ? opts : &defaults;
    if (!t) {
        lcs_fail(err, LCS_E_INVALID, "output tracker: no tracker given");
        return NULL;
    }
    char idbuf[64];
    const char *id = o->run_id;
    if (id && !valid_run_id(id)) {
        lcs_fail(err, LCS_E_INVALID,
                 "output tracker: run id '%s' is not allowed: use 1 to 128 of A-Z a-z 0-9 . _ - "
                 "not starting with '.'",
                 id);
        return NULL;
    }
    json_t *custom = NULL;
    if (o->metadata_json) {
        custom = json_loads(o->metadata_json, 0, NULL);
        if (!json_is_object(custom)) {
            json_decref(custom);
            lcs_fail(err, LCS_E_INVALID, "output tracker: custom metadata must be a JSON object");
            return NULL;
        }
    }
    double now = lcs_tl_now();
    if (!id) {
        /* Time first so that names sort by creation; 48 random bits after. */
        char hex[13];
        if (lcs_random_hex(hex, 6, err)) {
            json_decref(custom);
            return NULL;
        }
        time_t sec = (time_t)now;
        struct tm tm;
        gmtime_r(&sec, &tm);
        snprintf(idbuf, sizeof idbuf, "%04d%02d%02dT%02d%02d%02dZ-%s", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, hex);
        id = idbuf;
    }
    lcs_tracker_run *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(custom);
        lcs_fail_nomem(err);
        return NULL;
    }
    r->dir_fd = r->outputs_fd = r->logs_fd = r->state_fd = r->lock_fd = -1;
    r->exec_log_fd = r->agent_log_fd = -1;
    r->t = t;
    r->in_chars = o->input_preview_chars ? o->input_preview_chars : 200;
    r->out_chars = o->output_preview_chars ? o->output_preview_chars : 500;
    r->max_copy_bytes = o->max_copy_bytes;
    r->max_copy_files = o->max_copy_files;
    size_t dl = strlen(t->base) + strlen(id) + 2;
    r->id = strdup(id);
    r->dir = malloc(dl);
    r->state_path = malloc(dl + 16);
    r->manifest = json_array();
    r->by_tool = json_object();
    if (!r->id || !r->dir || !r->state_path || !r->manifest || !r->by_tool) {
        json_decref(custom);
        run_free(r);
        lcs_fail_nomem(err);
        return NULL;
    }
    snprintf(r->dir, dl, "%s/%s", t->base, id);
    snprintf(r->state_path, dl + 16, "%s/state/state.db", r->dir);
    if (mkdirat(t->base_fd, id, 0700) != 0) {
        if (errno == EEXIST)
            lcs_fail(err, LCS_E_EXISTS,
                     "output tracker: run %s already exists in %s: choose another run id", id,
                     t->base);
        else
            lcs_fail_errno(err, "output tracker: cannot create run directory %s", r->dir);
        json_decref(custom);
        run_free(r);
        return NULL;
    }
    if ((r->dir_fd = open_dir_at(t->base_fd, id)) < 0) {
        lcs_fail_errno(err, "output tracker: cannot open run directory %s", r->dir);
        goto fail;
    }
    r->lock_fd = openat(r->dir_fd, ".lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
    if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        lcs_fail_errno(err, "output tracker: cannot create and lock %s/.lock", r->dir);
        goto fail;
    }
    const char *subdirs[] = {"outputs", "logs", "state"};
    int *fds[] = {&r->outputs_fd, &r->logs_fd, &r->state_fd};
    for (int i = 0; i < 3; i++) {
        if (mkdirat(r->dir_fd, subdirs[i], 0700) != 0 ||
            (*fds[i] = open_dir_at(r->dir_fd, subdirs[i])) < 0) {
            lcs_fail_errno(err, "output tracker: cannot create %s/%s", r->dir, subdirs[i]);
            goto fail;
        }
    }
    r->exec_log_fd = openat(r->logs_fd, "execution.log",
                            O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    r->agent_log_fd = openat(r->logs_fd, "agent.log",
                             O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int dbfd = openat(r->state_fd, "state.db", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    if (r->exec_log_fd < 0 || r->agent_log_fd < 0 || dbfd < 0) {
        lcs_fail_errno(err, "output tracker: cannot create the log and state files in %s", r->dir);
        if (dbfd >= 0)
            close(dbfd);
        goto fail;
    }
    close(dbfd);
    char ts[32];
    lcs_tl_iso_time(now, ts);
    r->meta = json_object();
    json_object_set_new(r->meta, "run_id", json_string(id));
    json_object_set_new(r->meta, "created_at", json_string(ts));
    json_object_set_new(r->meta, "completed_at", json_null());
    json_object_set_new(r->meta, "sandbox_type", json_string(o->sandbox_type ? o->sandbox_type
                                                                             : "native"));
    json_object_set_new(r->meta, "access_level",
                        json_string(o->access_level ? o->access_level : "restricted"));
    json_object_set_new(r->meta, "status", json_string("running"));
    json_object_set_new(r->meta, "task_description",
                        json_string(o->task_description ? o->task_description : ""));
    json_object_set_new(r->meta, "custom_metadata", custom ? custom : json_object());
    custom = NULL;
    json_object_set_new(r->meta, "execution_count", json_integer(0));
    json_object_set_new(r->meta, "total_execution_time", json_real(0));
    json_object_set_new(r->meta, "success", json_null());
    json_object_set_new(r->meta, "error_message", json_string(""));
    json_object_set_new(r->meta, "pid", json_integer(getpid()));
    if (save_meta(r, err) != 0 ||
        write_json_atomic(r->dir_fd, r->dir, "file_manifest.json", r->manifest, err) != 0)
        goto fail;
    return r;
fail:
    json_decref(custom);
    lcs_rm_tree_at(t->base_fd, id);
    run_free(r);
    return NULL;
}

const char *lcs_tracker_run_id(const lcs_tracker_run *r)
{
    return r ? r->id : NULL;
}

const char *lcs_tracker_run_dir(const lcs_tracker_run *r)
{
    return r ? r->dir : NULL;
}

const char *lcs_tracker_run_state_path(const lcs_tracker_run *r)
{
    return r ? r->state_path : NULL;
}

int lcs_tracker_run_annotate(lcs_tracker_run *r, const char *key, const char *value_json,
                             lcs_error *err)
{
    if (!r || !key)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no run or key given");
    json_t *v = json_loads(value_json ? value_json : "null", JSON_DECODE_ANY, NULL);
    if (!v)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: annotation '%s' is not JSON", key);
    json_object_set_new(json_object_get(r->meta, "custom_metadata"), key, v);
    return save_meta(r, err);
}

static json_t *preview(const char *s, size_t max_chars)
{
    if (!s)
        return json_string("");
    size_t n = strlen(s);
    size_t cut = lcs_tl_utf8_prefix(s, n, max_chars);
    size_t out_len;
    char *clean = lcs_utf8_sanitize(s, cut, &out_len);
    json_t *v = clean ? json_stringn(clean, out_len) : json_string("");
    free(clean);
    return v;
}

static int append_line(int fd, const char *path, json_t *entry, lcs_error *err)
{
    char *line = lcs_tl_json_text(entry);
    if (!line)
        return lcs_fail_nomem(err);
    size_t n = strlen(line);
    line[n] = '\n'; /* replaces the NUL; written with its length */
    int rc = lcs_write_all(fd, line, n + 1);
    free(line);
    return rc == 0 ? 0 : lcs_fail_errno(err, "output tracker: cannot append to %s", path);
}

int lcs_tracker_log_execution(lcs_tracker_run *r, const char *tool_name, const char *input,
                              int exit_code, double seconds, bool success, const char *output,
                              lcs_error *err)
{
    if (!r || !tool_name)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no run or tool name given");
    char ts[32];
    lcs_tl_iso_time(lcs_tl_now(), ts);
    json_t *e = json_object();
    json_object_set_new(e, "timestamp", json_string(ts));
    json_object_set_new(e, "tool_name", json_string(tool_name));
    json_object_set_new(e, "input_summary", preview(input, r->in_chars));
    json_object_set_new(e, "exit_code", json_integer(exit_code));
    json_object_set_new(e, "execution_time", json_real(seconds));
    json_object_set_new(e, "success", json_boolean(success));
    json_object_set_new(e, "output_preview", preview(output, r->out_chars));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/logs/execution.log", r->dir);
    int rc = append_line(r->exec_log_fd, path, e, err);
    json_decref(e);
    if (rc)
        return rc;
    /* Counters in metadata.json stay current, so a crashed run is still right. */
    json_int_t count = json_integer_value(json_object_get(r->meta, "execution_count")) + 1;
    double total = json_number_value(json_object_get(r->meta, "total_execution_time")) + seconds;
    json_object_set_new(r->meta, "execution_count", json_integer(count));
    json_object_set_new(r->meta, "total_execution_time", json_real(total));
    json_t *bt = json_object_get(r->by_tool, tool_name);
    if (!bt) {
        bt = json_object();
        json_object_set_new(bt, "count", json_integer(0));
        json_object_set_new(bt, "success", json_integer(0));
        json_object_set_new(bt, "failed", json_integer(0));
        json_object_set_new(bt, "total_time", json_real(0));
        json_object_set_new(r->by_tool, tool_name, bt);
    }
    const char *k = success ? "success" : "failed";
    json_object_set_new(bt, "count", json_integer(json_integer_value(json_object_get(bt, "count")) + 1));
    json_object_set_new(bt, k, json_integer(json_integer_value(json_object_get(bt, k)) + 1));
    json_object_set_new(bt, "total_time",
                        json_real(json_number_value(json_object_get(bt, "total_time")) + seconds));
    if (success)
        r->successful++;
    else
        r->failed++;
    return save_meta(r, err);
}

int lcs_tracker_log_event(lcs_tracker_run *r, const char *level, const char *message,
                          const char *data_json, lcs_error *err)
{
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no run given");
    char ts[32];
    lcs_tl_iso_time(lcs_tl_now(), ts);
    json_t *e = json_object();
    json_object_set_new(e, "timestamp", json_string(ts));
    json_object_set_new(e, "level", json_string(level ? level : "INFO"));
    json_object_set_new(e, "message", preview(message, SIZE_MAX));
    json_t *d = data_json ? json_loads(data_json, JSON_DECODE_ANY, NULL) : NULL;
    json_object_set_new(e, "data", d ? d : json_null());
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/logs/agent.log", r->dir);
    int rc = append_line(r->agent_log_fd, path, e, err);
    json_decref(e);
    return rc;
}

int lcs_tracker_track_file(lcs_tracker_run *r, const char *name, uint64_t size_bytes,
                           const char *description, lcs_error *err)
{
    if (!r || !name)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no run or file name given");
    char ts[32];
    lcs_tl_iso_time(lcs_tl_now(), ts);
    json_t *e = json_object();
    json_object_set_new(e, "path", preview(name, SIZE_MAX));
    json_object_set_new(e, "size_bytes", json_integer((json_int_t)size_bytes));
    json_object_set_new(e, "description", preview(description ? description : "", SIZE_MAX));
    json_object_set_new(e, "tracked_at", json_string(ts));
    json_array_append_new(r->manifest, e);
    return write_json_atomic(r->dir_fd, r->dir, "file_manifest.json", r->manifest, err);
}

/* One safe path component from a name the sandbox chose. */
static char *sanitize_name(const char *in)
{
    size_t n = strlen(in);
    char *clean = lcs_utf8_sanitize(in, n, &n);
    if (!clean)
        return NULL;
    /* One '_' for each separator, control character and deceptive code
     * point (bidirectional controls, C1 controls: see jsonbytes.h), so the
     * stored name shows what it is. */
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = lcs_utf8_seq((const unsigned char *)clean + i, n - i);
        unsigned cp = lcs_utf8_cp((const unsigned char *)clean + i, l ? l : 1);
        if (!l)
            l = 1;
        if (cp == '/' || cp == '\\' || cp < 0x20 || cp == 0x7f || lcs_cp_deceptive(cp)) {
            clean[o++] = '_';
        } else {
            memmove(clean + o, clean + i, l);
            o += l;
        }
        i += l;
    }
    clean[o] = '\0';
    n = o;
    /* U+FFFD from the repair is fine in a file name; overlong names are cut
     * on a character boundary. */
    size_t cut = lcs_tl_utf8_prefix(clean, n, 100);
    if (cut > 200)
        cut = 200;
    while (cut > 0 && ((unsigned char)clean[cut] & 0xC0) == 0x80)
        cut--;
    clean[cut] = '\0';
    if (!*clean || !strcmp(clean, ".") || !strcmp(clean, "..")) {
        free(clean);
        return strdup("output");
    }
    return clean;
}

static int create_unique(int dirfd, const char *name, char **final, lcs_error *err,
                         const char *dirpath)
{
    const char *dot = strrchr(name, '.');
    if (dot == name)
        dot = NULL;
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    for (int i = 0; i < 10000; i++) {
        char cand[512];
        if (i == 0)
            snprintf(cand, sizeof cand, "%s", name);
        else
            snprintf(cand, sizeof cand, "%.*s (%d)%s", (int)stem, name, i, dot ? dot : "");
        int fd = openat(dirfd, cand, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (!(*final = strdup(cand))) {
                close(fd);
                unlinkat(dirfd, cand, 0);
                return lcs_fail_nomem(err);
            }
            return fd;
        }
        if (errno != EEXIST)
            return lcs_fail_errno(err, "output tracker: cannot create %s/%s", dirpath, cand);
    }
    return lcs_fail(err, LCS_E_EXISTS, "output tracker: too many files named like %s in %s", name,
                    dirpath);
}

/* A copy refused by the budget: counted in metadata.json, and the error. */
static int not_copied(lcs_tracker_run *r, lcs_error *err, const char *fmt, ...)
    LCS_PRINTF(3, 4);
static int not_copied(lcs_tracker_run *r, lcs_error *err, const char *fmt, ...)
{
    r->not_copied++;
    json_object_set_new(r->meta, "outputs_not_copied", json_integer((json_int_t)r->not_copied));
    save_meta(r, NULL);
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lcs_fail(err, LCS_E_DENIED, "%s", msg);
}

int lcs_tracker_copy_output(lcs_tracker_run *r, lcs_session *s, const char *sandbox_path,
                            const char *local_name, const char *description, char **stored_name,
                            lcs_error *err)
{
    if (!r || !s || !sandbox_path)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no run, session or path given");
    lcs_file_info fi;
    memset(&fi, 0, sizeof fi);
    if (lcs_session_stat(s, sandbox_path, &fi, err) != 0)
        return -1;
    bool regular = !fi.is_directory && !fi.is_symlink;
    lcs_file_info_clear(&fi);
    if (!regular)
        return lcs_fail(err, LCS_E_INVALID,
                        "output tracker: %s in the sandbox is a directory or a symlink; only "
                        "regular files are copied out (symlinks are never followed)",
                        sandbox_path);
    if (r->max_copy_files && r->copied_files >= r->max_copy_files)
        return not_copied(r, err,
                          "output tracker: %s was not copied: this run's copy-out budget of %zu "
                          "files is used up (max_copy_files)",
                          sandbox_path, r->max_copy_files);
    const char *base = local_name;
    if (!base) {
        base = strrchr(sandbox_path, '/');
        base = base ? base + 1 : sandbox_path;
    }
    char *clean = sanitize_name(base);
    if (!clean)
        return lcs_fail_nomem(err);
    char outdir[PATH_MAX];
    snprintf(outdir, sizeof outdir, "%s/outputs", r->dir);
    char *final = NULL;
    int fd = create_unique(r->outputs_fd, clean, &final, err, outdir);
    free(clean);
    if (fd < 0)
        return -1;
    /* Sparse-aware and bounded: the host stores the file's data only, and
     * at most what is left of the run's budget. */
    uint64_t left = r->max_copy_bytes ? r->max_copy_bytes - r->copied_bytes : 0;
    uint64_t written = 0;
    if (r->max_copy_bytes && left == 0) {
        close(fd);
        unlinkat(r->outputs_fd, final, 0);
        free(final);
        return not_copied(r, err,
                          "output tracker: %s was not copied: this run's copy-out budget of %llu "
                          "bytes is used up (max_copy_bytes)",
                          sandbox_path, (unsigned long long)r->max_copy_bytes);
    }
    if (lcs_session_read_file_max(s, sandbox_path, fd, left, &written, err) != 0) {
        close(fd);
        unlinkat(r->outputs_fd, final, 0);
        free(final);
        if (err && err->code == LCS_E_DENIED && strstr(err->message, "copy budget"))
            return not_copied(r, err,
                              "output tracker: %s was not copied: it needs more than the %llu "
                              "bytes left of this run's copy-out budget of %llu bytes "
                              "(max_copy_bytes)",
                              sandbox_path, (unsigned long long)left,
                              (unsigned long long)r->max_copy_bytes);
        return -1;
    }
    r->copied_bytes += written;
    r->copied_files++;
    json_object_set_new(r->meta, "outputs_copied_bytes", json_integer((json_int_t)r->copied_bytes));
    struct stat st;
    uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (close(fd) != 0) {
        lcs_fail_errno(err, "output tracker: cannot write %s/%s", outdir, final);
        unlinkat(r->outputs_fd, final, 0);
        free(final);
        return -1;
    }
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "outputs/%s", final);
    if (lcs_tracker_track_file(r, rel, size, description, err) != 0) {
        free(final);
        return -1;
    }
    json_t *src = json_array_get(r->manifest, json_array_size(r->manifest) - 1);
    /* The sandbox path as an operator may read it: escaped (no control
     * characters, no bidirectional reordering). */
    char *esc = lcs_text_escape(sandbox_path, strlen(sandbox_path));
    json_object_set_new(src, "source", esc ? json_string(esc) : json_string(""));
    free(esc);
    write_json_atomic(r->dir_fd, r->dir, "file_manifest.json", r->manifest, NULL);
    if (stored_name)
        *stored_name = final;
    else
        free(final);
    return 0;
}

int lcs_tracker_save_final_state(lcs_tracker_run *r, const char *state_json, lcs_error *err)
{
    if (!r)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no run given");
    json_t *v = json_loads(state_json ? state_json : "{}", JSON_DECODE_ANY, NULL);
    if (!v)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: the final state is not JSON");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/state", r->dir);
    int rc = write_json_atomic(r->state_fd, dir, "final_state.json", v, err);
    json_decref(v);
    return rc;
}

int lcs_tracker_run_finish(lcs_tracker_run *r, bool success, const char *error_message,
                           lcs_error *err)
{
    if (!r)
        return 0;
    char ts[32];
    lcs_tl_iso_time(lcs_tl_now(), ts);
    json_object_set_new(r->meta, "completed_at", json_string(ts));
    json_object_set_new(r->meta, "status", json_string(success ? "completed" : "failed"));
    json_object_set_new(r->meta, "success", json_boolean(success));
    json_object_set_new(r->meta, "error_message", json_string(error_message ? error_message : ""));
    json_t *sum = json_object();
    json_object_set_new(sum, "total_executions", json_object_get(r->meta, "execution_count")
                                                     ? json_incref(json_object_get(r->meta, "execution_count"))
                                                     : json_integer(0));
    json_object_set_new(sum, "successful", json_integer((json_int_t)r->successful));
    json_object_set_new(sum, "failed", json_integer((json_int_t)r->failed));
    json_object_set_new(sum, "total_time", json_incref(json_object_get(r->meta, "total_execution_time")));
    json_object_set_new(sum, "by_tool", json_incref(r->by_tool));
    char logs[PATH_MAX];
    snprintf(logs, sizeof logs, "%s/logs", r->dir);
    int rc = write_json_atomic(r->logs_fd, logs, "execution_summary.json", sum, err);
    json_decref(sum);
    if (save_meta(r, rc ? NULL : err) != 0)
        rc = -1;
    run_free(r); /* closing lock_fd releases the lock */
    return rc;
}

/* ---- listing and cleanup */

/* 1 if some process holds the run's lock, 0 if not, -1 if it has no lock file. */
static int run_in_use(int base_fd, const char *id)
{
    int d = open_dir_at(base_fd, id);
    if (d < 0)
        return -1;
    int fd = openat(d, ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    close(d);
    if (fd < 0)
        return -1;
    int busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

typedef struct run_entry {
    char *id;
    json_t *meta;
    double created;
} run_entry;

static int cmp_newest(const void *a, const void *b)
{
    const run_entry *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? 1 : -1;
    return strcmp(y->id, x->id);
}

static void entries_free(run_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].id);
        json_decref(e[i].meta);
    }
    free(e);
}

/* Every run directory with its metadata, newest first. */
static int scan_runs(lcs_tracker *t, run_entry **out, size_t *count, lcs_error *err)
{
    int fd = dup(t->base_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return lcs_fail_errno(err, "output tracker: cannot read %s", t->base);
    }
    rewinddir(d);
    size_t n = 0, cap = 16;
    run_entry *e = calloc(cap, sizeof *e);
    struct dirent *de;
    while (e && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !valid_run_id(de->d_name))
            continue;
        int rd = open_dir_at(t->base_fd, de->d_name);
        if (rd < 0)
            continue;
        json_t *m = read_json_at(rd, "metadata.json");
        struct stat st;
        double created = -1;
        if (m)
            created = lcs_tl_iso_parse(json_string_value(json_object_get(m, "created_at")));
        if (created < 0 && fstat(rd, &st) == 0)
            created = (double)st.st_mtime;
        close(rd);
        if (n == cap) {
            run_entry *ne = realloc(e, cap * 2 * sizeof *e);
            if (!ne) {
                json_decref(m);
                break;
            }
            e = ne;
            cap *= 2;
        }
        e[n].id = strdup(de->d_name);
        e[n].meta = m ? m : json_object();
        e[n].created = created;
        if (!e[n].id) {
            json_decref(e[n].meta);
            break;
        }
        n++;
    }
    closedir(d);
    if (!e)
        return lcs_fail_nomem(err);
    qsort(e, n, sizeof *e, cmp_newest);
    *out = e;
    *count = n;
    return 0;
}

char *lcs_tracker_list_runs_json(lcs_tracker *t, size_t limit, const char *status,
                                 lcs_error *err)
{
    if (!t) {
        lcs_fail(err, LCS_E_INVALID, "output tracker: no tracker given");
        return NULL;
    }
    run_entry *e;
    size_t n;
    if (scan_runs(t, &e, &n, err) != 0)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < n && (!limit || json_array_size(a) < limit); i++) {
        const char *st = json_string_value(json_object_get(e[i].meta, "status"));
        if (status && (!st || strcmp(st, status)))
            continue;
        json_t *m = json_deep_copy(e[i].meta);
        json_object_set_new(m, "run_id", json_string(e[i].id));
        json_object_set_new(m, "path", json_sprintf("%s/%s", t->base, e[i].id));
        json_object_set_new(m, "in_use", json_boolean(run_in_use(t->base_fd, e[i].id) == 1));
        json_array_append_new(a, m);
    }
    entries_free(e, n);
    char *s = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(a);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

char *lcs_tracker_run_metadata_json(lcs_tracker *t, const char *run_id, lcs_error *err)
{
    if (!t || !valid_run_id(run_id)) {
        lcs_fail(err, LCS_E_INVALID, "output tracker: invalid run id '%s'",
                 run_id ? run_id : "(null)");
        return NULL;
    }
    int rd = open_dir_at(t->base_fd, run_id);
    if (rd < 0) {
        lcs_fail(err, LCS_E_NOT_FOUND, "output tracker: no run %s in %s", run_id, t->base);
        return NULL;
    }
    json_t *m = read_json_at(rd, "metadata.json");
    close(rd);
    if (!m) {
        lcs_fail(err, LCS_E_NOT_FOUND, "output tracker: run %s in %s has no readable metadata.json",
                 run_id, t->base);
        return NULL;
    }
    json_object_set_new(m, "in_use", json_boolean(run_in_use(t->base_fd, run_id) == 1));
    char *s = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(m);
    if (!s)
        lcs_fail_nomem(err);
    return s;
}

/* Delete a run while holding its lock, so no one can start using it. */
static int delete_locked(lcs_tracker *t, const char *id, lcs_error *err)
{
    int rd = open_dir_at(t->base_fd, id);
    if (rd < 0)
        return errno == ENOENT ? lcs_fail(err, LCS_E_NOT_FOUND, "output tracker: no run %s in %s",
                                          id, t->base)
                               : lcs_fail_errno(err, "output tracker: cannot open run %s/%s",
                                                t->base, id);
    int lk = openat(rd, ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    close(rd);
    if (lk >= 0 && flock(lk, LOCK_EX | LOCK_NB) != 0) {
        close(lk);
        return lcs_fail(err, LCS_E_DENIED,
                        "output tracker: run %s is in use (its lock is held); finish it first", id);
    }
    /* Move it aside first so a half-deleted run is never listed. */
    char hex[17], trash[NAME_MAX + 1];
    int rc = lcs_random_hex(hex, 8, err);
    if (rc == 0) {
        snprintf(trash, sizeof trash, ".deleting-%.100s-%s", id, hex);
        if (renameat(t->base_fd, id, t->base_fd, trash) != 0)
            rc = lcs_fail_errno(err, "output tracker: cannot remove run %s/%s", t->base, id);
        else if (lcs_rm_tree_at(t->base_fd, trash) != 0)
            rc = lcs_fail_errno(err, "output tracker: cannot remove all of %s/%s", t->base, trash);
    }
    if (lk >= 0)
        close(lk);
    return rc;
}

int lcs_tracker_delete_run(lcs_tracker *t, const char *run_id, lcs_error *err)
{
    if (!t || !valid_run_id(run_id))
        return lcs_fail(err, LCS_E_INVALID, "output tracker: invalid run id '%s'",
                        run_id ? run_id : "(null)");
    return delete_locked(t, run_id, err);
}

int lcs_tracker_cleanup(lcs_tracker *t, double max_age_seconds, size_t keep_min, lcs_error *err)
{
    if (!t)
        return lcs_fail(err, LCS_E_INVALID, "output tracker: no tracker given");
    if (!(max_age_seconds >= 0))
        return lcs_fail(err, LCS_E_INVALID, "output tracker: the maximum age must be >= 0");
    run_entry *e;
    size_t n;
    if (scan_runs(t, &e, &n, err) != 0)
        return -1;
    double cutoff = lcs_tl_now() - max_age_seconds;
    int deleted = 0, rc = 0;
    for (size_t i = keep_min; i < n; i++) {
        if (e[i].created >= cutoff)
            continue;
        lcs_error e2;
        lcs_error_clear(&e2);
        if (delete_locked(t, e[i].id, &e2) == 0)
            deleted++;
        else if (e2.code != LCS_E_DENIED && rc == 0) {
            /* Report the first real failure but keep going. */
            if (err)
                *err = e2;
            rc = -1;
        }
    }
    entries_free(e, n);
    return rc ? -1 : deleted;
}
