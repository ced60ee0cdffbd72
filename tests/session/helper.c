/*
 * helper.c - lcs-session-helper: drives the sessions C API for
 * tests/session/run.sh and bench/run.sh.
 *
 *   lcs-session-helper create-threaded ROOTFS
 *       create a session from a second thread while the main thread keeps
 *       allocating (a multithreaded creator, like a Python process), print
 *       the id, exit: the session must outlive us
 *   lcs-session-helper exec-loop ID N
 *       N execs of /bin/true through lcs_session_exec; prints the median
 *       and mean in microseconds
 *   lcs-session-helper host-loop N
 *       N fork+exec+wait of /bin/true on the host, same statistics
 *   lcs-session-helper stream ID
 *       exec that prints 3 lines 0.3 s apart; prints the time each chunk
 *       arrived through on_output (streaming check)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "llmcore/sandbox.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct targ {
    const char *rootfs;
    char id[64];
    int rc;
    atomic_int done;
} targ;

static void *creator(void *p)
{
    targ *t = p;
    lcs_session_options o;
    lcs_session_options_init(&o);
    o.rootfs = t->rootfs;
    o.label = "threaded-creator";
    lcs_session *s = NULL;
    lcs_error err;
    lcs_error_clear(&err);
    t->rc = lcs_session_create(NULL, &o, &s, &err);
    if (t->rc == 0) {
        snprintf(t->id, sizeof t->id, "%s", lcs_session_id(s));
        lcs_session_close(s);
    } else {
        fprintf(stderr, "create: %s\n", err.message);
    }
    atomic_store(&t->done, 1);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    printf("median_us %.0f mean_us %.0f n %d\n", v[n / 2] * 1e6, sum / n * 1e6, n);
}

static void on_out(void *ctx, int stream, const char *d, size_t len)
{
    (void)stream;
    printf("chunk %.2f %.*s", now() - *(double *)ctx, (int)len, d);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "status")) {
        /* the live status JSON of a session (lcs_session_status_json) */
        lcs_error err;
        lcs_session *s = lcs_session_open(argv[2], &err);
        char *st = s ? lcs_session_status_json(s, &err) : NULL;
        if (!st) {
            fprintf(stderr, "%s\n", err.message);
            lcs_session_close(s);
            return 1;
        }
        puts(st);
        lcs_free(st);
        lcs_session_close(s);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "create-threaded")) {
        targ t;
        memset(&t, 0, sizeof t);
        t.rootfs = argv[2];
        pthread_t th;
        pthread_create(&th, NULL, creator, &t);
        while (!atomic_load(&t.done))
            free(malloc(1024)); /* busy main thread */
        pthread_join(th, NULL);
        if (t.rc)
            return 1;
        puts(t.id);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "exec-verdict")) {
        /* one exec through the C API: its return, verdict, exit code */
        lcs_error err;
        lcs_error_clear(&err);
        lcs_session *s = lcs_session_open(argv[2], &err);
        if (!s) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        lcs_exec_options o;
        lcs_exec_options_init(&o);
        o.argv = (const char *const *)argv + 3;
        lcs_run_result r;
        int rc = lcs_session_exec(s, &o, &r, &err);
        if (rc == 0) {
            printf("rc 0 verdict %s exit %d\n", r.verdict, r.exit_code);
            lcs_run_result_clear(&r);
        } else {
            printf("rc %d error %s\n", rc, err.message);
        }
        lcs_session_close(s);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "exec-loop")) {
        int n = atoi(argv[3]);
        lcs_error err;
        lcs_error_clear(&err);
        lcs_session *s = lcs_session_open(argv[2], &err);
        if (!s) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        double *v = calloc((size_t)n, sizeof *v);
        static const char *const av[] = {"/bin/true", NULL};
        for (int i = 0; i < n; i++) {
            lcs_exec_options o;
            lcs_exec_options_init(&o);
            o.argv = av;
            lcs_run_result r;
            double t0 = now();
            if (lcs_session_exec(s, &o, &r, &err) != 0 || strcmp(r.verdict, "ok")) {
                fprintf(stderr, "exec: %s %s\n", err.message, r.verdict);
                return 1;
            }
            v[i] = now() - t0;
            lcs_run_result_clear(&r);
        }
        stats(v, n);
        free(v);
        lcs_session_close(s);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "host-loop")) {
        int n = atoi(argv[2]);
        double *v = calloc((size_t)n, sizeof *v);
        for (int i = 0; i < n; i++) {
            double t0 = now();
            pid_t p = fork();
            if (p == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
            }
            int st;
            waitpid(p, &st, 0);
            v[i] = now() - t0;
        }
        stats(v, n);
        free(v);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "stream")) {
        lcs_error err;
        lcs_error_clear(&err);
        lcs_session *s = lcs_session_open(argv[2], &err);
        if (!s)
            return 1;
        lcs_exec_options o;
        lcs_exec_options_init(&o);
        o.shell_command = "for i in 1 2 3; do echo line$i; sleep 0.3; done";
        double t0 = now();
        o.on_output = on_out;
        o.ctx = &t0;
        lcs_run_result r;
        int rc = lcs_session_exec(s, &o, &r, &err);
        printf("done %.2f %s\n", now() - t0, rc ? err.message : r.verdict);
        if (!rc)
            lcs_run_result_clear(&r);
        lcs_session_close(s);
        return rc ? 1 : 0;
    }
    fprintf(stderr, "usage: see the header of tests/session/helper.c\n");
    return 2;
}
