/*
 * test_fsops.c - host-side file operations confined to a sandbox's root.
 *
 * Each test builds a fake sandbox root in a temporary directory and a
 * "host" directory next to it holding a secret file and a directory that
 * sandboxed code must never reach. The attacks are planted for real
 * (symlinks absolute and relative, "..", fifos, devices, hard links, loops);
 * teardown checks that the host files are intact and that no fd leaked,
 * and an alarm turns any hang into a failure.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "session/fsops.h"
#include "util/archive_dl.h"

#define SECRET "HOST SECRET\n"
#define KEEP "host keep\n"

typedef struct fx {
    char base[64];     /* temporary directory holding everything */
    char root[128];    /* base/root: the sandbox root */
    char secret[128];  /* base/secret: a host file */
    char hostdir[128]; /* base/hostdir: a host directory, with a file "keep" */
    int root_fd;
    int fds_before;
} fx;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fd);
    if (len)
        *len = n;
    return buf;
}

static void spit(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Host path of a sandbox path (for planting and checking only). */
static const char *in_root(const fx *f, const char *sandbox_path)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, PATH_MAX, "%s%s", f->root, sandbox_path);
    return b;
}

static const char *work(const fx *f, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, PATH_MAX, "%s/home/sandbox/work/%s", f->root, rel);
    return b;
}

static void expect_secret_intact(const fx *f)
{
    char *s = slurp(f->secret, NULL);
    assert_non_null(s);
    assert_string_equal(s, SECRET);
    free(s);
    char keep[PATH_MAX];
    snprintf(keep, sizeof keep, "%s/keep", f->hostdir);
    s = slurp(keep, NULL);
    assert_non_null(s);
    assert_string_equal(s, KEEP);
    free(s);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->base, sizeof f->base, "/tmp/lcs-fsops-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->root, sizeof f->root, "%s/root", f->base);
    snprintf(f->secret, sizeof f->secret, "%s/secret", f->base);
    snprintf(f->hostdir, sizeof f->hostdir, "%s/hostdir", f->base);
    assert_int_equal(mkdir(f->root, 0755), 0);
    assert_int_equal(mkdir(in_root(f, "/home"), 0755), 0);
    assert_int_equal(mkdir(in_root(f, "/home/sandbox"), 0755), 0);
    assert_int_equal(mkdir(in_root(f, "/home/sandbox/work"), 0755), 0);
    assert_int_equal(mkdir(f->hostdir, 0755), 0);
    spit(f->secret, SECRET);
    char keep[PATH_MAX];
    snprintf(keep, sizeof keep, "%s/keep", f->hostdir);
    spit(keep, KEEP);
    f->fds_before = count_fds();
    f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->root_fd >= 0);
    alarm(60); /* a hang (e.g. on a fifo) fails the test run */
    *state = f;
    return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int teardown(void **state)
{
    fx *f = *state;
    alarm(0);
    expect_secret_intact(f);
    close(f->root_fd);
    assert_int_equal(count_fds(), f->fds_before);
    nftw(f->base, rm_one, 32, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void put(const fx *f, const char *sandbox_path, const char *text)
{
    spit(in_root(f, sandbox_path), text);
}

/* Read a sandbox file with lcs_fs_read_data; NULL on error (err filled). */
static char *get(const fx *f, const char *path, lcs_error *err)
{
    void *data;
    size_t len;
    if (lcs_fs_read_data(f->root_fd, path, &data, &len, err) < 0)
        return NULL;
    assert_int_equal(strlen(data), len);
    return data;
}

static int wr(const fx *f, const char *path, const char *text, bool append, lcs_error *err)
{
    return lcs_fs_write_data(f->root_fd, path, text, strlen(text), 0644, append, (uid_t)-1,
                             (gid_t)-1, err);
}

/* ------------------------------------------------------------------ tests */

static void ten_megabytes_of_random_bytes_round_trip_through_a_pipe(void **state)
{
    fx *f = *state;
    size_t n = 10u << 20;
    unsigned char *data = malloc(n);
    assert_non_null(data);
    for (size_t off = 0; off < n;) {
        ssize_t r = getrandom(data + off, n - off, 0);
        assert_true(r > 0);
        off += (size_t)r;
    }
    /* Stream from a pipe fed by a child: the size is unknown to the writer. */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        for (size_t off = 0; off < n;) {
            ssize_t w = write(p[1], data + off, n - off);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    lcs_error err;
    if (lcs_fs_write(f->root_fd, "big.bin", p[0], 0600, false, (uid_t)-1, (gid_t)-1, &err) < 0)
        fail_msg("%s", err.message);
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Back out through lcs_fs_read into a host file, and into memory. */
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/out.bin", f->base);
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(ofd >= 0);
    if (lcs_fs_read(f->root_fd, "/home/sandbox/work/big.bin", ofd, &err) < 0)
        fail_msg("%s", err.message);
    close(ofd);
    size_t len;
    char *back = slurp(out, &len);
    assert_int_equal(len, n);
    assert_memory_equal(back, data, n);
    free(back);
    void *mem;
    assert_int_equal(lcs_fs_read_data(f->root_fd, "big.bin", &mem, &len, &err), 0);
    assert_int_equal(len, n);
    assert_memory_equal(mem, data, n);
    assert_int_equal(((char *)mem)[n], '\0');
    lcs_free(mem);
    struct stat st;
    assert_int_equal(stat(work(f, "big.bin"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(data);
}

static void names_with_spaces_quotes_dollars_newlines_and_unicode_work(void **state)
{
    fx *f = *state;
    const char *names[] = {"with space",     "quote'\"s", "$HOME and $(id)", "new\nline",
                           "unicodé ✓ 文件", "-dash",     ".hidden"};
    lcs_error err;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (wr(f, names[i], names[i], false, &err) < 0)
            fail_msg("%s: %s", names[i], err.message);
        char *back = get(f, names[i], &err);
        assert_non_null(back);
        assert_string_equal(back, names[i]);
        free(back);
        char *host = slurp(work(f, names[i]), NULL);
        assert_string_equal(host, names[i]);
        free(host);
    }
    lcs_file_list l;
    assert_int_equal(lcs_fs_list(f->root_fd, ".", false, &l, &err), 0);
    assert_int_equal(l.count, sizeof names / sizeof *names);
    bool saw_newline = false;
    for (size_t i = 0; i < l.count; i++)
        saw_newline |= strcmp(l.items[i].name, "new\nline") == 0;
    assert_true(saw_newline);
    lcs_file_list_clear(&l);
}

static void empty_paths_are_refused(void **state)
{
    fx *f = *state;
    lcs_error err;
    assert_int_equal(wr(f, "", "x", false, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    void *d;
    size_t n;
    assert_int_equal(lcs_fs_read_data(f->root_fd, "", &d, &n, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_int_equal(lcs_fs_remove(f->root_fd, NULL, true, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    /* "/" and everything that cleans to it cannot be written or removed. */
    assert_int_equal(wr(f, "/", "x", false, &err), -1);
    assert_int_equal(lcs_fs_remove(f->root_fd, "../../../..", true, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_int_equal(access(in_root(f, "/home/sandbox/work"), F_OK), 0);
}

static void read_through_an_absolute_symlink_to_a_host_path_stays_in_the_sandbox(void **state)
{
    fx *f = *state;
    assert_int_equal(symlink(f->secret, work(f, "link")), 0);
    lcs_error err;
    /* The target path does not exist inside the sandbox: not found. */
    assert_null(get(f, "link", &err));
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    /* If the sandbox has its own file at that path, that one is read. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", f->secret);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(lcs_fs_mkdir(f->root_fd, dir, true, 0755, (uid_t)-1, (gid_t)-1, &err), 0);
    put(f, f->secret, "sandbox's own\n");
    char *s = get(f, "link", &err);
    assert_non_null(s);
    assert_string_equal(s, "sandbox's own\n");
    free(s);
    /* lcs_fs_read (streaming) behaves the same. */
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_int_equal(lcs_fs_read(f->root_fd, "link", devnull, &err), 0);
    close(devnull);
}

static void read_through_relative_escaping_symlinks_stays_in_the_sandbox(void **state)
{
    fx *f = *state;
    /* From root/home/sandbox/work, four ".." reach the host's base dir. */
    assert_int_equal(symlink("../../../../secret", work(f, "rel")), 0);
    assert_int_equal(symlink("../../../../../../../../../../secret", work(f, "deep")), 0);
    assert_int_equal(symlink("/proc/self/root/etc/passwd", work(f, "magic")), 0);
    lcs_error err;
    const char *links[] = {"rel", "deep", "magic"};
    for (size_t i = 0; i < 3; i++) {
        assert_null(get(f, links[i], &err));
        assert_int_equal(err.code, LCS_E_NOT_FOUND);
    }
    /* Clamped at the sandbox root, "../../../../secret" is /secret. */
    put(f, "/secret", "clamped\n");
    char *s = get(f, "rel", &err);
    assert_string_equal(s, "clamped\n");
    free(s);
    s = get(f, "deep", &err);
    assert_string_equal(s, "clamped\n");
    free(s);
}

static void dotdot_paths_are_clamped_at_the_sandbox_root(void **state)
{
    fx *f = *state;
    lcs_error err;
    /* Naively joined, this is the host secret. */
    assert_null(get(f, "../../../../secret", &err));
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_null(get(f, "../../../../../../../../etc/passwd", &err));
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_int_equal(lcs_fs_stat(f->root_fd, "/../../secret", &(lcs_file_info){0}, &err), -1);
    /* A write lands on the sandbox's /secret, never the host's. */
    if (wr(f, "../../../../secret", "inside\n", false, &err) < 0)
        fail_msg("%s", err.message);
    char *s = slurp(in_root(f, "/secret"), NULL);
    assert_string_equal(s, "inside\n");
    free(s);
    /* Removal too. */
    assert_int_equal(lcs_fs_remove(f->root_fd, "../../../../secret", false, &err), 0);
    assert_int_equal(access(in_root(f, "/secret"), F_OK), -1);
    assert_int_equal(lcs_fs_remove(f->root_fd, "../../../../secret", false, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    lcs_file_info fi;
    assert_int_equal(lcs_fs_stat(f->root_fd, "a/../..//./work/", &fi, &err), 0);
    assert_string_equal(fi.path, "/home/sandbox/work");
    assert_string_equal(fi.name, "work");
    assert_true(fi.is_directory);
    lcs_file_info_clear(&fi);
}

static void write_through_a_planted_symlink_replaces_the_link(void **state)
{
    fx *f = *state;
    assert_int_equal(symlink(f->secret, work(f, "abs")), 0);
    assert_int_equal(symlink("../../../../secret", work(f, "rel")), 0);
    lcs_error err;
    assert_int_equal(wr(f, "abs", "replaced\n", false, &err), 0);
    assert_int_equal(wr(f, "rel", "replaced\n", false, &err), 0);
    struct stat st;
    assert_int_equal(lstat(work(f, "abs"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(lstat(work(f, "rel"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    char *s = slurp(work(f, "abs"), NULL);
    assert_string_equal(s, "replaced\n");
    free(s);
    /* Appending through a symlink is refused, not followed. */
    assert_int_equal(symlink(f->secret, work(f, "abs2")), 0);
    assert_int_equal(wr(f, "abs2", "appended\n", true, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "symbolic link");
    /* No temporary files are left behind. */
    lcs_file_list l;
    assert_int_equal(lcs_fs_list(f->root_fd, ".", false, &l, &err), 0);
    assert_int_equal(l.count, 3);
    lcs_file_list_clear(&l);
}

static void a_parent_directory_symlinked_outside_is_confined(void **state)
{
    fx *f = *state;
    assert_int_equal(symlink(f->hostdir, work(f, "out")), 0);
    assert_int_equal(symlink("../../../../hostdir", work(f, "rout")), 0);
    lcs_error err;
    const char *dirs[] = {"out", "rout"};
    for (size_t i = 0; i < 2; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s/keep", dirs[i]);
        assert_null(get(f, p, &err));
        assert_int_equal(err.code, LCS_E_NOT_FOUND);
        assert_int_equal(wr(f, p, "owned\n", false, &err), -1);
        assert_int_equal(err.code, LCS_E_NOT_FOUND);
        assert_int_equal(wr(f, p, "owned\n", true, &err), -1);
        assert_int_equal(lcs_fs_remove(f->root_fd, p, true, &err), -1);
        assert_int_equal(err.code, LCS_E_NOT_FOUND);
        lcs_file_list l;
        assert_int_equal(lcs_fs_list(f->root_fd, dirs[i], true, &l, &err), -1);
        assert_int_equal(err.code, LCS_E_NOT_FOUND);
        snprintf(p, sizeof p, "%s/newdir", dirs[i]);
        assert_int_equal(lcs_fs_mkdir(f->root_fd, p, false, 0755, (uid_t)-1, (gid_t)-1, &err), -1);
        assert_int_equal(err.code, LCS_E_NOT_FOUND);
    }
    /* mkdir -p does not turn a dangling link into a directory... */
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "out/newdir", true, 0750, (uid_t)-1, (gid_t)-1, &err),
                     -1);
    assert_int_equal(err.code, LCS_E_EXISTS);
    /* ...but once its target exists inside the root, goes through it
     * there: the host path, taken as a sandbox path. */
    assert_int_equal(lcs_fs_mkdir(f->root_fd, f->hostdir, true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
    assert_int_equal(
        lcs_fs_mkdir(f->root_fd, "out/newdir/sub", true, 0750, (uid_t)-1, (gid_t)-1, &err), 0);
    char host_new[PATH_MAX];
    snprintf(host_new, sizeof host_new, "%s/newdir", f->hostdir);
    assert_int_equal(access(host_new, F_OK), -1);
    char inside[PATH_MAX];
    snprintf(inside, sizeof inside, "%s%s/newdir/sub", f->root, f->hostdir);
    struct stat st;
    assert_int_equal(stat(inside, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750);
    /* Now the link resolves (within the root), and a write lands there. */
    assert_int_equal(wr(f, "out/newdir/file", "in root\n", false, &err), 0);
    snprintf(inside, sizeof inside, "%s%s/newdir/file", f->root, f->hostdir);
    assert_int_equal(access(inside, F_OK), 0);
    assert_int_equal(access(host_new, F_OK), -1);
}

static void a_fifo_or_device_is_refused_at_once(void **state)
{
    fx *f = *state;
    assert_int_equal(mkfifo(work(f, "fifo"), 0644), 0);
    assert_int_equal(symlink("fifo", work(f, "to-fifo")), 0);
    lcs_error err;
    time_t t0 = time(NULL);
    assert_null(get(f, "fifo", &err));
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "is a fifo");
    assert_null(get(f, "to-fifo", &err));
    assert_contains(err.message, "is a fifo");
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_int_equal(lcs_fs_read(f->root_fd, "fifo", devnull, &err), -1);
    close(devnull);
    /* Appending to a fifo without a reader neither blocks nor writes. */
    assert_int_equal(wr(f, "fifo", "x", true, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_true(time(NULL) - t0 < 5);
    /* Directories are refused too. */
    assert_null(get(f, ".", &err));
    assert_contains(err.message, "is a directory");
    if (geteuid() == 0) {
        assert_int_equal(mknod(work(f, "null"), S_IFCHR | 0666, makedev(1, 3)), 0);
        assert_null(get(f, "null", &err));
        assert_contains(err.message, "is a character device");
    }
}

static void hard_links_read_their_own_inode_and_are_never_written_through(void **state)
{
    fx *f = *state;
    put(f, "/home/sandbox/work/a", "shared\n");
    assert_int_equal(link(work(f, "a"), work(f, "b")), 0);
    lcs_error err;
    char *s = get(f, "b", &err);
    assert_string_equal(s, "shared\n");
    free(s);
    /* A sandbox cannot name a host file, so it cannot hard-link one; the
     * host can (same filesystem here). Even then, writes replace the name
     * and appends refuse shared inodes: the linked inode is not changed. */
    assert_int_equal(link(f->secret, work(f, "hl")), 0);
    assert_int_equal(wr(f, "hl", "overwrite\n", true, &err), -1);
    assert_int_equal(err.code, LCS_E_DENIED);
    assert_int_equal(wr(f, "hl", "overwrite\n", false, &err), 0);
    s = get(f, "hl", &err);
    assert_string_equal(s, "overwrite\n");
    free(s);
    s = slurp(work(f, "a"), NULL);
    assert_string_equal(s, "shared\n");
    free(s);
}

static void removing_a_symlink_removes_only_the_link(void **state)
{
    fx *f = *state;
    assert_int_equal(symlink(f->secret, work(f, "abs")), 0);
    assert_int_equal(symlink(f->hostdir, work(f, "dirlink")), 0);
    put(f, "/home/sandbox/work/target", "t\n");
    assert_int_equal(symlink("target", work(f, "rel")), 0);
    lcs_error err;
    assert_int_equal(lcs_fs_remove(f->root_fd, "abs", false, &err), 0);
    assert_int_equal(lcs_fs_remove(f->root_fd, "dirlink", true, &err), 0);
    assert_int_equal(lcs_fs_remove(f->root_fd, "rel", false, &err), 0);
    assert_int_equal(access(work(f, "target"), F_OK), 0);
    struct stat st;
    assert_int_equal(lstat(work(f, "abs"), &st), -1);
    assert_int_equal(lstat(work(f, "dirlink"), &st), -1);
    assert_int_equal(lcs_fs_remove(f->root_fd, "abs", false, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
}

static void recursive_remove_of_a_tree_with_links_outside_leaves_the_host_intact(void **state)
{
    fx *f = *state;
    lcs_error err;
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "t/a/b/c", true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
    put(f, "/home/sandbox/work/t/a/file", "f\n");
    assert_int_equal(symlink(f->hostdir, work(f, "t/a/host")), 0);
    assert_int_equal(symlink("../../../../../../hostdir", work(f, "t/a/b/rhost")), 0);
    assert_int_equal(symlink(f->secret, work(f, "t/a/b/c/secret")), 0);
    assert_int_equal(symlink("..", work(f, "t/a/b/up")), 0);
    assert_int_equal(link(f->secret, work(f, "t/hardsecret")), 0);
    assert_int_equal(lcs_fs_remove(f->root_fd, "t", false, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "not empty");
    assert_int_equal(lcs_fs_remove(f->root_fd, "t", true, &err), 0);
    assert_int_equal(access(work(f, "t"), F_OK), -1);
    assert_int_equal(access(work(f, ""), F_OK), 0);
}

static void recursive_list_terminates_on_symlink_loops_and_is_sorted(void **state)
{
    fx *f = *state;
    lcs_error err;
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "d/e", true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
    assert_int_equal(symlink(".", work(f, "d/self")), 0);
    assert_int_equal(symlink("..", work(f, "d/e/up")), 0);
    assert_int_equal(symlink("/", work(f, "d/root")), 0);
    assert_int_equal(symlink(f->hostdir, work(f, "d/host")), 0);
    put(f, "/home/sandbox/work/d-file", "xyz");
    lcs_file_list l;
    if (lcs_fs_list(f->root_fd, "/home/sandbox/work", true, &l, &err) < 0)
        fail_msg("%s", err.message);
    const char *want[] = {"/home/sandbox/work/d",      "/home/sandbox/work/d-file",
                          "/home/sandbox/work/d/e",    "/home/sandbox/work/d/e/up",
                          "/home/sandbox/work/d/host", "/home/sandbox/work/d/root",
                          "/home/sandbox/work/d/self"};
    assert_int_equal(l.count, sizeof want / sizeof *want);
    for (size_t i = 0; i < l.count; i++) {
        assert_string_equal(l.items[i].path, want[i]);
        assert_not_contains(l.items[i].path, "keep");
    }
    assert_true(l.items[0].is_directory);
    assert_int_equal(l.items[1].size, 3);
    assert_string_equal(l.items[1].name, "d-file");
    assert_true(l.items[3].is_symlink);
    assert_false(l.items[3].is_directory);
    lcs_file_list_clear(&l);
    /* Listing a path that is a symlink to a directory follows it, within
     * the root: d/root is "/", i.e. the sandbox root. */
    assert_int_equal(lcs_fs_list(f->root_fd, "d/root", false, &l, &err), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].name, "home");
    lcs_file_list_clear(&l);
    assert_int_equal(lcs_fs_list(f->root_fd, "d-file", false, &l, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
}

static void walks_deeper_than_the_limit_fail(void **state)
{
    fx *f = *state;
    char path[PATH_MAX] = "deep";
    for (int i = 0; i < LCS_FS_MAX_DEPTH + 2; i++)
        strcat(path, "/d");
    lcs_error err;
    assert_int_equal(lcs_fs_mkdir(f->root_fd, path, true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
    lcs_file_list l;
    assert_int_equal(lcs_fs_list(f->root_fd, "deep", true, &l, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "deeper than 64");
    assert_null(l.items);
    /* Removal has its own, larger bound and copes. */
    assert_int_equal(lcs_fs_remove(f->root_fd, "deep", true, &err), 0);
}

static void stat_describes_a_symlink_without_following_it(void **state)
{
    fx *f = *state;
    assert_int_equal(symlink(f->secret, work(f, "abs")), 0);
    lcs_file_info fi;
    lcs_error err;
    assert_int_equal(lcs_fs_stat(f->root_fd, "abs", &fi, &err), 0);
    assert_true(fi.is_symlink);
    assert_false(fi.is_directory);
    assert_int_equal(fi.size, strlen(f->secret));
    assert_string_equal(fi.path, "/home/sandbox/work/abs");
    lcs_file_info_clear(&fi);
    assert_int_equal(lcs_fs_stat(f->root_fd, "/", &fi, &err), 0);
    assert_true(fi.is_directory);
    assert_string_equal(fi.path, "/");
    lcs_file_info_clear(&fi);
    assert_int_equal(lcs_fs_stat(f->root_fd, "missing", &fi, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
}

static void a_missing_parent_is_not_found_and_named(void **state)
{
    fx *f = *state;
    lcs_error err;
    assert_int_equal(wr(f, "nodir/sub/file", "x", false, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_contains(err.message, "directory /home/sandbox/work/nodir does not exist");
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "nodir/sub", false, 0, (uid_t)-1, (gid_t)-1, &err),
                     -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    assert_contains(err.message, "/home/sandbox/work/nodir");
    assert_int_equal(access(work(f, "nodir"), F_OK), -1);
    /* A file in the middle of the path is not a directory. */
    put(f, "/home/sandbox/work/file", "f");
    assert_int_equal(wr(f, "file/x", "x", false, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "file/x", true, 0, (uid_t)-1, (gid_t)-1, &err), -1);
    assert_int_equal(err.code, LCS_E_EXISTS);
    /* A directory is never overwritten by a file. */
    assert_int_equal(mkdir(work(f, "dir"), 0755), 0);
    assert_int_equal(wr(f, "dir", "x", false, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_contains(err.message, "is a directory");
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "dir", false, 0, (uid_t)-1, (gid_t)-1, &err), -1);
    assert_int_equal(err.code, LCS_E_EXISTS);
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "dir", true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
}

static void append_adds_to_the_end_and_creates_missing_files(void **state)
{
    fx *f = *state;
    lcs_error err;
    assert_int_equal(wr(f, "log", "one\n", true, &err), 0);
    assert_int_equal(wr(f, "log", "two\n", true, &err), 0);
    char *s = get(f, "log", &err);
    assert_string_equal(s, "one\ntwo\n");
    free(s);
    assert_int_equal(wr(f, "log", "three\n", false, &err), 0);
    s = get(f, "log", &err);
    assert_string_equal(s, "three\n");
    free(s);
    assert_int_equal(wr(f, "empty", "", false, &err), 0);
    s = get(f, "empty", &err);
    assert_string_equal(s, "");
    free(s);
}

static void mkdir_parents_through_a_symlink_to_root_is_confined(void **state)
{
    fx *f = *state;
    assert_int_equal(symlink("/../../..", work(f, "up")), 0);
    assert_int_equal(symlink("/nonexistent", work(f, "dangling")), 0);
    lcs_error err;
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "up/a/b", true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
    assert_int_equal(access(in_root(f, "/a/b"), F_OK), 0);
    char outside[PATH_MAX];
    snprintf(outside, sizeof outside, "%s/a", f->base);
    assert_int_equal(access(outside, F_OK), -1);
    /* A dangling link is not silently replaced by a directory. */
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "dangling/x", true, 0, (uid_t)-1, (gid_t)-1, &err),
                     -1);
    assert_int_equal(err.code, LCS_E_EXISTS);
    struct stat st;
    assert_int_equal(lstat(work(f, "dangling"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

/* Read a tar stream back with libarchive: "type name [-> target]" lines. */
static char *tar_listing(const char *path, char **payload)
{
    lcs_archive_lib al;
    lcs_error err;
    if (lcs_archive_open(&al, &err) < 0)
        fail_msg("%s", err.message);
    struct archive *a = al.read_new();
    al.read_support_format_tar(a);
    assert_int_equal(al.read_open_filename(a, path, 10240), ARCHIVE_OK);
    size_t cap = 8192, n = 0;
    char *out = calloc(1, cap);
    struct archive_entry *e;
    while (al.read_next_header(a, &e) == ARCHIVE_OK) {
        mode_t t = al.entry_filetype(e);
        const char *ln = al.entry_symlink(e);
        n += (size_t)snprintf(out + n, cap - n, "%c %s%s%s\n",
                              t == AE_IFDIR   ? 'd'
                              : t == AE_IFLNK ? 'l'
                              : t == AE_IFREG ? 'f'
                                              : '?',
                              al.entry_pathname(e), ln ? " -> " : "", ln ? ln : "");
        if (t == AE_IFREG && strcmp(al.entry_pathname(e), "src/data.bin") == 0) {
            *payload = calloc(1, 64);
            assert_true(al.read_data(a, *payload, 63) >= 0);
        }
        assert_int_equal(al.entry_perm(e) & (S_ISUID | S_ISGID), 0);
    }
    al.read_free(a);
    lcs_archive_close(&al);
    return out;
}

static void export_tar_archives_symlinks_as_links_and_never_their_targets(void **state)
{
    fx *f = *state;
    lcs_error err;
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "src/sub", true, 0, (uid_t)-1, (gid_t)-1, &err), 0);
    put(f, "/home/sandbox/work/src/data.bin", "payload\n");
    assert_int_equal(chmod(work(f, "src/data.bin"), 04755), 0);
    put(f, "/home/sandbox/work/src/sub/name with space", "s\n");
    assert_int_equal(symlink(f->secret, work(f, "src/abs")), 0);
    assert_int_equal(symlink(f->hostdir, work(f, "src/hostdir")), 0);
    assert_int_equal(symlink("../../../../../secret", work(f, "src/sub/rel")), 0);
    assert_int_equal(mkfifo(work(f, "src/fifo"), 0644), 0);
    /* A hard link to the host secret (the host made it, see above) is
     * exported as the inode it is inside the root: documented, not an
     * escape, so the secret check below uses symlinks only. */
    char tarpath[PATH_MAX];
    snprintf(tarpath, sizeof tarpath, "%s/out.tar", f->base);
    int tfd = open(tarpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(tfd >= 0);
    if (lcs_fs_export_tar(f->root_fd, NULL, tfd, &err) < 0)
        fail_msg("%s", err.message);
    close(tfd);
    char *payload = NULL;
    char *ls = tar_listing(tarpath, &payload);
    char want[2048];
    snprintf(want, sizeof want,
             "d src/\n"
             "l src/abs -> %s\n"
             "f src/data.bin\n"
             "l src/hostdir -> %s\n"
             "d src/sub/\n"
             "f src/sub/name with space\n"
             "l src/sub/rel -> ../../../../../secret\n",
             f->secret, f->hostdir);
    assert_string_equal(ls, want);
    assert_string_equal(payload, "payload\n");
    free(ls);
    free(payload);
    /* GNU tar agrees, and extracting gives links, not the host's files. */
    char cmd[4 * PATH_MAX], dest[PATH_MAX];
    snprintf(dest, sizeof dest, "%s/extract", f->base);
    assert_int_equal(mkdir(dest, 0700), 0);
    snprintf(cmd, sizeof cmd, "tar -tvf '%s' >/dev/null && tar -xf '%s' -C '%s'", tarpath, tarpath,
             dest);
    assert_int_equal(system(cmd), 0);
    char p[2 * PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s/src/abs", dest);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    snprintf(p, sizeof p, "%s/src/data.bin", dest);
    char *s = slurp(p, NULL);
    assert_string_equal(s, "payload\n");
    free(s);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755); /* the set-uid bit was dropped */
    /* The archive holds no byte of the secret. */
    size_t len;
    char *raw = slurp(tarpath, &len);
    assert_null(memmem(raw, len, "HOST SECRET", 11));
    free(raw);
    /* Exporting a file, or a missing directory, fails cleanly. */
    tfd = open(tarpath, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_int_equal(lcs_fs_export_tar(f->root_fd, "src/data.bin", tfd, &err), -1);
    assert_int_equal(err.code, LCS_E_INVALID);
    assert_int_equal(lcs_fs_export_tar(f->root_fd, "src/abs", tfd, &err), -1);
    assert_int_equal(err.code, LCS_E_NOT_FOUND);
    close(tfd);
}

/* A sandbox's 1 GiB sparse file costs it one page. Every host-side copy
 * must cost the host about that too: holes stay holes in a host file, a
 * pipe (which must get the zeros) is held to a budget, reads into memory
 * are bounded, and the tar member is sparse. */
static void sparse_files_cost_the_host_what_they_cost_the_sandbox(void **state)
{
    fx *f = *state;
    lcs_error err;
    const off_t size = (off_t)1 << 30;
    int fd = open(work(f, "sparse"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "needle", 6, 500000000), 6);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
    /* to a host file: lcs_fs_read (no budget) and with a budget */
    char out[2 * PATH_MAX];
    snprintf(out, sizeof out, "%s/copy", f->base);
    int ofd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(ofd >= 0);
    if (lcs_fs_read(f->root_fd, "sparse", ofd, &err) < 0)
        fail_msg("%s", err.message);
    struct stat st;
    assert_int_equal(fstat(ofd, &st), 0);
    assert_int_equal(st.st_size, size);
    if ((uint64_t)st.st_blocks * 512 > (1u << 20))
        fail_msg("the host copy allocated %lld bytes", (long long)st.st_blocks * 512);
    char buf[8] = {0};
    assert_int_equal(pread(ofd, buf, 6, 500000000), 6);
    assert_string_equal(buf, "needle");
    close(ofd);
    ofd = open(out, O_RDWR | O_TRUNC | O_CLOEXEC);
    uint64_t written = 0;
    if (lcs_fs_read_max(f->root_fd, "sparse", ofd, 64 * 1024, &written, &err) < 0)
        fail_msg("%s", err.message);
    assert_true(written > 0 && written <= 64 * 1024);
    close(ofd);
    /* into an existing file (its old bytes must not show through a hole)
     * and through O_APPEND (offsets are ignored): the zeros are written */
    fd = open(work(f, "small2"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_int_equal(pwrite(fd, "z", 1, 4096), 1);
    assert_int_equal(ftruncate(fd, 8192), 0);
    close(fd);
    for (int mode = 0; mode < 2; mode++) {
        ofd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        char junk[8192];
        memset(junk, 'J', sizeof junk);
        assert_int_equal(write(ofd, junk, sizeof junk), (ssize_t)sizeof junk);
        if (mode == 0) {
            assert_int_equal(lseek(ofd, 0, SEEK_SET), 0);
        } else {
            close(ofd);
            ofd = open(out, O_WRONLY | O_APPEND | O_CLOEXEC);
        }
        if (lcs_fs_read(f->root_fd, "small2", ofd, &err) < 0)
            fail_msg("%s", err.message);
        close(ofd);
        size_t len = 0;
        char *got2 = slurp(out, &len);
        const char *c = mode == 0 ? got2 : got2 + 8192;
        assert_int_equal(len, mode == 0 ? 8192 : 16384);
        assert_int_equal(c[0], 0);
        assert_int_equal(c[4095], 0);
        assert_int_equal(c[4096], 'z');
        assert_int_equal(c[4097], 0);
        free(got2);
    }
    /* to a pipe: the hole would be 500 MB of zeros, over the budget */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(lcs_fs_read_max(f->root_fd, "sparse", p[1], 64 * 1024, NULL, &err), -1);
    assert_int_equal(err.code, LCS_E_DENIED);
    assert_non_null(strstr(err.message, "copy budget of 65536 bytes"));
    /* a small sparse file reaches a pipe whole, zeros included */
    fd = open(work(f, "small"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_int_equal(pwrite(fd, "z", 1, 4096), 1);
    assert_int_equal(ftruncate(fd, 8192), 0);
    close(fd);
    if (lcs_fs_read_max(f->root_fd, "small", p[1], 0, &written, &err) < 0)
        fail_msg("%s", err.message);
    assert_int_equal(written, 8192);
    close(p[1]);
    char pb[8192];
    size_t got = 0;
    for (ssize_t r; got < sizeof pb && (r = read(p[0], pb + got, sizeof pb - got)) > 0;)
        got += (size_t)r;
    close(p[0]);
    assert_int_equal(got, 8192);
    assert_int_equal(pb[4095], 0);
    assert_int_equal(pb[4096], 'z');
    /* into memory: at most what was asked */
    void *d = NULL;
    size_t n = 0;
    uint64_t total = 0;
    if (lcs_fs_read_prefix(f->root_fd, "sparse", 4096, &d, &n, &total, &err) < 0)
        fail_msg("%s", err.message);
    assert_int_equal(n, 4096);
    assert_int_equal(total, (uint64_t)size);
    free(d);
    /* export: a sparse member, restored sparse by GNU tar */
    char tarpath[PATH_MAX], dest[PATH_MAX], cmd[4 * PATH_MAX];
    snprintf(tarpath, sizeof tarpath, "%s/sparse.tar", f->base);
    snprintf(dest, sizeof dest, "%s/untar", f->base);
    int tfd = open(tarpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (lcs_fs_export_tar(f->root_fd, NULL, tfd, &err) < 0)
        fail_msg("%s", err.message);
    assert_int_equal(fstat(tfd, &st), 0);
    if (st.st_size > (1 << 20))
        fail_msg("the archive of a sparse file is %lld bytes", (long long)st.st_size);
    assert_int_equal(mkdir(dest, 0700), 0);
    snprintf(cmd, sizeof cmd, "tar -xf '%s' -C '%s' sparse", tarpath, dest);
    assert_int_equal(system(cmd), 0);
    snprintf(out, sizeof out, "%s/sparse", dest);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, size);
    assert_true((uint64_t)st.st_blocks * 512 <= (1u << 20));
    /* ... and unpacked by our own extraction, holes kept */
    snprintf(dest, sizeof dest, "%s/keep", f->base);
    assert_int_equal(mkdir(dest, 0700), 0);
    int rfd = open(tarpath, O_RDONLY | O_CLOEXEC);
    if (lcs_tar_extract_max(rfd, dest, 1 << 20, &err) < 0)
        fail_msg("%s", err.message);
    close(rfd);
    snprintf(out, sizeof out, "%s/sparse", dest);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, size);
    assert_true((uint64_t)st.st_blocks * 512 <= (1u << 20));
    /* the export's budget counts file data */
    assert_int_equal(ftruncate(tfd, 0), 0);
    assert_int_equal(lcs_fs_export_tar_max(f->root_fd, NULL, tfd, 3, &err), -1);
    assert_int_equal(err.code, LCS_E_DENIED);
    assert_non_null(strstr(err.message, "copy budget of 3 bytes"));
    close(tfd);
}

static void new_files_and_directories_get_the_given_owner(void **state)
{
    fx *f = *state;
    if (geteuid() != 0)
        skip();
    lcs_error err;
    assert_int_equal(lcs_fs_mkdir(f->root_fd, "o/p", true, 0700, 4242, 4343, &err), 0);
    assert_int_equal(lcs_fs_write_data(f->root_fd, "o/p/f", "x", 1, 0640, false, 4242, 4343, &err),
                     0);
    assert_int_equal(lcs_fs_write_data(f->root_fd, "o/p/g", "x", 1, 0, true, 4242, 4343, &err), 0);
    const char *paths[] = {"o", "o/p", "o/p/f", "o/p/g"};
    const mode_t modes[] = {0700, 0700, 0640, 0644};
    for (size_t i = 0; i < 4; i++) {
        struct stat st;
        /* fstatat relative to the root fd, not following anything. */
        char rel[64];
        snprintf(rel, sizeof rel, "home/sandbox/work/%s", paths[i]);
        assert_int_equal(fstatat(f->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_uid, 4242);
        assert_int_equal(st.st_gid, 4343);
        assert_int_equal(st.st_mode & 07777, modes[i]);
    }
    /* -1 keeps ours; the work directory itself was never re-owned. */
    assert_int_equal(
        lcs_fs_write_data(f->root_fd, "mine", "x", 1, 0, false, (uid_t)-1, (gid_t)-1, &err), 0);
    struct stat st;
    assert_int_equal(lstat(work(f, "mine"), &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(lstat(work(f, ""), &st), 0);
    assert_int_equal(st.st_uid, 0);
}

/* A child process swaps work/d between a real directory and symlinks to
 * the host directory (absolute and relative) as fast as it can, while we
 * write, append, read, list and remove through d. */
static void racing_renames_never_reach_the_host(void **state)
{
    fx *f = *state;
    assert_int_equal(mkdir(work(f, "real"), 0755), 0);
    put(f, "/home/sandbox/work/real/keep", "sandbox keep\n");
    assert_int_equal(symlink(f->hostdir, work(f, "abs")), 0);
    assert_int_equal(symlink("../../../../hostdir", work(f, "rel")), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *names[] = {"real", "abs", "rel"};
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(to, sizeof to, "%s", work(f, "d"));
        for (unsigned i = 0;; i++) {
            /* d <-> one of the three, back and forth. */
            snprintf(from, sizeof from, "%s", work(f, names[i % 3]));
            if (rename(from, to) == 0)
                rename(to, from);
        }
    }
    lcs_error err;
    int reads = 0;
    time_t end = time(NULL) + 2;
    while (time(NULL) < end) {
        wr(f, "d/keep", "owned\n", false, &err);
        wr(f, "d/keep", "owned\n", true, &err);
        char *s = get(f, "d/keep", &err);
        if (s) {
            assert_string_not_equal(s, KEEP);
            reads++;
            free(s);
        }
        lcs_file_list l;
        if (lcs_fs_list(f->root_fd, "d", true, &l, &err) == 0)
            lcs_file_list_clear(&l);
        lcs_fs_remove(f->root_fd, "d/keep", true, &err);
        lcs_fs_mkdir(f->root_fd, "d/sub", true, 0, (uid_t)-1, (gid_t)-1, &err);
        lcs_fs_remove(f->root_fd, "d", true, &err);
        lcs_fs_mkdir(f->root_fd, "d", false, 0, (uid_t)-1, (gid_t)-1, &err);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* the race was run, not only lost: some reads found the real file */
    assert_true(reads > 0);
    expect_secret_intact(f);
    char host_sub[PATH_MAX];
    snprintf(host_sub, sizeof host_sub, "%s/sub", f->hostdir);
    assert_int_equal(access(host_sub, F_OK), -1);
    DIR *d = opendir(f->hostdir);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    assert_int_equal(n, 3); /* ".", "..", "keep": nothing added */
}

/* The sandbox's own mounts (a bind mount such as its output directory) are
 * reachable, kernel filesystems (its /proc: opened from the monitor,
 * /proc/self would be the monitor) never are, and recursive walks do not
 * enter mount points. Needs a private mount namespace: skipped where
 * unavailable. */
static void own_mounts_are_reachable_kernel_filesystems_never(void **state)
{
    fx *f = *state;
    assert_int_equal(mkdir(in_root(f, "/proc"), 0755), 0);
    assert_int_equal(mkdir(in_root(f, "/mnt"), 0755), 0);
    assert_int_equal(symlink("/proc/self/root", work(f, "magic")), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("proc", in_root(f, "/proc"), "proc", 0, NULL) < 0 ||
            mount(f->hostdir, in_root(f, "/mnt"), NULL, MS_BIND, NULL) < 0)
            _exit(77);
        /* An fd opened before unshare still sees the old namespace. */
        int rfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
            _exit(9);
        lcs_error err;
        void *d;
        size_t n;
        if (lcs_fs_read_data(rfd, "/proc/self/status", &d, &n, &err) == 0 ||
            err.code != LCS_E_DENIED) {
            _exit(1);
        }
        if (lcs_fs_read_data(rfd, "/proc/1/environ", &d, &n, &err) == 0 ||
            err.code != LCS_E_DENIED)
            _exit(10);
        if (lcs_fs_read_data(rfd, "/mnt/keep", &d, &n, &err) != 0)
            _exit(2);
        free(d);
        if (lcs_fs_read_data(rfd, "magic/etc/passwd", &d, &n, &err) == 0)
            _exit(3);
        if (lcs_fs_write_data(rfd, "/proc/self/comm", "x", 1, 0, false, (uid_t)-1, (gid_t)-1,
                              &err) == 0)
            _exit(4);
        if (lcs_fs_remove(rfd, "/mnt", true, &err) == 0 || err.code != LCS_E_DENIED)
            _exit(5);
        /* A walk of "/" lists the mount points but does not enter them. */
        lcs_file_list l;
        if (lcs_fs_list(rfd, "/", true, &l, &err) < 0)
            _exit(6);
        bool saw_mnt = false;
        for (size_t i = 0; i < l.count; i++) {
            if (!strncmp(l.items[i].path, "/proc/", 6) || !strncmp(l.items[i].path, "/mnt/", 5))
                _exit(7);
            saw_mnt |= strcmp(l.items[i].path, "/mnt") == 0;
        }
        lcs_file_list_clear(&l);
        _exit(saw_mnt ? 0 : 8);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(ten_megabytes_of_random_bytes_round_trip_through_a_pipe, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(names_with_spaces_quotes_dollars_newlines_and_unicode_work,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(empty_paths_are_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(
        read_through_an_absolute_symlink_to_a_host_path_stays_in_the_sandbox, setup, teardown),
    cmocka_unit_test_setup_teardown(read_through_relative_escaping_symlinks_stays_in_the_sandbox,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(dotdot_paths_are_clamped_at_the_sandbox_root, setup, teardown),
    cmocka_unit_test_setup_teardown(write_through_a_planted_symlink_replaces_the_link, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(a_parent_directory_symlinked_outside_is_confined, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(a_fifo_or_device_is_refused_at_once, setup, teardown),
    cmocka_unit_test_setup_teardown(hard_links_read_their_own_inode_and_are_never_written_through,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(removing_a_symlink_removes_only_the_link, setup, teardown),
    cmocka_unit_test_setup_teardown(
        recursive_remove_of_a_tree_with_links_outside_leaves_the_host_intact, setup, teardown),
    cmocka_unit_test_setup_teardown(recursive_list_terminates_on_symlink_loops_and_is_sorted, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(walks_deeper_than_the_limit_fail, setup, teardown),
    cmocka_unit_test_setup_teardown(stat_describes_a_symlink_without_following_it, setup, teardown),
    cmocka_unit_test_setup_teardown(a_missing_parent_is_not_found_and_named, setup, teardown),
    cmocka_unit_test_setup_teardown(append_adds_to_the_end_and_creates_missing_files, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(mkdir_parents_through_a_symlink_to_root_is_confined, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(export_tar_archives_symlinks_as_links_and_never_their_targets,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(sparse_files_cost_the_host_what_they_cost_the_sandbox, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(new_files_and_directories_get_the_given_owner, setup, teardown),
    cmocka_unit_test_setup_teardown(racing_renames_never_reach_the_host, setup, teardown),
    cmocka_unit_test_setup_teardown(own_mounts_are_reachable_kernel_filesystems_never, setup,
                                    teardown),
};

/* These tests run as root on a real host and use sandbox paths such as
 * /home/sandbox/work and /secret: if a regression let them resolve on the
 * host, the tests would write there. Probe confinement harmlessly first
 * (the host's /etc must be invisible from an empty root) and run nothing
 * if it fails. */
static int confinement_probe(void **state)
{
    (void)state;
    char dir[] = "/tmp/lcs-fsops-probe-XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    lcs_file_info fi;
    lcs_error err;
    int rc = lcs_fs_stat(fd, "/etc", &fi, &err) == -1 && err.code == LCS_E_NOT_FOUND &&
                     lcs_fs_stat(fd, "../../../../../etc", &fi, &err) == -1 &&
                     err.code == LCS_E_NOT_FOUND
                 ? 0
                 : -1;
    if (rc < 0)
        fprintf(stderr, "test_fsops: paths escape the root; not running tests that write\n");
    close(fd);
    rmdir(dir);
    return rc;
}

int main(void)
{
    return cmocka_run_group_tests(tests, confinement_probe, NULL);
}
