/*
 * pace.c - the start-up benchmark's timer (bench/run.sh drives it).
 *
 *   lcs-bench-pace [-n ROUNDS] [-g GAPS_MS] CASE...        > results
 *   lcs-bench-pace -c N -r ROOTFS                          > results
 *
 * Round-robin: every round runs each case once at each pace (the order of
 * the cases turns by one every round), so the cases share whatever the
 * machine does meanwhile. A pace is a gap in milliseconds slept before
 * each timed call: 0 is back to back, 50 (the default second pace) is an
 * agent's rhythm, where the machine goes idle between calls. GAPS_MS is a
 * comma-separated list (default "0,50").
 *
 * CASE is NAME=COMMAND (split at spaces, run with posix_spawn, output to
 * /dev/null, timed until it has been reaped, and a failure unless it exits
 * 0), or NAME=@api-exec:SESSION_ID (lcs_session_exec of /bin/true in that
 * session, in this process: no process start-up of a client).
 *
 * -c N: N processes at once, each lcs_session_create (on ROOTFS) + exec of
 * /bin/true + destroy; per-process latency, failures.
 *
 * Output: one line per case and pace, "pace GAP NAME p50_us P50 p95_us P95
 * n N failures F", or "concurrent N p50_us ... p95_us ... failures F".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <llmcore/sandbox.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CASES 16
#define MAX_PACES 4

typedef struct bcase {
    char name[64];
    char *argv[32];
    lcs_session *sess; /* @api-exec */
    double *t[MAX_PACES];
    int n[MAX_PACES], fail[MAX_PACES];
} bcase;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, int p)
{
    if (n <= 0)
        return -1;
    qsort(v, (size_t)n, sizeof *v, cmp);
    int i = (n * p + 99) / 100 - 1;
    return v[i < 0 ? 0 : i];
}

/* One timed call; -1 on failure. */
static double run_once(bcase *c)
{
    if (c->sess) {
        static const char *const av[] = {"/bin/true", NULL};
        lcs_exec_options o;
        lcs_exec_options_init(&o);
        o.argv = av;
        lcs_run_result r;
        lcs_error err;
        lcs_error_clear(&err);
        double t0 = now_us();
        int rc = lcs_session_exec(c->sess, &o, &r, &err);
        double t = now_us() - t0;
        if (rc != 0)
            return -1;
        int ok = !strcmp(r.verdict, "ok");
        lcs_run_result_clear(&r);
        return ok ? t : -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    double t0 = now_us();
    int rc = posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    double t = now_us() - t0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

static int parse_case(bcase *c, char *spec)
{
    char *eq = strchr(spec, '=');
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof c->name)
        return -1;
    memcpy(c->name, spec, (size_t)(eq - spec));
    char *cmd = eq + 1;
    if (!strncmp(cmd, "@api-exec:", 10)) {
        lcs_error err;
        lcs_error_clear(&err);
        c->sess = lcs_session_open(cmd + 10, &err);
        if (!c->sess) {
            fprintf(stderr, "pace: %s: %s\n", c->name, err.message);
            return -1;
        }
        return 0;
    }
    int n = 0;
    for (char *tok = strtok(cmd, " "); tok && n < 31; tok = strtok(NULL, " "))
        c->argv[n++] = tok;
    c->argv[n] = NULL;
    return n ? 0 : -1;
}

/* -c: n processes start together (a pipe is the barrier); each reports its
 * create+exec+destroy time in us, or -1. */
static int concurrent(int n, const char *rootfs)
{
    int bar[2], res[2];
    if (pipe(bar) < 0 || pipe(res) < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0)
            return 1;
        if (p)
            continue;
        close(bar[1]);
        char ch;
        if (read(bar[0], &ch, 1) < 0)
            _exit(1);
        double t0 = now_us(), t = -1;
        lcs_error err;
        lcs_error_clear(&err);
        lcs_session_options so;
        lcs_session_options_init(&so);
        so.rootfs = rootfs;
        so.label = "bench-concurrent";
        lcs_session *s = NULL;
        if (lcs_session_create(NULL, &so, &s, &err) == 0) {
            static const char *const av[] = {"/bin/true", NULL};
            lcs_exec_options o;
            lcs_exec_options_init(&o);
            o.argv = av;
            lcs_run_result r;
            int ok = lcs_session_exec(s, &o, &r, &err) == 0 && !strcmp(r.verdict, "ok");
            if (ok)
                lcs_run_result_clear(&r);
            if (lcs_session_destroy(s, NULL, &err) == 0 && ok)
                t = now_us() - t0;
        }
        if (t < 0)
            fprintf(stderr, "pace: concurrent: %s\n", err.message);
        if (write(res[1], &t, sizeof t) != sizeof t)
            _exit(1);
        _exit(0);
    }
    close(bar[0]);
    close(res[1]);
    close(bar[1]); /* EOF: all start */
    double *v = calloc((size_t)n, sizeof *v);
    int k = 0, fails = 0;
    double t;
    while (read(res[0], &t, sizeof t) == sizeof t) {
        if (t < 0)
            fails++;
        else
            v[k++] = t;
    }
    while (wait(NULL) > 0) {
    }
    fails += n - k - fails > 0 ? n - k - fails : 0;
    double p50 = pct(v, k, 50), p95 = pct(v, k, 95);
    printf("concurrent %d p50_us %.1f p95_us %.1f n %d failures %d\n", n, p50, p95, k, fails);
    free(v);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = 40, opt, conc = 0;
    const char *gaps = "0,50", *rootfs = NULL;
    while ((opt = getopt(argc, argv, "n:g:c:r:")) != -1) {
        if (opt == 'n')
            rounds = atoi(optarg);
        else if (opt == 'g')
            gaps = optarg;
        else if (opt == 'c')
            conc = atoi(optarg);
        else if (opt == 'r')
            rootfs = optarg;
        else
            return 2;
    }
    if (conc > 0) {
        if (!rootfs || conc > 1024) {
            fprintf(stderr, "pace: -c N (1..1024) needs -r ROOTFS\n");
            return 2;
        }
        return concurrent(conc, rootfs);
    }
    int gap[MAX_PACES], np = 0;
    char gbuf[64];
    snprintf(gbuf, sizeof gbuf, "%s", gaps);
    for (char *tok = strtok(gbuf, ","); tok && np < MAX_PACES; tok = strtok(NULL, ","))
        gap[np++] = atoi(tok);
    int nc = argc - optind;
    if (rounds < 1 || rounds > 100000 || np < 1 || nc < 1 || nc > MAX_CASES) {
        fprintf(stderr, "usage: lcs-bench-pace [-n ROUNDS] [-g GAPS_MS] NAME=COMMAND... "
                        "(1..%d cases)\n", MAX_CASES);
        return 2;
    }
    bcase *cs = calloc((size_t)nc, sizeof *cs);
    for (int i = 0; i < nc; i++) {
        if (parse_case(&cs[i], argv[optind + i]) < 0) {
            fprintf(stderr, "pace: bad case '%s' (NAME=COMMAND)\n", argv[optind + i]);
            return 2;
        }
        for (int p = 0; p < np; p++)
            cs[i].t[p] = calloc((size_t)rounds, sizeof(double));
    }
    for (int r = 0; r < rounds; r++)
        for (int p = 0; p < np; p++)
            for (int j = 0; j < nc; j++) {
                bcase *c = &cs[(j + r) % nc];
                if (gap[p] > 0) {
                    struct timespec ts = {gap[p] / 1000, (long)(gap[p] % 1000) * 1000000L};
                    nanosleep(&ts, NULL);
                }
                double t = run_once(c);
                if (t < 0)
                    c->fail[p]++;
                else
                    c->t[p][c->n[p]++] = t;
            }
    for (int p = 0; p < np; p++)
        for (int i = 0; i < nc; i++) {
            bcase *c = &cs[i];
            double p50 = pct(c->t[p], c->n[p], 50), p95 = pct(c->t[p], c->n[p], 95);
            printf("pace %d %s p50_us %.1f p95_us %.1f n %d failures %d\n", gap[p], c->name, p50,
                   p95, c->n[p], c->fail[p]);
        }
    for (int i = 0; i < nc; i++) {
        for (int p = 0; p < np; p++)
            free(cs[i].t[p]);
        if (cs[i].sess)
            lcs_session_close(cs[i].sess);
    }
    free(cs);
    return 0;
}
