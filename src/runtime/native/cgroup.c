/*
 * cgroup.c - host side: find, create, fill, kill and remove the cgroups of
 * one sandbox, on cgroup v1, v2 or a hybrid of both.
 *
 * Each concern (memory, pids, cpu quota, cpu accounting, kill) is placed in
 * v2 when our cgroup2 directory offers it, else in the v1 hierarchy that has
 * the controller, else nowhere (the caller then fails closed or records a
 * downgrade). Sandbox cgroups are created as children of the cgroup the
 * calling process already sits in, never at a hierarchy's root on its own
 * account: this respects whatever delegation the caller runs under.
 *
 * Version-specific file names live in cgroup_v1.c and cgroup_v2.c.
 */
#include "runtime/native/internal.h"

#include <jansson.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lcs_write_file(const char *dir, const char *name, const char *val)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(val);
    ssize_t n = write(fd, val, len);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        errno = n < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ discovery */

typedef struct cg_where {
    char v2[PATH_MAX];      /* our cgroup2 directory, "" if none */
    char v2top[PATH_MAX];   /* the top of the cgroup2 mount, "" if none */
    char v1[5][PATH_MAX];   /* memory pids cpu cpuacct freezer */
} cg_where;

static const char *const v1_names[5] = {"memory", "pids", "cpu", "cpuacct", "freezer"};

static int has_token(const char *list, const char *tok)
{
    size_t tl = strlen(tok);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == tl && !strncmp(p, tok, tl))
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

/* Join mount point, and our path relative to the mount's root. */
static void join_path(char *out, const char *mnt, const char *mroot, const char *path)
{
    size_t rl = strlen(mroot);
    if (strcmp(mroot, "/") && !strncmp(path, mroot, rl))
        path += rl;
    if (!strcmp(path, "/"))
        path = "";
    snprintf(out, PATH_MAX, "%s%s", mnt, path);
}

/* Where the hierarchies are mounted (mountinfo) and where this process sits
 * in them (/proc/self/cgroup). Mount points and roots are kept as short heap
 * strings: PATH_MAX buffers on the stack would fault in ~70 KiB of pages. */
static void discover(cg_where *w)
{
    w->v2[0] = w->v2top[0] = 0;
    char *v2mnt = NULL, *v2root = NULL, *v1mnt[5] = {0}, *v1root[5] = {0};
    for (int i = 0; i < 5; i++)
        w->v1[i][0] = 0;
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    while (f && getline(&line, &cap, f) > 0) {
        /* fields: id parent major:minor root mountpoint ... - fstype source superopts */
        char *dash = strstr(line, " - ");
        if (!dash)
            continue;
        *dash = 0;
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        for (int k = 0; tok && k < 3; k++)
            tok = strtok_r(NULL, " ", &save);
        char *root = tok, *mnt = tok ? strtok_r(NULL, " ", &save) : NULL;
        char *fstype = strtok_r(dash + 3, " ", &save);
        char *src = fstype ? strtok_r(NULL, " ", &save) : NULL;
        char *superopts = src ? strtok_r(NULL, " \n", &save) : NULL;
        if (!mnt || !superopts)
            continue;
        if (!strcmp(fstype, "cgroup2") && !v2mnt) {
            v2mnt = strdup(mnt);
            v2root = strdup(root);
        } else if (!strcmp(fstype, "cgroup")) {
            for (int i = 0; i < 5; i++)
                if (!v1mnt[i] && has_token(superopts, v1_names[i])) {
                    v1mnt[i] = strdup(mnt);
                    v1root[i] = strdup(root);
                }
        }
    }
    if (f)
        fclose(f);
    f = fopen("/proc/self/cgroup", "re");
    while (f && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = 0;
        *c2 = 0;
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (!strcmp(line, "0") && !*ctrls) {
            if (v2mnt && v2root) {
                join_path(w->v2, v2mnt, v2root, path);
                snprintf(w->v2top, sizeof w->v2top, "%s", v2mnt);
            }
            continue;
        }
        for (int i = 0; i < 5; i++)
            if (v1mnt[i] && v1root[i] && has_token(ctrls, v1_names[i]))
                join_path(w->v1[i], v1mnt[i], v1root[i], path);
    }
    if (f)
        fclose(f);
    free(line);
    free(v2mnt);
    free(v2root);
    for (int i = 0; i < 5; i++) {
        free(v1mnt[i]);
        free(v1root[i]);
    }
}

/* Make ctrl available to children of dir (v2). */
static int v2_enable(const char *dir, const char *ctrl)
{
    char buf[512];
    if (lcs_read_file(dir, "cgroup.controllers", buf, sizeof buf) < 0)
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    for (char *t = buf; t;) {
        char *sp = strchr(t, ' ');
        if (sp)
            *sp = 0;
        if (!strcmp(t, ctrl)) {
            char sub[512], plus[64];
            if (lcs_read_file(dir, "cgroup.subtree_control", sub, sizeof sub) == 0) {
                sub[strcspn(sub, "\n")] = 0;
                for (char *s = sub; s;) {
                    char *sp2 = strchr(s, ' ');
                    if (sp2)
                        *sp2 = 0;
                    if (!strcmp(s, ctrl))
                        return 0;
                    s = sp2 ? sp2 + 1 : NULL;
                }
            }
            snprintf(plus, sizeof plus, "+%s", ctrl);
            return lcs_write_file(dir, "cgroup.subtree_control", plus);
        }
        t = sp ? sp + 1 : NULL;
    }
    errno = ENOENT;
    return -1;
}

/* Our own cgroup holds processes, so (no-internal-process rule) it cannot
 * give memory to children. Where we may write the top of the hierarchy
 * (root on the host, where the top is the root cgroup), sandboxes go under
 * LCS_CG_V2_BASE there instead, as Docker's cgroupfs driver does. This is
 * safe: the top may hand out controllers although it holds processes, and
 * the base never holds any (only the sandboxes' cgroups below it do), so
 * it can hand them on. On success w->v2 is the base. */
static int v2_shared_base(cg_where *w)
{
    char base[PATH_MAX];
    if (!w->v2top[0] || !strcmp(w->v2top, w->v2) || access(w->v2top, W_OK) != 0)
        return -1;
    if ((size_t)snprintf(base, sizeof base, "%s/" LCS_CG_V2_BASE, w->v2top) >= sizeof base)
        return -1;
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
        return -1;
    static const char *const c[3] = {"memory", "pids", "cpu"};
    for (int i = 0; i < 3; i++)
        if (v2_enable(w->v2top, c[i]) < 0 || v2_enable(base, c[i]) < 0)
            return -1;
    snprintf(w->v2, sizeof w->v2, "%s", base);
    return 0;
}

static void note_missing(lcs_cgroup *cg, const char *what)
{
    size_t n = strlen(cg->why_missing);
    snprintf(cg->why_missing + n, sizeof cg->why_missing - n, "%s%s", n ? "; " : "", what);
}

static int make_dir(char *out, const char *parent, const char *name, lcs_error *err)
{
    snprintf(out, PATH_MAX, "%s/%s", parent, name);
    if (mkdir(out, 0755) < 0 && errno != EEXIST) {
        int saved = errno;
        out[0] = 0;
        errno = saved;
        return lcs_fail_errno(err, "create cgroup %s/%s (is the cgroup delegated to you?)",
                              parent, name);
    }
    return 0;
}

int lcs_cg_create(lcs_cgroup *cg, const char *name, const lcs_cg_limits *lim, lcs_error *err)
{
    /* field by field: a memset of the path buffers would fault in 25 KiB */
    char *dirs[6] = {cg->mem, cg->pids, cg->cpu, cg->acct, cg->freezer, cg->v2};
    for (int i = 0; i < 6; i++)
        dirs[i][0] = 0;
    cg->v2_top[0] = cg->v2_init[0] = 0;
    cg->mem_v = cg->pids_v = cg->cpu_v = cg->acct_v = cg->kill_v = 0;
    cg->why_missing[0] = 0;
    cg->v2_busy = 0;
    cg_where w;
    discover(&w);
    static const char *const v2c[3] = {"memory", "pids", "cpu"};
    int in_v2[3] = {0, 0, 0};
    if (w.v2[0] && access(w.v2, W_OK) == 0) {
        for (int i = 0; i < 3; i++) {
            in_v2[i] = v2_enable(w.v2, v2c[i]) == 0;
            /* EBUSY: the kernel's no-internal-process rule. A cgroup other
             * than the root that holds processes (ours does: we are in it)
             * cannot give domain controllers (memory) to children. Say so:
             * "no writable controller" would send the caller looking for a
             * permission problem. */
            if (!in_v2[i] && errno == EBUSY) {
                char msg[PATH_MAX + 160];
                snprintf(msg, sizeof msg,
                         "cgroup v2 cannot give %s to children of %s: it holds processes "
                         "(only the root cgroup or one without processes can)",
                         v2c[i], w.v2);
                note_missing(cg, msg);
                cg->v2_busy = 1;
            }
        }
        if (cg->v2_busy && v2_shared_base(&w) == 0) {
            /* Every controller is available under the shared base. */
            cg->v2_busy = 0;
            cg->why_missing[0] = 0;
            in_v2[0] = in_v2[1] = in_v2[2] = 1;
        }
        if (lim && lim->session && in_v2[0]) {
            /* A session with its memory limit in v2: top/init holds init,
             * outside the limits (an OOM kill can only take commands), and
             * top/work the limits and the execs. top hands the controllers
             * down (it never holds a process itself). */
            if (make_dir(cg->v2_top, w.v2, name, err) < 0)
                return -1;
            for (int i = 0; i < 3; i++)
                if (in_v2[i] && v2_enable(cg->v2_top, v2c[i]) < 0) {
                    lcs_fail_errno(err, "enable %s in %s", v2c[i], cg->v2_top);
                    lcs_cg_destroy(cg);
                    return -1;
                }
            if (make_dir(cg->v2_init, cg->v2_top, "init", err) < 0 ||
                make_dir(cg->v2, cg->v2_top, "work", err) < 0) {
                lcs_cg_destroy(cg);
                return -1;
            }
        } else if (make_dir(cg->v2, w.v2, name, err) < 0) {
            return -1;
        }
        cg->acct_v = LCS_CG_V2; /* cpu.stat usage_usec exists without the cpu controller */
        if (access(cg->v2, F_OK) == 0) {
            char p[PATH_MAX + 32];
            snprintf(p, sizeof p, "%s/cgroup.kill", cg->v2);
            if (access(p, F_OK) == 0)
                cg->kill_v = LCS_CG_V2;
        }
        cg->mem_v = in_v2[0] ? LCS_CG_V2 : 0;
        cg->pids_v = in_v2[1] ? LCS_CG_V2 : 0;
        cg->cpu_v = in_v2[2] ? LCS_CG_V2 : 0;
        if (cg->mem_v)
            strcpy(cg->mem, cg->v2);
        if (cg->pids_v)
            strcpy(cg->pids, cg->v2);
        if (cg->cpu_v)
            strcpy(cg->cpu, cg->v2);
        if (cg->acct_v)
            strcpy(cg->acct, cg->v2);
    }
    /* What v2 could not give, v1 may. */
    char *dst[5] = {cg->mem, cg->pids, cg->cpu, cg->acct, cg->freezer};
    int *ver[5] = {&cg->mem_v, &cg->pids_v, &cg->cpu_v, &cg->acct_v, NULL};
    for (int i = 0; i < 5; i++) {
        if (ver[i] && *ver[i])
            continue;
        if (i == 4 && cg->kill_v)
            continue; /* the freezer is only needed to kill without cgroup.kill */
        if (!w.v1[i][0] || access(w.v1[i], W_OK) != 0) {
            if (i < 3) {
                char msg[128];
                snprintf(msg, sizeof msg, "no writable %s controller (cgroup v2 or v1)",
                         v1_names[i]);
                note_missing(cg, msg);
            }
            continue;
        }
        if (make_dir(dst[i], w.v1[i], name, err) < 0) {
            lcs_cg_destroy(cg);
            return -1;
        }
        if (ver[i])
            *ver[i] = LCS_CG_V1;
        else
            cg->kill_v = LCS_CG_V1;
    }
    if (lcs_cg_v2_limits(cg, lim, err) < 0 || lcs_cg_v1_limits(cg, lim, err) < 0) {
        lcs_cg_destroy(cg);
        return -1;
    }
    return 0;
}

/* The directories init joins, each once, with the hierarchy's version: all
 * of the sandbox's but, with init_apart, the one holding the memory limit
 * (an OOM there then has only commands to choose from, whatever their
 * sizes; init's own memory is the runtime's, small and bounded). */
static int init_dirs(const lcs_cgroup *cg, const char *dirs[6], int vers[6])
{
    const char *all[6] = {cg->mem, cg->pids, cg->cpu, cg->acct, cg->freezer, cg->v2};
    const int v[6] = {cg->mem_v, cg->pids_v, cg->cpu_v, cg->acct_v, LCS_CG_V1, LCS_CG_V2};
    int n = 0;
    for (int i = 0; i < 6; i++) {
        /* split session (v2_init): init's cgroup2 directory is init/ */
        if (cg->v2_init[0] && all[i] == cg->v2) {
            dirs[n] = cg->v2_init;
            vers[n++] = LCS_CG_V2;
            continue;
        }
        if (cg->v2_init[0] && !strcmp(all[i], cg->v2))
            continue; /* work/: the limits init stays out of */
        if (!all[i][0] || (cg->init_apart && cg->mem_v && !strcmp(all[i], cg->mem)))
            continue;
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= !strcmp(all[i], all[j]);
        if (dup)
            continue;
        dirs[n] = all[i];
        vers[n++] = v[i];
    }
    return n;
}

int lcs_cg_v2_joined(const lcs_cgroup *cg)
{
    const char *dirs[6];
    int vers[6], n = init_dirs(cg, dirs, vers);
    for (int i = 0; i < n; i++)
        if (vers[i] == LCS_CG_V2)
            return 1;
    return 0;
}

const char *lcs_cg_v2_init_dir(const lcs_cgroup *cg)
{
    return cg->v2_init[0] ? cg->v2_init : cg->v2;
}

const char *lcs_cg_v2_common_dir(const lcs_cgroup *cg)
{
    return cg->v2_top[0] ? cg->v2_top : cg->v2;
}

int lcs_cg_open_v1_tasks(const lcs_cgroup *cg, int fds[6], lcs_error *err)
{
    const char *dirs[6];
    int vers[6], n = init_dirs(cg, dirs, vers), k = 0;
    for (int i = 0; i < n; i++) {
        if (vers[i] != LCS_CG_V1)
            continue;
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/tasks", dirs[i]);
        /* Opened here, by the caller: the kernel checks a cgroup v1 write
         * against the credentials of whoever opened the file, so init (in
         * its user namespace) may write "0" through this descriptor. */
        if ((fds[k] = open(p, O_WRONLY | O_CLOEXEC)) < 0) {
            int e = errno;
            while (k > 0)
                close(fds[--k]);
            errno = e;
            return lcs_fail_errno(err, "open %s", p);
        }
        k++;
    }
    return k;
}

int lcs_cg_attach_v2(lcs_cgroup *cg, pid_t pid, lcs_error *err)
{
    if (!lcs_cg_v2_joined(cg))
        return 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    const char *d = lcs_cg_v2_init_dir(cg);
    if (lcs_write_file(d, "cgroup.procs", buf) < 0)
        return lcs_fail_errno(err, "move the sandbox into cgroup %s", d);
    return 0;
}

void lcs_cg_kill(lcs_cgroup *cg)
{
    if (cg->kill_v == LCS_CG_V2)
        lcs_cg_v2_kill(cg);
    else
        lcs_cg_v1_kill(cg);
}

void lcs_cg_stats_read(const lcs_cgroup *cg, lcs_cg_stats *st)
{
    memset(st, 0, sizeof *st);
    lcs_cg_v1_stats(cg, st);
    lcs_cg_v2_stats(cg, st);
}

void lcs_cg_destroy(lcs_cgroup *cg)
{
    char *dirs[6] = {cg->mem, cg->pids, cg->cpu, cg->acct, cg->freezer, cg->v2};
    for (int i = 0; i < 6; i++) {
        if (!dirs[i][0])
            continue;
        /* Bounded: the tasks are dead once init was reaped; the kernel may
         * need a moment to let go of the directory. */
        for (int tries = 0; tries < 200; tries++) {
            if (rmdir(dirs[i]) == 0 || errno == ENOENT)
                break;
            if (errno != EBUSY)
                break;
            lcs_cg_kill(cg);
            usleep(5000);
        }
    }
    /* then the split session's init/ and top/ (top/work is v2 above) */
    char *more[2] = {cg->v2_init, cg->v2_top};
    for (int i = 0; i < 2; i++) {
        for (int tries = 0; more[i][0] && tries < 200; tries++) {
            if (rmdir(more[i]) == 0 || errno != EBUSY)
                break;
            lcs_cg_kill(cg);
            usleep(5000);
        }
    }
    for (int i = 0; i < 6; i++)
        dirs[i][0] = 0;
    cg->v2_top[0] = cg->v2_init[0] = 0;
}

void lcs_cg_rmdir_children(const char *dir)
{
    if (!dir || !dir[0])
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        char p[PATH_MAX + 256];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        /* bounded: the kernel may need a moment after the last exit */
        for (int tries = 0; tries < 100; tries++) {
            if (rmdir(p) == 0 || errno != EBUSY)
                break;
            usleep(5000);
        }
    }
    closedir(d);
}

/* For doctor: where this process's cgroups are and what they offer. */
json_t *lcs_cg_probe_json(void)
{
    cg_where w;
    discover(&w);
    json_t *o = json_object();
    int v1 = 0;
    for (int i = 0; i < 5; i++)
        v1 |= w.v1[i][0] != 0;
    const char *layout = w.v2[0] && v1 ? "hybrid" : w.v2[0] ? "v2" : v1 ? "v1" : "none";
    json_object_set_new(o, "layout", json_string(layout));
    if (w.v2[0]) {
        char buf[512] = "";
        lcs_read_file(w.v2, "cgroup.controllers", buf, sizeof buf);
        buf[strcspn(buf, "\n")] = 0;
        char kp[PATH_MAX + 32];
        snprintf(kp, sizeof kp, "%s/cgroup.kill", w.v2);
        json_object_set_new(o, "v2", json_pack("{s:s,s:b,s:s,s:b}", "path", w.v2, "writable",
                                               access(w.v2, W_OK) == 0, "controllers", buf,
                                               "kill", access(kp, F_OK) == 0));
    }
    json_t *v1o = json_object();
    for (int i = 0; i < 5; i++)
        if (w.v1[i][0])
            json_object_set_new(v1o, v1_names[i],
                                json_pack("{s:s,s:b}", "path", w.v1[i], "writable",
                                          access(w.v1[i], W_OK) == 0));
    json_object_set_new(o, "v1", v1o);
    return o;
}
