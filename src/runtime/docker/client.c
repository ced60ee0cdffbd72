/*
 * client.c - the Docker Engine API client: HTTP over the engine's unix
 * socket with libcurl (loaded at run time: curl_dl.h), JSON with jansson.
 *
 * One lcs_docker per thread: libcurl easy handles are made per request,
 * so nothing is shared between requests but the negotiated version.
 */
#include "runtime/docker/docker.h"
#include "util/error.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/io.h"

/* The oldest API level this client speaks: Podman 4.3's. Every field it
 * sends exists there and in every later Docker. */
#define MIN_API_MAJOR 1
#define MIN_API_MINOR 41

typedef struct buf {
    char *p;
    size_t len, cap, max;
} buf;

static size_t collect(char *data, size_t sz, size_t n, void *arg)
{
    buf *b = arg;
    size_t add = sz * n;
    if (b->len + add + 1 > b->max)
        return 0; /* an engine answer this large is not one we asked for */
    if (b->len + add + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->len + add + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, data, add);
    b->len += add;
    b->p[b->len] = 0;
    return add;
}

/* The engine's words for a failed request: {"message": ...} (Docker and
 * Podman both), else the start of the body. */
static void engine_message(const buf *b, char *out, size_t len)
{
    json_t *j = b->p ? json_loadb(b->p, b->len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "message"));
    snprintf(out, len, "%.300s", m ? m : b->p ? b->p : "(no answer)");
    json_decref(j);
    size_t l = strlen(out);
    while (l && (out[l - 1] == '\n' || out[l - 1] == '\r'))
        out[--l] = 0;
}

static int request(lcs_docker *d, const char *method, const char *path, int versioned,
                   const char *body, size_t blen, long timeout_ms, long *status, buf *resp,
                   lcs_error *err)
{
    CURL *h = d->cl.easy_init();
    if (!h)
        return lcs_fail(err, LCS_E_NOMEM, "libcurl: no handle");
    char url[2048];
    snprintf(url, sizeof url, "http://engine%s%s%s", versioned ? "/" : "",
             versioned ? d->api : "", path);
    struct curl_slist *hdr = NULL;
    if (body)
        hdr = d->cl.slist_append(hdr, "Content-Type: application/json");
    hdr = d->cl.slist_append(hdr, "Expect:");
    d->cl.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->sock);
    d->cl.easy_setopt(h, CURLOPT_URL, url);
    d->cl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    d->cl.easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    d->cl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    d->cl.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    d->cl.easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    d->cl.easy_setopt(h, CURLOPT_WRITEDATA, resp);
    if (!strcmp(method, "HEAD"))
        d->cl.easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body) {
        d->cl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
        d->cl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    } else if (!strcmp(method, "POST")) {
        d->cl.easy_setopt(h, CURLOPT_POSTFIELDS, "");
        d->cl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    CURLcode c = d->cl.easy_perform(h);
    long code = 0;
    if (c == CURLE_OK)
        d->cl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    d->cl.easy_cleanup(h);
    d->cl.slist_free_all(hdr);
    if (c != CURLE_OK)
        return lcs_fail(err, c == CURLE_OPERATION_TIMEDOUT ? LCS_E_IO : LCS_E_IO,
                        "engine %s: %s %s: %s", d->url, method, path, d->cl.easy_strerror(c));
    *status = code;
    return 0;
}

int lcs_docker_call(lcs_docker *d, const char *method, const char *path, json_t *body,
                    long timeout_ms, long *status, json_t **out, lcs_error *err)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text)
        return lcs_fail_nomem(err);
    buf b = {NULL, 0, 0, 64u << 20};
    long code = 0;
    int rc = request(d, method, path, 1, text, text ? strlen(text) : 0, timeout_ms, &code, &b,
                     err);
    free(text);
    if (out)
        *out = NULL;
    if (rc < 0) {
        free(b.p);
        return -1;
    }
    if (status)
        *status = code;
    if (code >= 400 || (!status && code >= 300)) {
        char m[400];
        engine_message(&b, m, sizeof m);
        free(b.p);
        lcs_status ec = code == 404 ? LCS_E_NOT_FOUND : code == 409 ? LCS_E_EXISTS
                                                                        : LCS_E_INTERNAL;
        if (status && code < 500)
            /* the caller looks at the status itself; the message is kept */
            lcs_fail(err, ec, "engine: %s %s: %ld %s", method, path, code, m);
        else
            return lcs_fail(err, ec, "engine: %s %s: %ld %s", method, path, code, m);
        return 0;
    }
    if (out && b.len) {
        json_error_t je;
        *out = json_loadb(b.p, b.len, 0, &je);
        if (!*out) {
            free(b.p);
            return lcs_fail(err, LCS_E_PARSE, "engine: %s %s: the answer is not JSON: %s", method,
                            path, je.text);
        }
    }
    free(b.p);
    return 0;
}

static int parse_api(const char *v, int *maj, int *min)
{
    return v && sscanf(v, "%d.%d", maj, min) == 2 ? 0 : -1;
}

int lcs_docker_connect(lcs_docker *d, const char *engine_url, lcs_error *err)
{
    memset(d, 0, sizeof *d);
    if (!engine_url || strncmp(engine_url, "unix://", 7) || !engine_url[7])
        return lcs_fail(err, LCS_E_UNSUPPORTED,
                        "engine %s: the Docker backend needs the engine on this host, at a unix "
                        "socket (unix:///PATH): sessions reach the container's files through "
                        "the host", engine_url ? engine_url : "(none)");
    if (strlen(engine_url + 7) >= sizeof d->sock)
        return lcs_fail(err, LCS_E_INVALID, "engine socket path too long: %s", engine_url);
    snprintf(d->url, sizeof d->url, "%s", engine_url);
    snprintf(d->sock, sizeof d->sock, "%s", engine_url + 7);
    if (lcs_curl_open(&d->cl, err) < 0)
        return -1;
    /* GET /version, unversioned: the engine's newest and oldest levels.
     * We speak the oldest level it accepts that is at least ours. */
    buf b = {NULL, 0, 0, 1u << 20};
    long code = 0;
    if (request(d, "GET", "/version", 0, NULL, 0, 10000, &code, &b, err) < 0)
        goto fail;
    json_t *v = code == 200 && b.p ? json_loadb(b.p, b.len, 0, NULL) : NULL;
    free(b.p);
    const char *api = json_string_value(json_object_get(v, "ApiVersion"));
    const char *minapi = json_string_value(json_object_get(v, "MinAPIVersion"));
    int amaj, amin, mmaj = MIN_API_MAJOR, mmin = MIN_API_MINOR;
    if (parse_api(api, &amaj, &amin) < 0) {
        json_decref(v);
        lcs_fail(err, LCS_E_UNSUPPORTED, "engine %s: GET /version gave no API version (HTTP %ld)",
                 d->url, code);
        goto fail;
    }
    int emaj, emin;
    if (parse_api(minapi, &emaj, &emin) == 0 && (emaj > mmaj || (emaj == mmaj && emin > mmin)))
        mmaj = emaj, mmin = emin;
    if (amaj < mmaj || (amaj == mmaj && amin < mmin)) {
        lcs_fail(err, LCS_E_UNSUPPORTED, "engine %s speaks Docker Engine API %s; this backend "
                 "needs %d.%d or later", d->url, api, MIN_API_MAJOR, MIN_API_MINOR);
        json_decref(v);
        goto fail;
    }
    snprintf(d->api, sizeof d->api, "v%d.%d", mmaj, mmin);
    snprintf(d->api_version, sizeof d->api_version, "%s", api);
    /* Podman names itself among the components */
    const char *name = "Docker Engine", *ver = json_string_value(json_object_get(v, "Version"));
    json_t *comps = json_object_get(v, "Components");
    for (size_t i = 0; i < json_array_size(comps); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(comps, i), "Name"));
        if (n && strstr(n, "Podman")) {
            d->flavour = LCS_ENGINE_PODMAN;
            name = "Podman";
            ver = json_string_value(json_object_get(json_array_get(comps, i), "Version"));
        }
    }
    snprintf(d->engine, sizeof d->engine, "%s %s", name, ver ? ver : "(unknown version)");
    json_decref(v);
    return 0;
fail:
    lcs_curl_close(&d->cl);
    return -1;
}

void lcs_docker_disconnect(lcs_docker *d)
{
    lcs_curl_close(&d->cl);
}

/* ----------------------------------------------------- hijacked streams */

int lcs_docker_hijack(lcs_docker *d, const char *path, json_t *body, lcs_docker_stream *st,
                      lcs_error *err)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    /* libcurl makes the connection (CONNECT_ONLY); the request and the raw
     * stream after its answer are ours, because the engine turns the
     * connection into the command's stdio. */
    CURL *h = d->cl.easy_init();
    if (!h)
        return lcs_fail(err, LCS_E_NOMEM, "libcurl: no handle");
    d->cl.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->sock);
    d->cl.easy_setopt(h, CURLOPT_URL, "http://engine/");
    d->cl.easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    d->cl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    d->cl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    CURLcode c = d->cl.easy_perform(h);
    curl_socket_t s = CURL_SOCKET_BAD;
    if (c == CURLE_OK)
        c = d->cl.easy_getinfo(h, CURLINFO_ACTIVESOCKET, &s);
    if (c != CURLE_OK || s == CURL_SOCKET_BAD) {
        d->cl.easy_cleanup(h);
        return lcs_fail(err, LCS_E_IO, "engine %s: connect: %s", d->url,
                        c != CURLE_OK ? d->cl.easy_strerror(c) : "no socket");
    }
    st->h = h;
    st->fd = s;
    st->cl = &d->cl;
    char *text = json_dumps(body, JSON_COMPACT);
    char head[2048];
    int hl = text ? snprintf(head, sizeof head,
                             "POST /%s%s HTTP/1.1\r\nHost: engine\r\nContent-Type: "
                             "application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                             "Content-Length: %zu\r\n\r\n",
                             d->api, path, strlen(text))
                  : -1;
    if (hl < 0 || (size_t)hl >= sizeof head || lcs_write_all(s, head, (size_t)hl) < 0 ||
        lcs_write_all(s, text, strlen(text)) < 0) {
        free(text);
        lcs_docker_stream_close(st);
        return lcs_fail(err, LCS_E_IO, "engine %s: POST %s: the request could not be sent",
                        d->url, path);
    }
    free(text);
    /* The answer's head, up to the blank line; what follows it is the
     * stream's first bytes. */
    char rb[8192];
    size_t n = 0;
    char *end = NULL;
    double until = lcs_now() + 30;
    while (!(end = memmem(rb, n, "\r\n\r\n", 4))) {
        struct pollfd p = {s, POLLIN, 0};
        int left = (int)((until - lcs_now()) * 1000);
        if (n == sizeof rb || left <= 0 || poll(&p, 1, left) <= 0) {
            lcs_docker_stream_close(st);
            return lcs_fail(err, LCS_E_IO, "engine %s: POST %s: no answer", d->url, path);
        }
        ssize_t r = read(s, rb + n, sizeof rb - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            lcs_docker_stream_close(st);
            return lcs_fail(err, LCS_E_IO, "engine %s: POST %s: the engine closed the connection",
                            d->url, path);
        }
        n += (size_t)r;
    }
    int code = 0;
    if (sscanf(rb, "HTTP/1.%*d %d", &code) != 1 || (code != 101 && code != 200)) {
        size_t hlen = (size_t)(end + 4 - rb);
        char m[400];
        buf eb = {rb + hlen, n - hlen, 0, 0};
        /* the error's body may be cut; what came is enough to name it */
        rb[n < sizeof rb ? n : sizeof rb - 1] = 0;
        engine_message(&eb, m, sizeof m);
        lcs_docker_stream_close(st);
        return lcs_fail(err, code == 404 ? LCS_E_NOT_FOUND : LCS_E_INTERNAL,
                        "engine: POST %s: %d %s", path, code, m);
    }
    size_t hlen = (size_t)(end + 4 - rb);
    st->pending_len = n - hlen;
    memcpy(st->pending, rb + hlen, st->pending_len);
    return 0;
}

void lcs_docker_stream_close(lcs_docker_stream *st)
{
    /* the socket is libcurl's: it closes it with the handle */
    if (st->h)
        st->cl->easy_cleanup(st->h);
    st->h = NULL;
    st->fd = -1;
}

/* --------------------------------------------------- multiplexed frames */

size_t lcs_docker_demux(lcs_docker_demux_state *ds, const unsigned char *in, size_t len,
                        int *stream, size_t *payload_len)
{
    size_t used = 0;
    while (used < len) {
        if (ds->left) {
            size_t take = len - used < ds->left ? len - used : (size_t)ds->left;
            ds->left -= take;
            *stream = ds->stream;
            *payload_len = take;
            return used; /* the payload starts at in + used */
        }
        ds->hdr[ds->have++] = in[used++];
        if (ds->have == 8) {
            ds->have = 0;
            ds->stream = ds->hdr[0];
            ds->left = (uint32_t)ds->hdr[4] << 24 | (uint32_t)ds->hdr[5] << 16 |
                       (uint32_t)ds->hdr[6] << 8 | ds->hdr[7];
        }
    }
    *stream = -1;
    *payload_len = 0;
    return used;
}
