/*
 * cgmove.c - what moving a new process into a cgroup costs, after an idle
 * gap as between an agent's calls, for each way the kernel offers.
 *
 *   cgmove [-n ROUNDS] [-g GAP_MS] [-j]     (root; cgroup v1, v2 or hybrid)
 *
 * Every round sleeps GAP_MS, then times one way (the ways take turns):
 *   v2-procs-pid    parent writes the child's pid into a v2 cgroup.procs
 *   v2-procs-self   the child writes "0" into a v2 cgroup.procs
 *   v2-clone-into   clone3(CLONE_INTO_CGROUP): the child is born there
 *   v1-procs-pid    parent writes the child's pid into a v1 cgroup.procs
 *   v1-procs-self   the child writes "0" into a v1 cgroup.procs
 *   v1-tasks-self   the child writes "0" into the v1 tasks file
 * A cgroup.procs write (or one naming another pid) takes the global
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
 * period once the machine has been idle; a thread moving itself through
 * "tasks", and a process born into its cgroup, take no such lock.
 * Prints p50/p95 in microseconds per way (-j: one JSON object).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

enum { V2_PID, V2_SELF, V2_CLONE, V1_PID, V1_SELF, V1_TASKS, NWAYS };
static const char *const names[NWAYS] = {"v2-procs-pid",  "v2-procs-self", "v2-clone-into",
                                         "v1-procs-pid",  "v1-procs-self", "v1-tasks-self"};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int write_str(int fd, const char *s)
{
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed move of a fresh child into dir (a cgroup directory). The child
 * is forked outside the timed span except for the clone3 way, whose clone
 * is the move; the timed span ends when the move has returned. */
static double one(int way, const char *dir)
{
    char path[4200];
    const char *file = way == V1_TASKS ? "tasks" : "cgroup.procs";
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int go[2], done[2];
    if (pipe(go) < 0 || pipe(done) < 0)
        return -1;
    double t0 = 0, t1;
    pid_t pid;
    if (way == V2_CLONE) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return -1;
        struct clone_args ca = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
                                .cgroup = (uint64_t)dfd};
        t0 = now_us();
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        if (pid == 0)
            _exit(0);
        t1 = now_us();
        close(dfd);
        if (pid < 0)
            return -1;
    } else {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        pid = fork();
        if (pid == 0) {
            char c;
            if (read(go[0], &c, 1) != 1)
                _exit(1);
            if (way == V2_SELF || way == V1_SELF || way == V1_TASKS) {
                double a = now_us();
                int r = write_str(fd, "0");
                double b = now_us() - a;
                if (write(done[1], &b, sizeof b) != sizeof b || r < 0)
                    _exit(1);
            }
            _exit(0);
        }
        if (way == V2_PID || way == V1_PID) {
            char buf[32];
            snprintf(buf, sizeof buf, "%d", (int)pid);
            t0 = now_us();
            int r = write_str(fd, buf);
            t1 = now_us();
            if (r < 0)
                t1 = t0 - 1;
            if (write(go[1], "g", 1) != 1)
                t1 = t0 - 1;
        } else {
            double b = -1;
            if (write(go[1], "g", 1) != 1 || read(done[0], &b, sizeof b) != sizeof b)
                b = -1;
            t0 = 0;
            t1 = b;
        }
        close(fd);
    }
    int st;
    waitpid(pid, &st, 0);
    close(go[0]), close(go[1]), close(done[0]), close(done[1]);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return t1 - t0;
}

/* A v1 hierarchy mounted at /sys/fs/cgroup/NAME, or NULL. */
static const char *v1_root(void)
{
    static const char *const c[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                     "/sys/fs/cgroup/freezer"};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/tasks", c[i]);
        if (access(p, W_OK) == 0)
            return c[i];
    }
    return NULL;
}

/* The v2 hierarchy: /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified. */
static const char *v2_root(void)
{
    if (access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) == 0)
        return "/sys/fs/cgroup";
    if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
        return "/sys/fs/cgroup/unified";
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = 40, gap_ms = 50, json = 0, opt;
    while ((opt = getopt(argc, argv, "n:g:j")) != -1) {
        if (opt == 'n')
            rounds = atoi(optarg);
        else if (opt == 'g')
            gap_ms = atoi(optarg);
        else if (opt == 'j')
            json = 1;
        else {
            fprintf(stderr, "usage: cgmove [-n ROUNDS] [-g GAP_MS] [-j]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > 100000 || gap_ms < 0) {
        fprintf(stderr, "cgmove: ROUNDS must be 1..100000 and GAP_MS >= 0\n");
        return 2;
    }
    const char *r1 = v1_root(), *r2 = v2_root();
    char d1[256] = "", d2[256] = "";
    /* A v2 cgroup with processes may not have children, so the test
     * cgroup is a leaf of its own. */
    if (r2) {
        snprintf(d2, sizeof d2, "%s/lcs-cgmove-%d", r2, (int)getpid());
        if (mkdir(d2, 0755) < 0)
            d2[0] = 0;
    }
    if (r1) {
        snprintf(d1, sizeof d1, "%s/lcs-cgmove-%d", r1, (int)getpid());
        if (mkdir(d1, 0755) < 0)
            d1[0] = 0;
    }
    double *t[NWAYS];
    int n[NWAYS] = {0}, fail[NWAYS] = {0};
    for (int w = 0; w < NWAYS; w++)
        t[w] = calloc((size_t)rounds, sizeof(double));
    struct timespec gap = {gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L};
    for (int r = 0; r < rounds; r++)
        for (int w = 0; w < NWAYS; w++) {
            const char *dir = w <= V2_CLONE ? d2 : d1;
            if (!dir[0])
                continue;
            nanosleep(&gap, NULL);
            double us = one(w, dir);
            if (us < 0)
                fail[w]++;
            else
                t[w][n[w]++] = us;
        }
    if (json)
        printf("{\"gap_ms\": %d, \"rounds\": %d", gap_ms, rounds);
    else
        printf("%-14s %9s %9s %6s   (%d rounds, %d ms apart)\n", "way", "p50 us", "p95 us",
               "fails", rounds, gap_ms);
    for (int w = 0; w < NWAYS; w++) {
        const char *dir = w <= V2_CLONE ? d2 : d1;
        if (!dir[0])
            continue;
        qsort(t[w], (size_t)n[w], sizeof(double), cmp);
        double p50 = n[w] ? t[w][n[w] / 2] : -1, p95 = n[w] ? t[w][(n[w] * 95) / 100] : -1;
        if (json)
            printf(", \"%s\": {\"p50_us\": %.1f, \"p95_us\": %.1f, \"failures\": %d}", names[w],
                   p50, p95, fail[w]);
        else
            printf("%-14s %9.1f %9.1f %6d\n", names[w], p50, p95, fail[w]);
        free(t[w]);
        t[w] = NULL;
    }
    for (int w = 0; w < NWAYS; w++)
        free(t[w]);
    if (json)
        printf("}\n");
    if (d2[0])
        rmdir(d2);
    if (d1[0])
        rmdir(d1);
    return 0;
}
