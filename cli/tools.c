/*
 * tools.c - the `tools` and `mcp` subcommands: tool schemas, the tool
 * policy, tracked runs, and the MCP server over stdio. A thin shell over the
 * library's agent-tools API (sandbox.h, "agent tools").
 *
 * main.c calls cli_agent_command("tools" | "mcp", ...).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "llmcore/sandbox.h"

int cli_agent_command(const char *cmd, const char *store, bool json, int argc, char **argv);


static const char tools_help[] =
    "Usage: llmcore-sandbox tools --schema [--format openai|mcp] [--mode M] [--policy FILE]\n"
    "       llmcore-sandbox tools --list\n"
    "       llmcore-sandbox tools policy [--policy FILE]\n"
    "       llmcore-sandbox tools runs [--runs-dir DIR] [--status S] [--limit N] [--json]\n"
    "       llmcore-sandbox tools cleanup --max-age DAYS [--keep N] [--runs-dir DIR]\n"
    "       llmcore-sandbox tools delete RUN_ID [--runs-dir DIR]\n"
    "\n"
    "The 15 agent tools (execute_shell, execute_python, save_file, load_file,\n"
    "replace_in_file, append_to_file, list_files, file_exists, delete_file,\n"
    "create_directory, get_state, set_state, list_state, get_sandbox_info,\n"
    "get_recorded_files); see docs/tools.md.\n"
    "\n"
    "  --schema          print the tool definitions with JSON Schemas\n"
    "  --format F        openai (default): [{type: function, function: {...}}];\n"
    "                    mcp: [{name, title, description, inputSchema, annotations}]\n"
    "  --mode M          only the tools the policy allows in mode M (restricted|full)\n"
    "  --policy FILE     tool access policy (JSON); default: the built-in policy\n"
    "  --list            print the tool names\n"
    "  policy            print the effective tool policy as JSON\n"
    "  runs              list tracked runs, newest first (IN USE: still active)\n"
    "  cleanup           delete runs older than DAYS (never one in use; keeps the N\n"
    "                    newest, default 10)\n"
    "  delete            delete one run (refused while it is in use)\n"
    "  --runs-dir DIR    runs directory (default: $LLMCORE_SANDBOX_RUNS, else\n"
    "                    /var/lib/llmcore-sandbox/runs for root, else\n"
    "                    ~/.local/share/llmcore-sandbox/runs)\n";

static const char mcp_help[] =
    "Usage: llmcore-sandbox mcp [--task T | --runtime R | --image I | --rootfs DIR]\n"
    "                           [--mode restricted|full] [OPTIONS]\n"
    "\n"
    "Serve the agent tools over the Model Context Protocol on stdin/stdout\n"
    "(newline-delimited JSON-RPC 2.0). One sandbox per connection: created by the\n"
    "first tool call that needs it, destroyed when stdin closes or on SIGTERM,\n"
    "SIGINT or SIGHUP. Diagnostics go to stderr. Default: --task code_execution.\n"
    "\n"
    "Options:\n"
    "  --task T / --runtime R   select the image (and its access mode) for a task\n"
    "                           or runtime\n"
    "  --image I                a built image (name[:tag])\n"
    "  --rootfs DIR             a root filesystem directory (base image policy)\n"
    "  --mode M                 access mode: restricted or full\n"
    "  --policy FILE            tool access policy (JSON, see docs/tools.md)\n"
    "  --timeout SECONDS        default time limit of one command\n"
    "  --output-limit SIZE      cap on a command's stdout and stderr, each\n"
    "  --max-read-bytes SIZE    load_file returns at most SIZE bytes (the rest is\n"
    "                           reported as truncated), replace_in_file refuses\n"
    "                           larger files (default 1m; 0: up to 1g)\n"
    "  --max-copy-bytes SIZE    copy at most SIZE bytes of saved files out at the\n"
    "                           end (default 1g; holes are free; 0: no limit)\n"
    "  --max-copy-files N       copy at most N saved files out (default 1000)\n"
    "  --max-message-size SIZE  largest accepted MCP message (default 64m)\n"
    "  --idle-timeout SECONDS   destroy the sandbox after this long unused\n"
    "                           (default 3600; 0: never)\n"
    "  --runs-dir DIR           where runs are tracked (see 'tools --help')\n"
    "  --no-track               keep no run directory (state in memory only)\n"
    "  --no-copy-outputs        do not copy saved files out at the end\n"
    "  --list-denied-tools      list denied tools in tools/list too\n"
    "  --allow-degraded         run even if this host lacks a protection\n"
    CLI_BACKEND_HELP
    "\n"
    "Register with an MCP client (e.g. Claude Desktop/Code \"mcpServers\"):\n"
    "  {\"mcpServers\": {\"sandbox\": {\"command\": \"llmcore-sandbox\",\n"
    "                               \"args\": [\"mcp\", \"--task\", \"code_execution\"]}}}\n";

static int parse_seconds(const char *s, double *out, bool allow_zero)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= 0) || !isfinite(v) || (!allow_zero && v == 0))
        return -1;
    *out = v;
    return 0;
}

static lcs_tool_policy *load_policy(const char *cmd, const char *path, int *rc)
{
    lcs_error e;
    lcs_error_clear(&e);
    lcs_tool_policy *p = path ? lcs_tool_policy_load_file(path, &e) : lcs_tool_policy_new(&e);
    if (!p)
        *rc = cli_report(cmd, &e);
    return p;
}

/* ---- tools */

static int tools_runs(int argc, char **argv, bool json)
{
    const char *dir = NULL, *status = NULL, *sub = argv[0];
    unsigned long limit = 0, keep = 10;
    double max_age = -1;
    static const struct option opts[] = {
        {"runs-dir", required_argument, 0, 'd'}, {"status", required_argument, 0, 's'},
        {"limit", required_argument, 0, 'l'},    {"json", no_argument, 0, 'j'},
        {"max-age", required_argument, 0, 'a'},  {"keep", required_argument, 0, 'k'},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 's': status = optarg; break;
        case 'l': limit = strtoul(optarg, NULL, 10); break;
        case 'j': json = true; break;
        case 'a':
            if (parse_seconds(optarg, &max_age, true))
                return cli_invalid("tools cleanup", "--max-age '%s' is not a number of days", optarg);
            break;
        case 'k': keep = strtoul(optarg, NULL, 10); break;
        default: return cli_usage("tools", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    lcs_error e;
    lcs_error_clear(&e);
    lcs_tracker *t = lcs_tracker_open(dir, &e);
    if (!t)
        return cli_report("tools", &e);
    int rc = CLI_OK;
    if (!strcmp(sub, "cleanup")) {
        if (max_age < 0) {
            lcs_tracker_close(t);
            return cli_usage("tools cleanup", "%s", "--max-age DAYS is required");
        }
        int n = lcs_tracker_cleanup(t, max_age * 86400.0, keep, &e);
        if (n < 0)
            rc = cli_report("tools cleanup", &e);
        else
            printf("deleted %d run%s from %s\n", n, n == 1 ? "" : "s", lcs_tracker_base_dir(t));
    } else if (!strcmp(sub, "delete")) {
        if (optind >= argc)
            rc = cli_usage("tools delete", "%s", "which run? (llmcore-sandbox tools delete RUN_ID)");
        else if (lcs_tracker_delete_run(t, argv[optind], &e) != 0)
            rc = cli_report("tools delete", &e);
    } else {
        char *s = lcs_tracker_list_runs_json(t, limit, status, &e);
        if (!s)
            rc = cli_report("tools runs", &e);
        else if (json)
            puts(s);
        else {
            json_t *a = json_loads(s, 0, NULL);
            printf("%-32s %-10s %-10s %6s %-7s %s\n", "RUN", "STATUS", "MODE", "EXECS", "IN USE",
                   "CREATED");
            size_t i;
            json_t *r;
            json_array_foreach(a, i, r)
            {
                const char *st = json_string_value(json_object_get(r, "status"));
                const char *md = json_string_value(json_object_get(r, "access_level"));
                const char *cr = json_string_value(json_object_get(r, "created_at"));
                printf("%-32s %-10s %-10s %6lld %-7s %s\n",
                       json_string_value(json_object_get(r, "run_id")), st ? st : "?",
                       md ? md : "?",
                       (long long)json_integer_value(json_object_get(r, "execution_count")),
                       json_is_true(json_object_get(r, "in_use")) ? "yes" : "no", cr ? cr : "?");
            }
            json_decref(a);
        }
        lcs_free(s);
    }
    lcs_tracker_close(t);
    return rc;
}

static int cmd_tools(bool json, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(tools_help, stdout);
        return CLI_OK;
    }
    if (argc >= 2 && (!strcmp(argv[1], "runs") || !strcmp(argv[1], "cleanup") ||
                      !strcmp(argv[1], "delete")))
        return tools_runs(argc - 1, argv + 1, json);
    bool schema = false, list = false, show_policy = false;
    const char *format = "openai", *policy_file = NULL;
    int mode = -1;
    int first = 1;
    if (argc >= 2 && !strcmp(argv[1], "policy")) {
        show_policy = true;
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "--schema"))
            schema = true;
        else if (!strcmp(a, "--list"))
            list = true;
        else if (!strcmp(a, "--json"))
            json = true;
        else if (!strcmp(a, "--format") || !strcmp(a, "--mode") || !strcmp(a, "--policy")) {
            if (i + 1 >= argc)
                return cli_usage("tools", "%s needs a value", a);
            val = argv[++i];
            if (!strcmp(a, "--format"))
                format = val;
            else if (!strcmp(a, "--policy"))
                policy_file = val;
            else {
                lcs_access_mode m;
                if (lcs_access_mode_parse(val, &m))
                    return cli_invalid("tools", "--mode '%s': use restricted or full", val);
                mode = (int)m;
            }
        } else if (!strncmp(a, "--format=", 9))
            format = a + 9;
        else
            return cli_usage("tools", "unknown argument '%s'", a);
    }
    if (strcmp(format, "openai") && strcmp(format, "mcp"))
        return cli_invalid("tools", "--format '%s': use openai or mcp", format);
    int rc = CLI_OK;
    if (list) {
        for (size_t i = 0; i < LCS_TOOL_COUNT; i++)
            puts(lcs_tool_name(i));
        return CLI_OK;
    }
    if (show_policy) {
        lcs_tool_policy *p = load_policy("tools policy", policy_file, &rc);
        if (!p)
            return rc;
        lcs_error e;
        lcs_error_clear(&e);
        char *s = lcs_tool_policy_to_json(p, &e);
        if (s)
            puts(s);
        else
            rc = cli_report("tools policy", &e);
        lcs_free(s);
        lcs_tool_policy_free(p);
        return rc;
    }
    if (!schema)
        return cli_usage("tools", "%s", "what to do? (--schema, --list, policy, runs, cleanup)");
    lcs_tool_policy *p = NULL;
    if (mode >= 0 || policy_file) {
        if (!(p = load_policy("tools", policy_file, &rc)))
            return rc;
        if (mode < 0)
            mode = LCS_ACCESS_RESTRICTED;
    }
    lcs_error e;
    lcs_error_clear(&e);
    char *s = lcs_tool_schemas_json(format, p, mode < 0 ? LCS_ACCESS_RESTRICTED : (lcs_access_mode)mode,
                                    &e);
    if (s)
        puts(s);
    else
        rc = cli_report("tools", &e);
    lcs_free(s);
    lcs_tool_policy_free(p);
    return rc;
}

/* ---- mcp */

/* Signals are turned into a byte on a pipe (async-signal-safe); a thread
 * waits on it and stops the server, which destroys the sandbox. The fd is
 * the one piece of process-wide state, and it lives in the CLI. */
static int signal_pipe_w = -1;

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (signal_pipe_w >= 0) {
        ssize_t w = write(signal_pipe_w, &b, 1);
        (void)w;
    }
    errno = saved;
}

typedef struct watcher {
    int fd;
    lcs_mcp_server *server;
} watcher;

static void *watch_signals(void *arg)
{
    watcher *w = arg;
    unsigned char b;
    for (;;) {
        ssize_t r = read(w->fd, &b, 1);
        if (r < 0 && errno == EINTR)
            continue;
        break;
    }
    /* b == 0 is the main thread's "done"; anything else is a signal. */
    if (b != 0)
        lcs_mcp_server_stop(w->server);
    return NULL;
}

static int cmd_mcp(const char *store, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(mcp_help, stdout);
        return CLI_OK;
    }
    const char *image = NULL, *task = NULL, *runtime = NULL, *rootfs = NULL, *policy_file = NULL;
    lcs_mcp_options mo;
    lcs_mcp_options_init(&mo);
    lcs_session_options *so = &mo.tools.session_options;
    so->idle_timeout_seconds = 3600;
    so->label = "mcp";
    static const struct option opts[] = {
        {"image", required_argument, 0, 'I'},        {"task", required_argument, 0, 'T'},
        {"runtime", required_argument, 0, 'R'},      {"rootfs", required_argument, 0, 'F'},
        {"mode", required_argument, 0, 'M'},         {"policy", required_argument, 0, 'P'},
        {"timeout", required_argument, 0, 't'},      {"output-limit", required_argument, 0, 'o'},
        {"max-read-bytes", required_argument, 0, 'r'},
        {"max-copy-bytes", required_argument, 0, 'B'},
        {"max-copy-files", required_argument, 0, 'N'},
        {"max-message-size", required_argument, 0, 'm'},
        {"idle-timeout", required_argument, 0, 'i'}, {"runs-dir", required_argument, 0, 'd'},
        {"no-track", no_argument, 0, 'n'},           {"no-copy-outputs", no_argument, 0, 'c'},
        {"list-denied-tools", no_argument, 0, 'L'},  {"allow-degraded", no_argument, 0, 'D'},
        CLI_BACKEND_OPTIONS, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    unsigned long long sz;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (o) {
        case 'I': image = optarg; break;
        case 'T': task = optarg; break;
        case 'R': runtime = optarg; break;
        case 'F': rootfs = optarg; break;
        case 'P': policy_file = optarg; break;
        case 'M': {
            lcs_access_mode m;
            if (lcs_access_mode_parse(optarg, &m))
                return cli_invalid("mcp", "--mode '%s': use restricted or full", optarg);
            so->overrides.access_mode = (int)m;
            break;
        }
        case 't':
            if (parse_seconds(optarg, &so->overrides.timeout_seconds, false))
                return cli_invalid("mcp", "--timeout '%s' is not a positive number of seconds", optarg);
            break;
        case 'o':
            if (cli_parse_size(optarg, &sz) || !sz)
                return cli_invalid("mcp", "--output-limit '%s' is not a size (e.g. 64k, 1m)", optarg);
            so->overrides.output_bytes = sz;
            break;
        case 'r':
            if (cli_parse_size(optarg, &sz))
                return cli_invalid("mcp", "--max-read-bytes '%s' is not a size (e.g. 10m)", optarg);
            mo.tools.max_read_bytes = sz;
            break;
        case 'B':
            if (cli_parse_size(optarg, &sz))
                return cli_invalid("mcp", "--max-copy-bytes '%s' is not a size (e.g. 1g)", optarg);
            mo.tools.max_copy_bytes = sz;
            break;
        case 'N': {
            double n;
            if (parse_seconds(optarg, &n, true) || n != (double)(size_t)n)
                return cli_invalid("mcp", "--max-copy-files '%s' is not a whole number", optarg);
            mo.tools.max_copy_files = (size_t)n;
            break;
        }
        case 'm':
            if (cli_parse_size(optarg, &sz) || sz < 1024)
                return cli_invalid("mcp", "--max-message-size '%s' is not a size of at least 1k",
                             optarg);
            mo.max_message_bytes = (size_t)sz;
            break;
        case 'i':
            if (parse_seconds(optarg, &so->idle_timeout_seconds, true))
                return cli_invalid("mcp", "--idle-timeout '%s' is not a number of seconds", optarg);
            break;
        case 'd': mo.tools.runs_dir = optarg; break;
        case 'n': mo.tools.track = false; break;
        case 'c': mo.tools.copy_recorded_files = false; break;
        case 'L': mo.list_denied_tools = true; break;
        case 'D': so->overrides.allow_degraded = true; break;
        case 1010: so->backend = optarg; break;
        case 1011: so->engine = optarg; break;
        default: return cli_usage("mcp", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("mcp", "unexpected argument '%s'", argv[optind]);
    if ((image != NULL) + (rootfs != NULL) + (task != NULL || runtime != NULL) > 1)
        return cli_usage("mcp", "%s", "give at most one of --image, --rootfs, or --task/--runtime");
    if (!image && !rootfs && !task && !runtime)
        task = "code_execution";
    int rc = CLI_OK;
    lcs_error e;
    lcs_error_clear(&e);
    lcs_registry *reg = NULL;
    lcs_selection sel;
    memset(&sel, 0, sizeof sel);
    lcs_tool_policy *policy = NULL;
    lcs_mcp_server *server = NULL;
    if (!(policy = load_policy("mcp", policy_file, &rc)))
        return rc;
    mo.tools.policy = policy;
    if (!rootfs) {
        lcs_registry_options ro;
        lcs_registry_options_init(&ro);
        ro.store_dir = store;
        if (!(reg = lcs_registry_new(&ro, &e))) {
            rc = cli_report("mcp", &e);
            goto out;
        }
    }
    if (task || runtime) {
        lcs_selector *sl = lcs_selector_new(reg, NULL, &e);
        int bad = !sl || (task ? lcs_select_for_task(sl, task, runtime, 0, &sel, &e)
                               : lcs_select_for_runtime(sl, runtime, &sel, &e));
        lcs_selector_free(sl);
        if (bad) {
            rc = cli_report("mcp", &e);
            goto out;
        }
        image = sel.image;
        if (so->overrides.access_mode < 0)
            so->overrides.access_mode = (int)sel.access_mode;
        fprintf(stderr, "llmcore-sandbox mcp: %s selected (%s, %s)\n", sel.image, sel.reason,
                lcs_access_mode_name(sel.access_mode));
    }
    so->image = image;
    so->rootfs = rootfs;
    mo.tools.registry = reg;
    if (!(server = lcs_mcp_server_new(&mo, &e))) {
        rc = cli_report("mcp", &e);
        goto out;
    }
    int sp[2];
    if (pipe(sp) != 0) {
        fprintf(stderr, "llmcore-sandbox mcp: cannot create a pipe: %s\n", strerror(errno));
        rc = CLI_FAIL;
        goto out;
    }
    signal_pipe_w = sp[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a vanished client shows up as EPIPE */
    watcher w = {sp[0], server};
    pthread_t th;
    bool have_thread = pthread_create(&th, NULL, watch_signals, &w) == 0;
    if (lcs_mcp_serve(server, STDIN_FILENO, STDOUT_FILENO, &e) != 0)
        rc = cli_report("mcp", &e);
    if (have_thread) {
        unsigned char zero = 0;
        ssize_t wr = write(sp[1], &zero, 1);
        (void)wr;
        pthread_join(th, NULL);
    }
    for (size_t i = 0; i < 3; i++)
        signal(sigs[i], SIG_DFL);
    signal_pipe_w = -1;
    close(sp[0]);
    close(sp[1]);
out:
    lcs_mcp_server_free(server);
    lcs_tool_policy_free(policy);
    lcs_selection_clear(&sel);
    lcs_registry_free(reg);
    return rc;
}

int cli_agent_command(const char *cmd, const char *store, bool json, int argc, char **argv)
{
    if (!strcmp(cmd, "mcp"))
        return cmd_mcp(store, argc, argv);
    return cmd_tools(json, argc, argv);
}
