/*
 * state.c - the agent's state store: typed key/value pairs, an event log and
 * the list of files the agent recorded, in one SQLite database on the host.
 *
 * Upstream kept this inside the sandbox and drove the sqlite3 CLI through a
 * shell with hand-quoted SQL, which corrupted values containing '"', '$',
 * '|' or newlines. Here every statement is a constant prepared statement and
 * values are bound as BLOBs with explicit lengths, so bytes go in and come
 * out unchanged. The schema version lives in PRAGMA user_version; a
 * database with another version is refused instead of half-used.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/common.h"
#include "tools/internal.h"

#define STATE_SCHEMA_VERSION 1

struct lcs_state {
    sqlite3 *db;
    char *path;
};

static const char *const type_names[] = {"string", "number", "boolean", "json"};

const char *lcs_state_type_name(lcs_state_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "unknown";
}

int lcs_state_type_parse(const char *s, lcs_state_type *out)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (lcs_state_type)i;
            return 0;
        }
    return -1;
}

static int db_fail(lcs_state *s, lcs_error *err, const char *what)
{
    return lcs_fail(err, LCS_E_IO, "state store %s: %s failed: %s", s->path, what,
                    sqlite3_errmsg(s->db));
}

static const char schema_sql[] =
    "CREATE TABLE agent_state ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value BLOB NOT NULL,"
    " value_type TEXT NOT NULL CHECK (value_type IN ('string','number','boolean','json')),"
    " updated_at TEXT NOT NULL);"
    "CREATE TABLE agent_logs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " timestamp TEXT NOT NULL,"
    " level TEXT NOT NULL,"
    " message TEXT NOT NULL);"
    "CREATE INDEX idx_logs_timestamp ON agent_logs(timestamp);"
    "CREATE INDEX idx_logs_level ON agent_logs(level);"
    "CREATE TABLE agent_files ("
    " path TEXT PRIMARY KEY NOT NULL,"
    " created_at TEXT NOT NULL,"
    " size_bytes INTEGER NOT NULL DEFAULT 0,"
    " description TEXT NOT NULL DEFAULT '');"
    "PRAGMA user_version = 1;";

static int user_version(lcs_state *s, int *v, lcs_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading the schema version");
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(s, err, "reading the schema version");
}

static int init_schema(lcs_state *s, lcs_error *err)
{
    if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON; BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "starting the schema transaction");
    int v;
    if (user_version(s, &v, err) != 0)
        goto rollback;
    if (v == 0) {
        /* A database someone else created (e.g. upstream's agent_state
         * without value_type) would silently lack columns: refuse it. */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) !=
            SQLITE_OK) {
            db_fail(s, err, "inspecting the database");
            goto rollback;
        }
        int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        if (n != 0) {
            lcs_fail(err, LCS_E_VALIDATION,
                     "state store %s: the database has tables but no schema version; it was "
                     "not made by llmcore-sandbox: remove it or choose another path",
                     s->path);
            goto rollback;
        }
        if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
            db_fail(s, err, "creating the schema");
            goto rollback;
        }
    } else if (v != STATE_SCHEMA_VERSION) {
        lcs_fail(err, LCS_E_VALIDATION,
                 "state store %s has schema version %d; this library knows version %d: use a "
                 "matching llmcore-sandbox or another path",
                 s->path, v, STATE_SCHEMA_VERSION);
        goto rollback;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, "committing the schema");
    return 0;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

lcs_state *lcs_state_open(const char *path, lcs_error *err)
{
    if (!path || !*path) {
        lcs_fail(err, LCS_E_INVALID, "state store: no database path given");
        return NULL;
    }
    bool memory = strcmp(path, ":memory:") == 0;
    if (!memory) {
        /* Create the file ourselves so it is 0600 and never a symlink. */
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            lcs_fail_errno(err, "state store: cannot open %s%s", path,
                           errno == ELOOP ? " (it is a symlink; refusing to follow it)" : "");
            return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            lcs_fail(err, LCS_E_INVALID, "state store: %s is not a regular file", path);
            return NULL;
        }
        close(fd);
    }
    lcs_state *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        lcs_fail_nomem(err);
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_NOFOLLOW
    flags |= SQLITE_OPEN_NOFOLLOW;
#endif
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        if (s->db)
            db_fail(s, err, "opening the database");
        else
            lcs_fail_nomem(err);
        lcs_state_close(s);
        return NULL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Another process (the CLI, a second tool) may hold the lock briefly. */
    sqlite3_busy_timeout(s->db, 10000);
    if (init_schema(s, err) != 0) {
        lcs_state_close(s);
        return NULL;
    }
    return s;
}

void lcs_state_close(lcs_state *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* JSON number grammar (RFC 8259), whole string. */
static bool is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static bool is_json_text(const char *s, size_t n)
{
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_decref(v);
    return v != NULL;
}

static int check_value(lcs_state *s, const char *key, lcs_state_type type, const char *v, size_t n,
                       lcs_error *err)
{
    if (!key || !*key)
        return lcs_fail(err, LCS_E_INVALID, "state store %s: an empty key is not allowed",
                        s->path);
    if (!lcs_tl_utf8_valid(key, strlen(key)))
        return lcs_fail(err, LCS_E_INVALID, "state store %s: key is not valid UTF-8", s->path);
    if (!v && n)
        return lcs_fail(err, LCS_E_INVALID, "state store %s: no value given for '%s'", s->path,
                        key);
    switch (type) {
    case LCS_STATE_STRING:
        if (!lcs_tl_utf8_valid(v, n))
            return lcs_fail(err, LCS_E_INVALID,
                            "state store %s: the value of '%s' is not valid UTF-8 text: encode "
                            "binary data (e.g. base64) before storing it",
                            s->path, key);
        return 0;
    case LCS_STATE_NUMBER:
        if (!is_json_number(v, n))
            return lcs_fail(err, LCS_E_INVALID,
                            "state store %s: the value of '%s' is not a number (JSON syntax, "
                            "e.g. 42, -1.5, 1e5)",
                            s->path, key);
        return 0;
    case LCS_STATE_BOOLEAN:
        if (!((n == 4 && !memcmp(v, "true", 4)) || (n == 5 && !memcmp(v, "false", 5))))
            return lcs_fail(err, LCS_E_INVALID,
                            "state store %s: the value of '%s' is not a boolean (true or false)",
                            s->path, key);
        return 0;
    case LCS_STATE_JSON:
        if (!is_json_text(v, n))
            return lcs_fail(err, LCS_E_INVALID, "state store %s: the value of '%s' is not JSON",
                            s->path, key);
        return 0;
    }
    return lcs_fail(err, LCS_E_INVALID, "state store %s: unknown value type %d for '%s'",
                    s->path, (int)type, key);
}

int lcs_state_set(lcs_state *s, const char *key, lcs_state_type type, const char *value,
                  size_t len, lcs_error *err)
{
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "state store: no store given");
    if (check_value(s, key, type, value, len, err) != 0)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO agent_state (key, value, value_type, updated_at) "
                           "VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                           "value_type = excluded.value_type, updated_at = excluded.updated_at",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "preparing a state update");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, len ? value : "", len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lcs_state_type_name(type), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(s, err, "storing a state value");
    return 0;
}

/* The type auto-typing gives to text, and the span to store (JSON values
 * without surrounding blanks; strings verbatim). */
lcs_state_type lcs_state_auto_type(const char *v, size_t n, size_t *off, size_t *len)
{
    size_t a = 0, b = n;
    while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\n' || v[a] == '\r'))
        a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\n' || v[b - 1] == '\r'))
        b--;
    *off = a;
    *len = b - a;
    const char *t = v + a;
    size_t tn = b - a;
    if (is_json_number(t, tn))
        return LCS_STATE_NUMBER;
    if ((tn == 4 && !memcmp(t, "true", 4)) || (tn == 5 && !memcmp(t, "false", 5)))
        return LCS_STATE_BOOLEAN;
    if (tn && (t[0] == '{' || t[0] == '[' || (tn == 4 && !memcmp(t, "null", 4))) &&
        is_json_text(t, tn))
        return LCS_STATE_JSON;
    *off = 0;
    *len = n;
    return LCS_STATE_STRING;
}

int lcs_state_set_auto(lcs_state *s, const char *key, const char *value, size_t len,
                       lcs_error *err)
{
    size_t off, n;
    lcs_state_type t = lcs_state_auto_type(value ? value : "", value ? len : 0, &off, &n);
    return lcs_state_set(s, key, t, value ? value + off : "", n, err);
}

int lcs_state_get(lcs_state *s, const char *key, lcs_state_type *type, char **value, size_t *len,
                  lcs_error *err)
{
    if (!s || !key)
        return lcs_fail(err, LCS_E_INVALID, "state store: no store or key given");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value, value_type FROM agent_state WHERE key = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "preparing a state lookup");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_fail(s, err, "reading a state value");
    }
    const void *blob = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    lcs_state_type t = LCS_STATE_STRING;
    lcs_state_type_parse((const char *)sqlite3_column_text(st, 1), &t);
    char *copy = malloc(n + 1);
    if (!copy) {
        sqlite3_finalize(st);
        return lcs_fail_nomem(err);
    }
    if (n)
        memcpy(copy, blob, n);
    copy[n] = '\0';
    sqlite3_finalize(st);
    if (type)
        *type = t;
    if (len)
        *len = n;
    if (value)
        *value = copy;
    else
        free(copy);
    return 1;
}

int lcs_state_delete(lcs_state *s, const char *key, lcs_error *err)
{
    if (!s || !key)
        return lcs_fail(err, LCS_E_INVALID, "state store: no store or key given");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM agent_state WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "preparing a state deletion");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(s, err, "deleting a state value");
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

char **lcs_state_keys(lcs_state *s, lcs_error *err)
{
    if (!s) {
        lcs_fail(err, LCS_E_INVALID, "state store: no store given");
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT key FROM agent_state ORDER BY key", -1, &st, NULL) !=
        SQLITE_OK) {
        db_fail(s, err, "preparing the key listing");
        return NULL;
    }
    size_t n = 0, cap = 8;
    char **v = calloc(cap, sizeof *v);
    int rc;
    while (v && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n + 1 >= cap) {
            char **nv = realloc(v, cap * 2 * sizeof *v);
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        v[n] = strdup((const char *)sqlite3_column_text(st, 0));
        if (!v[n])
            break;
        v[++n] = NULL;
    }
    if (!v || rc != SQLITE_DONE) {
        bool oom = !v || rc == SQLITE_ROW;
        lcs_strv_free(v);
        if (oom)
            lcs_fail_nomem(err);
        else
            db_fail(s, err, "listing keys");
        sqlite3_finalize(st);
        return NULL;
    }
    sqlite3_finalize(st);
    return v;
}

int lcs_state_clear(lcs_state *s, lcs_error *err)
{
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "state store: no store given");
    if (sqlite3_exec(s->db, "DELETE FROM agent_state", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, "clearing the state");
    return 0;
}

int lcs_state_log_event(lcs_state *s, const char *level, const char *message, lcs_error *err)
{
    if (!s)
        return lcs_fail(err, LCS_E_INVALID, "state store: no store given");
    char lv[32];
    size_t i = 0;
    for (const char *p = level && *level ? level : "INFO"; *p && i < sizeof lv - 1; p++)
        lv[i++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
    lv[i] = '\0';
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO agent_logs (timestamp, level, message) VALUES "
                           "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "preparing an event log entry");
    sqlite3_bind_text(st, 1, lv, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message ? message : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, err, "writing an event log entry");
}

static json_t *row_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    return t ? json_stringn((const char *)t, (size_t)n) : json_null();
}

char *lcs_state_logs_json(lcs_state *s, const char *level, int64_t limit, int64_t offset,
                          lcs_error *err)
{
    if (!s) {
        lcs_fail(err, LCS_E_INVALID, "state store: no store given");
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, timestamp, level, message FROM agent_logs "
                           "WHERE (?1 IS NULL OR level = upper(?1)) "
                           "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                           -1, &st, NULL) != SQLITE_OK) {
        db_fail(s, err, "preparing the event log query");
        return NULL;
    }
    if (level)
        sqlite3_bind_text(st, 1, level, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    sqlite3_bind_int64(st, 3, offset > 0 ? offset : 0);
    json_t *a = json_array();
    int rc;
    while (a && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "timestamp", row_text(st, 1));
        json_object_set_new(o, "level", row_text(st, 2));
        json_object_set_new(o, "message", row_text(st, 3));
        json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    if (!a || rc != SQLITE_DONE) {
        json_decref(a);
        db_fail(s, err, "reading the event log");
        return NULL;
    }
    char *out = lcs_tl_json_text(a);
    json_decref(a);
    if (!out)
        lcs_fail_nomem(err);
    return out;
}

int lcs_state_record_file(lcs_state *s, const char *path, uint64_t size_bytes,
                          const char *description, lcs_error *err)
{
    if (!s || !path || !*path)
        return lcs_fail(err, LCS_E_INVALID, "state store: no store or file path given");
    if (size_bytes > (uint64_t)INT64_MAX)
        return lcs_fail(err, LCS_E_INVALID, "state store: file size out of range");
    sqlite3_stmt *st;
    /* A bounded list: each recorded file is a row on the host (and a copy
     * out at the end of the run); updating a recorded path is always fine. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM agent_files), "
                           "EXISTS (SELECT 1 FROM agent_files WHERE path = ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "preparing a file count");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_int64 count = 0, same = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        count = sqlite3_column_int64(st, 0);
        same = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (!same && count >= LCS_STATE_MAX_FILES)
        return lcs_fail(err, LCS_E_DENIED,
                        "state store: %d files are recorded already, the most a run records; "
                        "%s is not recorded",
                        LCS_STATE_MAX_FILES, path);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO agent_files (path, created_at, size_bytes, description) "
                           "VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?2, ?3) "
                           "ON CONFLICT(path) DO UPDATE SET created_at = excluded.created_at, "
                           "size_bytes = excluded.size_bytes, description = excluded.description",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "preparing a file record");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)size_bytes);
    sqlite3_bind_text(st, 3, description ? description : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, err, "recording a file");
}

json_t *lcs_state_files_value(lcs_state *s, lcs_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT path, created_at, size_bytes, description FROM agent_files "
                           "ORDER BY created_at DESC, rowid DESC",
                           -1, &st, NULL) != SQLITE_OK) {
        db_fail(s, err, "preparing the recorded-files query");
        return NULL;
    }
    json_t *a = json_array();
    int rc;
    while (a && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "path", row_text(st, 0));
        json_object_set_new(o, "created_at", row_text(st, 1));
        json_object_set_new(o, "size_bytes", json_integer(sqlite3_column_int64(st, 2)));
        json_object_set_new(o, "description", row_text(st, 3));
        json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    if (!a || rc != SQLITE_DONE) {
        json_decref(a);
        db_fail(s, err, "reading the recorded files");
        return NULL;
    }
    return a;
}

char *lcs_state_files_json(lcs_state *s, lcs_error *err)
{
    if (!s) {
        lcs_fail(err, LCS_E_INVALID, "state store: no store given");
        return NULL;
    }
    json_t *a = lcs_state_files_value(s, err);
    if (!a)
        return NULL;
    char *out = lcs_tl_json_text(a);
    json_decref(a);
    if (!out)
        lcs_fail_nomem(err);
    return out;
}

json_t *lcs_state_value_to_json(lcs_state_type t, const char *v, size_t n)
{
    switch (t) {
    case LCS_STATE_STRING: return lcs_tl_json_stringn(v, n);
    case LCS_STATE_BOOLEAN: return json_boolean(n == 4 && !memcmp(v, "true", 4));
    case LCS_STATE_NUMBER: {
        json_t *j = json_loadb(v, n, JSON_DECODE_ANY, NULL);
        /* Integers beyond 64 bits: keep the value as a real. */
        if (!j)
            j = json_loadb(v, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
        return j ? j : lcs_tl_json_stringn(v, n);
    }
    case LCS_STATE_JSON: {
        json_t *j = json_loadb(v, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        return j ? j : lcs_tl_json_stringn(v, n);
    }
    }
    return json_null();
}

char *lcs_state_export_json(lcs_state *s, lcs_error *err)
{
    if (!s) {
        lcs_fail(err, LCS_E_INVALID, "state store: no store given");
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key, value, value_type, updated_at FROM agent_state "
                           "ORDER BY key",
                           -1, &st, NULL) != SQLITE_OK) {
        db_fail(s, err, "preparing the state export");
        return NULL;
    }
    json_t *state = json_object();
    int rc;
    while (state && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        lcs_state_type t = LCS_STATE_STRING;
        lcs_state_type_parse((const char *)sqlite3_column_text(st, 2), &t);
        const char *v = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(lcs_state_type_name(t)));
        json_object_set_new(o, "value", lcs_state_value_to_json(t, v ? v : "", n));
        json_object_set_new(o, "updated_at", row_text(st, 3));
        json_object_set_new(state, (const char *)sqlite3_column_text(st, 0), o);
    }
    sqlite3_finalize(st);
    if (!state || rc != SQLITE_DONE) {
        json_decref(state);
        db_fail(s, err, "exporting the state");
        return NULL;
    }
    char *logs = lcs_state_logs_json(s, NULL, 1000, 0, err);
    json_t *files = logs ? lcs_state_files_value(s, err) : NULL;
    if (!files) {
        free(logs);
        json_decref(state);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "state", state);
    json_object_set_new(o, "logs", json_loads(logs, 0, NULL));
    json_object_set_new(o, "files", files);
    free(logs);
    char *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!out)
        lcs_fail_nomem(err);
    return out;
}
