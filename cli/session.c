/*
 * session.c - the session subcommands of llmcore-sandbox: create, exec,
 * cp, ls, rm, ps, export, doctor (hooked from main.c through
 * cli_session_command). Exit codes as for `run` (see main.c): 2 usage,
 * 3 not found, 4 invalid, 1 other; exec returns the command's status,
 * 128+N for a signal, 124 on timeout, 125 when a limit stopped it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "llmcore/sandbox.h"
#include "util/jsonbytes.h"


static const char create_help[] =
    "Usage: llmcore-sandbox create [--image I | --task T | --runtime R | --rootfs DIR]\n"
    "                              [OPTIONS]\n"
    "\n"
    "Start a session: a sandbox that stays up for many execs and file transfers\n"
    "until 'rm' (or its idle timeout). Prints the session id.\n"
    "\n"
    "Options (limits as for 'run'; --timeout is the default per exec):\n"
    "  -m, --memory SIZE  --cpus N  --pids-limit N  --timeout SECONDS\n"
    "      --network none|full  --mode restricted|full  -e, --env NAME=VALUE\n"
    "  -w, --workdir DIR  --input DIR  --output DIR  --output-limit SIZE  --disk SIZE\n"
    "      --seccomp FILE  --allow-above-limits  --allow-degraded\n"
    "      --label TEXT         shown by 'ps'\n"
    "      --idle-timeout S     destroy the session after S seconds unused\n"
    CLI_BACKEND_HELP
    "      --json               print the session's status as JSON\n";

static const char exec_help[] =
    "Usage: llmcore-sandbox exec [-i] [-e NAME=VALUE]... [-w DIR] [--timeout S]\n"
    "                            [--output-limit SIZE] [--json] ID -- COMMAND [ARG...]\n"
    "\n"
    "Run a command in a session; output streams live. A single argument\n"
    "with spaces after -- is run as-is (use sh -c for shell syntax).\n"
    "  -i, --interactive  feed this command's stdin to the command\n"
    "Exit status: the command's own; 128+N on signal N; 124 timeout; 125 limits.\n";

static const char cp_help[] =
    "Usage: llmcore-sandbox cp [--max-bytes SIZE] SRC DST\n"
    "\n"
    "Copy a file into or out of a session: one of SRC and DST is ID:PATH\n"
    "(relative paths are relative to /home/sandbox/work), the other a host\n"
    "path or '-' (stdin/stdout). Binary-safe.\n"
    "Out of a session: holes of a sparse file stay holes in a host file (a\n"
    "pipe gets the zeros); the copy goes to a temporary file in DST's\n"
    "directory that replaces DST only when complete, so a failed copy leaves\n"
    "DST as it was. --max-bytes: the most the host writes (default 4g; holes\n"
    "are free); a larger copy stops with an error naming the budget.\n";

static const char ls_help[] =
    "Usage: llmcore-sandbox ls [-R] [--json] ID [PATH]\n"
    "\n"
    "List a directory of a session (default: the workspace). Names are the\n"
    "sandbox's: control characters, invalid UTF-8, bidirectional controls and\n"
    "backslashes are shown as \\ escapes (\\n, \\x1b, \\u202e, \\\\); --json\n"
    "gives valid JSON (invalid UTF-8 as U+FFFD, \"path_bytes\" then has the\n"
    "name's bytes in hex).\n";

static const char rm_help[] =
    "Usage: llmcore-sandbox rm [--keep-workspace DIR [--max-bytes SIZE]] ID...\n"
    "\n"
    "Destroy sessions: processes, cgroups, network, mounts and directories go.\n"
    "--keep-workspace copies the workspace into DIR first (one session only),\n"
    "streamed and keeping holes; --max-bytes is the most it writes (default\n"
    "4g): past it the session is kept and the error names the budget.\n";

static const char ps_help[] =
    "Usage: llmcore-sandbox ps [--json]\n"
    "\n"
    "List running sessions (and clean up those whose monitor died).\n";

static const char export_help[] =
    "Usage: llmcore-sandbox export [--max-bytes SIZE] ID [PATH] > FILE.tar\n"
    "\n"
    "Write a tar archive of a session directory (default: the workspace).\n"
    "Files with holes are sparse members (only their data is in the archive);\n"
    "--max-bytes is the most file data it carries (default 4g): past it the\n"
    "export stops with an error naming the budget.\n";

static const char doctor_help[] =
    "Usage: llmcore-sandbox doctor [--json]\n"
    "\n"
    "Check what this host can enforce (user namespaces, overlayfs, cgroups,\n"
    "seccomp, pasta, ...) and how to fix what is missing. Exit 0 when the\n"
    "default policy can run, 1 otherwise.\n";

/* ------------------------------------------------------------- create */

static int cmd_create(const char *store, bool json, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(create_help, stdout);
        return CLI_OK;
    }
    lcs_session_options so;
    lcs_session_options_init(&so);
    const char *task = NULL, *runtime = NULL;
    const char **env = calloc((size_t)argc + 1, sizeof *env);
    if (!env)
        return CLI_FAIL;
    size_t ne = 0;
    static const struct option opts[] = {
        {"image", 1, 0, 'I'}, {"task", 1, 0, 'T'}, {"runtime", 1, 0, 'R'},
        {"rootfs", 1, 0, 'F'}, {"seccomp", 1, 0, 'S'}, {"label", 1, 0, 'L'},
        {"idle-timeout", 1, 0, 'X'}, {"json", 0, 0, 'j'}, CLI_POLICY_OPTIONS,
        CLI_BACKEND_OPTIONS, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o, rc = CLI_OK;
#define INV(fmt, a)                                                                            \
    do {                                                                                       \
        fprintf(stderr, "llmcore-sandbox create: " fmt "\n", a);                               \
        rc = CLI_INVALID;                                                                        \
        goto out;                                                                              \
    } while (0)
    while ((o = getopt_long(argc, argv, "+m:e:w:", opts, NULL)) != -1) {
        switch (o) {
        case 'I': so.image = optarg; break;
        case 'T': task = optarg; break;
        case 'R': runtime = optarg; break;
        case 'F': so.rootfs = optarg; break;
        case 'S': so.seccomp_profile = optarg; break;
        case 'L': so.label = optarg; break;
        case 1010: so.backend = optarg; break;
        case 1011: so.engine = optarg; break;
        case 'X':
            if (cli_parse_positive(optarg, &so.idle_timeout_seconds))
                INV("--idle-timeout '%s' is not a positive number of seconds", optarg);
            break;
        case 'j': json = true; break;
        default:
            switch (cli_policy_option("create", o, optarg, &so.overrides, env, &ne)) {
            case 1: break;
            case 0:
                rc = cli_usage("create", "unknown or incomplete option '%s'", argv[optind - 1]);
                goto out;
            default: rc = CLI_INVALID; goto out;
            }
        }
    }
    if (optind < argc) {
        rc = cli_usage("create", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if ((so.image != NULL) + (so.rootfs != NULL) + (task != NULL || runtime != NULL) != 1) {
        rc = cli_usage("create", "%s", "give exactly one of --image, --rootfs, or --task/--runtime");
        goto out;
    }
    so.overrides.env = env;
    lcs_error err;
    lcs_error_clear(&err);
    lcs_registry *reg = NULL;
    lcs_selection sel;
    memset(&sel, 0, sizeof sel);
    if (!so.rootfs) {
        lcs_registry_options ro;
        lcs_registry_options_init(&ro);
        ro.store_dir = store;
        if (!(reg = lcs_registry_new(&ro, &err))) {
            rc = cli_report("create", &err);
            goto out;
        }
    }
    if (task || runtime) {
        lcs_selector *sl = lcs_selector_new(reg, NULL, &err);
        int bad = !sl || (task ? lcs_select_for_task(sl, task, runtime, 0, &sel, &err)
                               : lcs_select_for_runtime(sl, runtime, &sel, &err));
        lcs_selector_free(sl);
        if (bad) {
            rc = cli_report("create", &err);
            goto out_reg;
        }
        so.image = sel.image;
        if (so.overrides.access_mode < 0)
            so.overrides.access_mode = (int)sel.access_mode;
    }
    lcs_session *s = NULL;
    if (lcs_session_create(reg, &so, &s, &err) != 0) {
        rc = cli_report("create", &err);
        goto out_reg;
    }
    if (json) {
        char *st = lcs_session_status_json(s, &err);
        puts(st ? st : "{}");
        lcs_free(st);
    } else {
        puts(lcs_session_id(s));
    }
    lcs_session_close(s);
out_reg:
    lcs_selection_clear(&sel);
    lcs_registry_free(reg);
out:
    free(env);
    return rc;
#undef INV
}

/* --------------------------------------------------------------- exec */

static void stream_out(void *ctx, int stream, const char *data, size_t len)
{
    (void)ctx;
    FILE *f = stream == 2 ? stderr : stdout;
    fwrite(data, 1, len, f);
    fflush(f);
}

static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, stdin);
        n += r;
        if (r == 0)
            break;
    }
    *len = n;
    return b;
}

static int cmd_exec(bool json, int argc, char **argv)
{
    int dd = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            dd = i;
            break;
        }
    if (cli_has_help(dd, argv)) {
        fputs(exec_help, stdout);
        return CLI_OK;
    }
    lcs_exec_options eo;
    unsigned long long size = 0;
    lcs_exec_options_init(&eo);
    const char **env = calloc((size_t)argc + 1, sizeof *env);
    if (!env)
        return CLI_FAIL;
    size_t ne = 0;
    bool interactive = false;
    static const struct option opts[] = {
        {"interactive", 0, 0, 'i'}, {"env", 1, 0, 'e'}, {"workdir", 1, 0, 'w'},
        {"timeout", 1, 0, 't'}, {"output-limit", 1, 0, 'o'}, {"json", 0, 0, 'j'},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o, rc = CLI_OK;
    char *in = NULL;
    while ((o = getopt_long(dd, argv, "+ie:w:", opts, NULL)) != -1) {
        switch (o) {
        case 'i': interactive = true; break;
        case 'e': env[ne++] = optarg; break;
        case 'w': eo.cwd = optarg; break;
        case 't':
            if (cli_parse_positive(optarg, &eo.timeout_seconds)) {
                fprintf(stderr, "llmcore-sandbox exec: --timeout '%s' is not a positive number\n",
                        optarg);
                rc = CLI_INVALID;
                goto out;
            }
            break;
        case 'o':
            if (cli_parse_size(optarg, &size) || !(eo.output_bytes = size)) {
                fprintf(stderr, "llmcore-sandbox exec: --output-limit '%s' is not a size\n",
                        optarg);
                rc = CLI_INVALID;
                goto out;
            }
            break;
        case 'j': json = true; break;
        default: rc = cli_usage("exec", "unknown or incomplete option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind != dd - 1 || dd >= argc - 1) {
        rc = cli_usage("exec", "%s", "usage: exec [OPTIONS] ID -- COMMAND [ARG...]");
        goto out;
    }
    const char *id = argv[optind];
    eo.argv = (const char *const *)argv + dd + 1;
    eo.env = env;
    if (!json) {
        eo.on_output = stream_out;
    }
    if (interactive) {
        size_t len = 0;
        in = read_stdin(&len);
        eo.stdin_data = in;
        eo.stdin_len = len;
    }
    lcs_error err;
    lcs_error_clear(&err);
    lcs_session *s = lcs_session_open(id, &err);
    if (!s) {
        rc = cli_report("exec", &err);
        goto out;
    }
    lcs_run_result r;
    if (lcs_session_exec(s, &eo, &r, &err) != 0) {
        rc = cli_report("exec", &err);
        lcs_session_close(s);
        goto out;
    }
    lcs_session_close(s);
    rc = cli_run_status(&r);
    if (json) {
        /* streamed: the output is escaped into stdout, never copied */
        if (lcs_run_result_write_json(&r, stdout, &err) < 0)
            rc = cli_report("exec", &err);
    } else {
        if (r.stdout_truncated || r.stderr_truncated)
            fprintf(stderr, "llmcore-sandbox: output truncated at the output limit\n");
        if (strcmp(r.verdict, "ok") && strcmp(r.verdict, "exit"))
            fprintf(stderr, "llmcore-sandbox: verdict %s after %.2f s\n", r.verdict,
                    r.wall_seconds);
    }
    lcs_run_result_clear(&r);
out:
    free(in);
    free(env);
    return rc;
}

/* ----------------------------------------------------------------- cp */

/* "ID:PATH" -> id (copied into idbuf), path; NULL if a host path. */
static const char *split_ref(const char *a, char *idbuf, size_t len)
{
    const char *c = strchr(a, ':');
    if (!c || c == a || strchr(a, '/') < c) {
        if (!c || c == a || (strchr(a, '/') && strchr(a, '/') < c))
            return NULL;
    }
    size_t n = (size_t)(c - a);
    if (n >= len)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", a[i]))
            return NULL;
    memcpy(idbuf, a, n);
    idbuf[n] = 0;
    return c + 1;
}

/* "--max-bytes SIZE" at argv[*i]: the copy budget. Returns 1 when taken
 * (and *i moved past it), 0 when argv[*i] is something else, -1 (reported)
 * when SIZE is not a size. */
static int take_budget(const char *cmd, int argc, char **argv, int *i, uint64_t *budget)
{
    if (strcmp(argv[*i], "--max-bytes"))
        return 0;
    unsigned long long v = 0;
    if (*i + 1 >= argc || cli_parse_size(argv[*i + 1], &v) || !v) {
        fprintf(stderr, "llmcore-sandbox %s: --max-bytes needs a size (e.g. 512m, 8g)\n", cmd);
        return -1;
    }
    *budget = v;
    *i += 2;
    return 1;
}

/* A fresh file next to `dest` for the copy to go into: O_EXCL, so it is
 * ours alone; it replaces dest by rename only once complete. */
static int temp_next_to(const char *dest, char *tmp, size_t cap)
{
    char *copy = strdup(dest);
    if (!copy)
        return -1;
    const char *dir = dirname(copy);
    for (int i = 0; i < 100; i++) {
        unsigned r = 0;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
            r = 0;
        r ^= (unsigned)getpid() * 2654435761u + (unsigned)i;
        snprintf(tmp, cap, "%s/.llmcore-sandbox-cp.%08x", dir, r);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) {
            free(copy);
            return fd;
        }
    }
    free(copy);
    errno = EEXIST;
    return -1;
}

/* Sandbox -> host. The destination is replaced only by a complete copy. */
static int cp_out(lcs_session *s, const char *sp, const char *dst, uint64_t budget)
{
    lcs_error err;
    lcs_error_clear(&err);
    if (!strcmp(dst, "-")) {
        if (lcs_session_read_file_max(s, sp, 1, budget, NULL, &err) != 0)
            return cli_report("cp", &err);
        return CLI_OK;
    }
    char target[8192];
    struct stat st;
    if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *copy = strdup(sp);
        snprintf(target, sizeof target, "%s/%s", dst, copy ? basename(copy) : "file");
        free(copy);
    } else {
        snprintf(target, sizeof target, "%s", dst);
    }
    /* An existing destination reached through a symlink is written where
     * the link points, as cp(1) does; its mode is kept. */
    char real[PATH_MAX];
    const char *dest = realpath(target, real) ? real : target;
    mode_t mode = 0;
    bool exists = stat(dest, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "llmcore-sandbox cp: %s is a directory\n", dest);
        return CLI_INVALID;
    }
    if (exists && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
    } else {
        mode_t um = umask(0);
        umask(um);
        mode = 0644 & ~um;
    }
    char tmp[8192 + 64];
    int fd = temp_next_to(dest, tmp, sizeof tmp);
    if (fd < 0) {
        fprintf(stderr, "llmcore-sandbox cp: cannot create a temporary file next to %s: %s\n",
                dest, strerror(errno));
        return CLI_FAIL;
    }
    int rc = CLI_OK;
    /* The replacement keeps the old file's owner when we may give it. */
    if (exists && geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) &&
        fchown(fd, st.st_uid, st.st_gid) < 0) {
        fprintf(stderr, "llmcore-sandbox cp: %s: cannot keep its owner: %s\n", dest,
                strerror(errno));
        rc = CLI_FAIL;
    } else if (lcs_session_read_file_max(s, sp, fd, budget, NULL, &err) != 0) {
        rc = cli_report("cp", &err);
    } else if (fchmod(fd, mode) < 0 || close(fd) < 0) {
        fd = -1;
        fprintf(stderr, "llmcore-sandbox cp: %s: %s\n", tmp, strerror(errno));
        rc = CLI_FAIL;
    } else {
        fd = -1;
        /* rename(2) is atomic: dest is the old file or the whole new one. */
        if (rename(tmp, dest) < 0) {
            fprintf(stderr, "llmcore-sandbox cp: %s: %s\n", dest, strerror(errno));
            rc = CLI_FAIL;
        }
    }
    if (fd >= 0)
        close(fd);
    if (rc != CLI_OK) {
        unlink(tmp);
        if (exists)
            fprintf(stderr, "llmcore-sandbox cp: %s was left as it was\n", dest);
    }
    return rc;
}

static int cmd_cp(int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(cp_help, stdout);
        return CLI_OK;
    }
    uint64_t budget = LCS_COPY_BUDGET_DEFAULT;
    char *args[3] = {argv[0], NULL, NULL};
    int na = 1;
    for (int i = 1; i < argc;) {
        int t = take_budget("cp", argc, argv, &i, &budget);
        if (t < 0)
            return CLI_INVALID;
        if (t)
            continue;
        if (na == 3)
            return cli_usage("cp", "%s", "need SRC and DST");
        args[na++] = argv[i++];
    }
    argv = args;
    if (na != 3)
        return cli_usage("cp", "%s", "need SRC and DST");
    char sid[64], did[64];
    const char *sp = split_ref(argv[1], sid, sizeof sid);
    const char *dp = split_ref(argv[2], did, sizeof did);
    if ((sp != NULL) == (dp != NULL))
        return cli_usage("cp", "%s", "exactly one of SRC and DST must be ID:PATH");
    lcs_error err;
    lcs_error_clear(&err);
    lcs_session *s = lcs_session_open(sp ? sid : did, &err);
    if (!s)
        return cli_report("cp", &err);
    int rc = CLI_OK;
    if (dp) {
        /* host -> sandbox */
        int fd = strcmp(argv[1], "-") ? open(argv[1], O_RDONLY | O_CLOEXEC) : 0;
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            fprintf(stderr, "llmcore-sandbox cp: %s: %s\n", argv[1], strerror(errno));
            lcs_session_close(s);
            return errno == ENOENT ? CLI_NOTFOUND : CLI_FAIL;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "llmcore-sandbox cp: %s is a directory (copy files one by one)\n",
                    argv[1]);
            lcs_session_close(s);
            return CLI_INVALID;
        }
        char target[8192];
        lcs_file_info fi;
        memset(&fi, 0, sizeof fi);
        size_t dl = strlen(dp);
        int is_dir = dl == 0 || dp[dl - 1] == '/' ||
                     (lcs_session_stat(s, dp, &fi, NULL) == 0 && fi.is_directory);
        lcs_file_info_clear(&fi);
        if (is_dir && fd != 0) {
            char *copy = strdup(argv[1]);
            snprintf(target, sizeof target, "%s%s%s", dl ? dp : ".",
                     dl && dp[dl - 1] == '/' ? "" : "/", copy ? basename(copy) : "file");
            free(copy);
        } else {
            snprintf(target, sizeof target, "%s", dp);
        }
        if (lcs_session_write_file(s, target, fd, S_ISREG(st.st_mode) ? st.st_mode & 0777 : 0,
                                   &err) != 0)
            rc = cli_report("cp", &err);
        if (fd != 0)
            close(fd);
    } else {
        rc = cp_out(s, sp, argv[2], budget);
    }
    lcs_session_close(s);
    return rc;
}

/* ----------------------------------------------------------------- ls */

/* A name as a JSON string, then, if it is not valid UTF-8, its exact bytes
 * as "path_bytes" (hex). JSON cannot carry invalid UTF-8: it becomes
 * U+FFFD. Controls and deceptive code points are \u escapes (the same
 * string to a JSON reader, inert on a terminal). */
static int json_name(const char *name)
{
    size_t n = strlen(name), cn = 0;
    char *clean = lcs_utf8_sanitize(name, n, &cn);
    if (!clean)
        return CLI_FAIL;
    putchar('"');
    const unsigned char *c = (const unsigned char *)clean;
    for (size_t i = 0; i < cn;) {
        size_t k = lcs_utf8_seq(c + i, cn - i);
        unsigned cp = lcs_utf8_cp(c + i, k ? k : 1);
        if (cp == '"' || cp == '\\')
            printf("\\%c", (int)cp);
        else if (cp < 0x20 || cp == 0x7f || lcs_cp_deceptive(cp))
            printf("\\u%04x", cp);
        else
            fwrite(c + i, 1, k ? k : 1, stdout);
        i += k ? k : 1;
    }
    putchar('"');
    if (cn != n || memcmp(clean, name, n)) {
        fputs(",\"path_bytes\":\"", stdout);
        for (size_t i = 0; i < n; i++)
            printf("%02x", (unsigned char)name[i]);
        putchar('"');
    }
    free(clean);
    return CLI_OK;
}

static int cmd_ls(bool json, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(ls_help, stdout);
        return CLI_OK;
    }
    bool rec = false;
    const char *pos[2] = {NULL, NULL};
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-R") || !strcmp(argv[i], "--recursive"))
            rec = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage("ls", "unknown option '%s'", argv[i]);
        else if (np < 2)
            pos[np++] = argv[i];
        else
            return cli_usage("ls", "unexpected argument '%s'", argv[i]);
    }
    if (!np)
        return cli_usage("ls", "%s", "no session id given");
    lcs_error err;
    lcs_error_clear(&err);
    lcs_session *s = lcs_session_open(pos[0], &err);
    if (!s)
        return cli_report("ls", &err);
    lcs_file_list l;
    memset(&l, 0, sizeof l);
    int rc = CLI_OK;
    if (lcs_session_list_files(s, pos[1], rec, &l, &err) != 0) {
        rc = cli_report("ls", &err);
    } else if (json) {
        fputs("[", stdout);
        for (size_t i = 0; i < l.count && rc == CLI_OK; i++) {
            const lcs_file_info *f = &l.items[i];
            fputs(i ? ",{\"path\":" : "{\"path\":", stdout);
            rc = json_name(f->path);
            printf(",\"type\":\"%s\",\"size\":%llu,\"mode\":%u,\"mtime\":%lld}",
                   f->is_directory ? "directory" : f->is_symlink ? "symlink" : "file",
                   (unsigned long long)f->size, (unsigned)f->mode, (long long)f->mtime);
        }
        puts("]");
    } else {
        for (size_t i = 0; i < l.count; i++) {
            const lcs_file_info *f = &l.items[i];
            const char *name = rec ? f->path : f->name;
            /* The name is the sandbox's: escaped, so that no byte of it
             * drives the terminal or starts a line of its own. */
            char *shown = lcs_text_escape(name, strlen(name));
            if (!shown) {
                fprintf(stderr, "llmcore-sandbox ls: out of memory\n");
                rc = CLI_FAIL;
                break;
            }
            printf("%c%04o %12llu  %s%s\n", f->is_directory ? 'd' : f->is_symlink ? 'l' : '-',
                   (unsigned)f->mode & 07777, (unsigned long long)f->size, shown,
                   f->is_directory ? "/" : "");
            free(shown);
        }
    }
    lcs_file_list_clear(&l);
    lcs_session_close(s);
    return rc;
}

/* ----------------------------------------------------------- rm, ps ... */

static int cmd_rm(int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(rm_help, stdout);
        return CLI_OK;
    }
    const char *keep = NULL;
    uint64_t budget = LCS_COPY_BUDGET_DEFAULT;
    bool budget_given = false;
    int first = 1;
    for (;;) {
        if (argc > first + 1 && !strcmp(argv[first], "--keep-workspace")) {
            keep = argv[first + 1];
            first += 2;
            continue;
        }
        int t = first < argc ? take_budget("rm", argc, argv, &first, &budget) : 0;
        if (t < 0)
            return CLI_INVALID;
        if (!t)
            break;
        budget_given = true;
    }
    if (budget_given && !keep)
        return cli_usage("rm", "%s", "--max-bytes goes with --keep-workspace");
    if (first >= argc)
        return cli_usage("rm", "%s", "no session id given");
    if (keep && argc - first != 1)
        return cli_usage("rm", "%s", "--keep-workspace takes exactly one session");
    int rc = CLI_OK;
    for (int i = first; i < argc; i++) {
        if (argv[i][0] == '-')
            return cli_usage("rm", "unknown option '%s'", argv[i]);
        lcs_error err;
        lcs_error_clear(&err);
        lcs_session *s = lcs_session_open(argv[i], &err);
        if (!s || lcs_session_destroy_keep(s, keep, budget, &err) != 0) {
            int r = cli_report("rm", &err);
            if (rc == CLI_OK)
                rc = r;
            /* A failed workspace copy keeps the session and its handle
             * (sandbox.h): ours is closed, the session stays. */
            if (s && keep &&
                (strstr(err.message, "kept (copying its workspace out failed)") ||
                 !strncmp(err.message, "create ", 7)))
                lcs_session_close(s);
        }
    }
    return rc;
}

static int cmd_ps(bool json, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(ps_help, stdout);
        return CLI_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            return cli_usage("ps", "unexpected argument '%s'", argv[i]);
    }
    lcs_error err;
    lcs_error_clear(&err);
    char *t = lcs_sessions_list_json(&err);
    if (!t)
        return cli_report("ps", &err);
    if (json) {
        puts(t);
        lcs_free(t);
        return CLI_OK;
    }
    /* a small table, parsed back with the library's own JSON: keep it
     * simple and dependency-free here with sscanf-free printing via the
     * status of each session */
    lcs_free(t);
    char *list = lcs_sessions_list_json(&err);
    printf("%-16s  %-36s  %-10s  %s\n", "ID", "IMAGE", "MONITOR", "LABEL");
    /* minimal scan of the array: "id":"..","image":..,"label":..,"monitor_pid":N */
    for (const char *p = list; p && (p = strstr(p, "{\"id\":\"")); p++) {
        char id[64] = "", image[128] = "-", label[256] = "-";
        int mpid = 0;
        sscanf(p, "{\"id\":\"%63[^\"]", id);
        const char *q = strstr(p, "\"image\":\"");
        const char *end = strchr(p + 1, '}');
        if (q && (!end || q < strstr(p, "\"enforced\"") || 1))
            sscanf(q, "\"image\":\"%127[^\"]", image);
        q = strstr(p, "\"label\":\"");
        const char *next = strstr(p + 1, "{\"id\":\"");
        if (q && (!next || q < next))
            sscanf(q, "\"label\":\"%255[^\"]", label);
        q = strstr(p, "\"monitor_pid\":");
        if (q)
            sscanf(q, "\"monitor_pid\":%d", &mpid);
        printf("%-16s  %-36s  %-10d  %s\n", id, image, mpid, label);
    }
    lcs_free(list);
    return CLI_OK;
}

static int cmd_export(int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(export_help, stdout);
        return CLI_OK;
    }
    uint64_t budget = LCS_COPY_BUDGET_DEFAULT;
    char *args[3] = {argv[0], NULL, NULL};
    int na = 1;
    for (int i = 1; i < argc;) {
        int t = take_budget("export", argc, argv, &i, &budget);
        if (t < 0)
            return CLI_INVALID;
        if (t)
            continue;
        if (na == 3)
            return cli_usage("export", "%s", "usage: export [--max-bytes SIZE] ID [PATH] > FILE.tar");
        args[na++] = argv[i++];
    }
    argc = na;
    argv = args;
    if (argc < 2 || argc > 3)
        return cli_usage("export", "%s", "usage: export [--max-bytes SIZE] ID [PATH] > FILE.tar");
    if (isatty(1)) {
        fprintf(stderr, "llmcore-sandbox export: refusing to write a tar archive to a terminal; "
                        "redirect stdout\n");
        return CLI_USAGE;
    }
    lcs_error err;
    lcs_error_clear(&err);
    lcs_session *s = lcs_session_open(argv[1], &err);
    if (!s)
        return cli_report("export", &err);
    int rc = lcs_session_export_max(s, argc == 3 ? argv[2] : NULL, 1, budget, &err)
                 ? cli_report("export", &err)
                 : CLI_OK;
    lcs_session_close(s);
    return rc;
}

static int cmd_doctor(bool json, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(doctor_help, stdout);
        return CLI_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            return cli_usage("doctor", "unexpected argument '%s'", argv[i]);
    }
    lcs_error err;
    lcs_error_clear(&err);
    char *t = lcs_doctor_json(&err);
    if (!t)
        return cli_report("doctor", &err);
    int ok = strstr(t, "\"ok\":true") == t + 1;
    if (json) {
        puts(t);
    } else {
        /* one line per check: "ok name: detail" / "MISSING name: detail; fix: ..." */
        const char *p = strstr(t, "\"checks\":[");
        while (p && (p = strstr(p, "{\"name\":\""))) {
            char name[64] = "", detail[1024] = "", fix[1024] = "";
            int okc = 0;
            sscanf(p, "{\"name\":\"%63[^\"]\",\"ok\":%*[t]%n", name, &okc);
            int is_ok = strncmp(strstr(p, "\"ok\":") + 5, "true", 4) == 0;
            const char *d = strstr(p, "\"detail\":\"");
            if (d)
                sscanf(d, "\"detail\":\"%1023[^\"]", detail);
            const char *f = strstr(p, "\"fix\":\"");
            const char *nx = strstr(p + 1, "{\"name\":\"");
            if (f && (!nx || f < nx))
                sscanf(f, "\"fix\":\"%1023[^\"]", fix);
            printf("%-8s %-22s %s%s%s\n", is_ok ? "ok" : "MISSING", name, detail,
                   !is_ok && fix[0] ? "\n         fix: " : "", !is_ok ? fix : "");
            p++;
        }
        printf("%s\n", ok ? "the default policy can run on this host"
                          : "something the default policy needs is missing (see above)");
    }
    lcs_free(t);
    return ok ? CLI_OK : CLI_FAIL;
}

int cli_session_command(const char *cmd, const char *store, bool json, int argc, char **argv);
int cli_session_command(const char *cmd, const char *store, bool json, int argc, char **argv)
{
    /* Streaming to a closed pipe must not kill the CLI mid-transfer. */
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(cmd, "create"))
        return cmd_create(store, json, argc, argv);
    if (!strcmp(cmd, "exec"))
        return cmd_exec(json, argc, argv);
    if (!strcmp(cmd, "cp"))
        return cmd_cp(argc, argv);
    if (!strcmp(cmd, "ls"))
        return cmd_ls(json, argc, argv);
    if (!strcmp(cmd, "rm"))
        return cmd_rm(argc, argv);
    if (!strcmp(cmd, "ps"))
        return cmd_ps(json, argc, argv);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc, argv);
    if (!strcmp(cmd, "doctor"))
        return cmd_doctor(json, argc, argv);
    return -1;
}
