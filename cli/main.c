/*
 * main.c - the llmcore-sandbox command: a thin shell over the library.
 *
 * Exit codes (documented in the README and in `--help`):
 *   0  success
 *   1  failure (I/O, internal error, or a run that did not succeed)
 *   2  usage error (unknown command or option, missing argument)
 *   3  not found (image, file)
 *   4  invalid input (malformed or invalid manifest, bad reference)
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "llmcore/sandbox.h"
#include "runtime/docker/docker.h"
#include "session/import.h"

#include <jansson.h>

typedef struct globals {
    const char *store;
    bool json;
} globals;

static int report(const lcs_error *e)
{
    return cli_report(NULL, e);
}

/* Print a JSON document the library returned (and free it), or report the
 * error that made it NULL. Returns the exit code. */
static int print_json(char *doc, const lcs_error *err, int ok_code)
{
    if (!doc)
        return report(err);
    puts(doc);
    lcs_free(doc);
    return ok_code;
}

static const char main_help[] =
    "Usage: llmcore-sandbox [--store DIR] COMMAND [OPTIONS]\n"
    "\n"
    "Secure, disposable sandboxes for AI agents.\n"
    "\n"
    "Commands:\n"
    "  images                 list known images (builtin and in the image store)\n"
    "  images inspect NAME    show one image's manifest and status\n"
    "  images load [IMAGE...] load built images into Docker or Podman\n"
    "  images import SOURCE   import an OCI layout, docker-archive or engine image\n"
    "  select                 choose an image for a task, runtime or capabilities\n"
    "  manifest validate F... check capability manifests\n"
    "  manifest show F        print a manifest normalised to the shipped schema\n"
    "  run [OPTIONS] -- CMD   run one command in a fresh sandbox\n"
    "  build RECIPE_DIR       build a custom image natively (from a clone)\n"
    "  create [OPTIONS]       start a session (a sandbox that stays up); prints its id\n"
    "  exec ID -- CMD         run a command in a session (output streams live)\n"
    "  cp SRC DST             copy a file into/out of a session (ID:PATH, '-')\n"
    "  ls ID [PATH]           list a session's files\n"
    "  rm ID...               destroy sessions\n"
    "  ps                     list sessions\n"
    "  export ID [PATH]       tar of a session directory to stdout\n"
    "  doctor                 check what this host can enforce\n"
    "  tools --schema         print the agent tool definitions (--format openai|mcp)\n"
    "  mcp [OPTIONS]          serve the agent tools over MCP on stdio\n"
    "  version                print the version\n"
    "\n"
    "Global options:\n"
    "  --store DIR   image store directory (default: $LLMCORE_SANDBOX_STORE, else\n"
    "                /var/lib/llmcore-sandbox for root, ~/.local/share/llmcore-sandbox)\n"
    "  -h, --help    show help (also after any command)\n"
    "\n"
    "Every command accepts --json for machine-readable output.\n"
    "\n"
    "Exit codes: 0 success, 1 failure, 2 usage error, 3 not found, 4 invalid input\n"
    "(run: see 'llmcore-sandbox run --help').\n";

static const char run_help[] =
    "Usage: llmcore-sandbox run [--image I | --task T | --runtime R | --rootfs DIR]\n"
    "                           [OPTIONS] -- COMMAND [ARG...]\n"
    "\n"
    "Run one command in a fresh sandbox and tear it down. The image comes from\n"
    "--image, or is selected for --task/--runtime (the selection's access mode\n"
    "applies); --rootfs runs a root filesystem directory with the base image's\n"
    "policy. Limits default to the image's manifest.\n"
    "\n"
    "Options:\n"
    "  -m, --memory SIZE        memory limit incl. swap (512m, 1g)\n"
    "      --cpus N             CPU quota in cores\n"
    "      --pids-limit N       process limit\n"
    "      --timeout SECONDS    wall-clock limit\n"
    "      --network none|full  network (default: from the access mode)\n"
    "      --mode restricted|full  access mode (default: the image's)\n"
    "  -e, --env NAME=VALUE     environment variable (repeatable)\n"
    "  -w, --workdir DIR        working directory inside the sandbox\n"
    "      --input DIR          host directory, read-only at /home/sandbox/input\n"
    "      --output DIR         host directory, read-write at /home/sandbox/output\n"
    "      --output-limit SIZE  cap on stdout and stderr, each (default 1m)\n"
    "      --disk SIZE          cap on what the sandbox writes outside /tmp (its\n"
    "                           writable layer, kept in memory; default 1g)\n"
    "  -i, --interactive        feed this command's stdin to the sandbox\n"
    "      --seccomp FILE       OCI seccomp profile (default: the shipped one)\n"
    "      --allow-above-limits permit limits above the image's manifest\n"
    "      --allow-degraded     run even if this host lacks a protection\n"
    "      --json               print the result (verdict, output, enforced) as JSON\n"
    "      --warm               use a sandbox started in advance for this exact policy\n"
    "                           (fresh, used by this run only), and start the next\n"
    "                           one in the background; \"start\" in --json says which\n"
    "      --warm-idle SECONDS  how long that next one waits unused (default 60)\n"
    CLI_BACKEND_HELP
    "\n"
    "Exit status: the command's own; 128+N if killed by signal N; 124 on timeout;\n"
    "125 when a memory, process or output limit stopped it. Before the sandbox\n"
    "starts: 2 usage error, 3 image or root filesystem not found, 4 invalid\n"
    "option value or policy, 1 any other failure (e.g. a missing protection).\n";

static const char images_help[] =
    "Usage: llmcore-sandbox images [--tier T] [--capability C]... [--available] [--json]\n"
    "       llmcore-sandbox images inspect NAME[:TAG] [--json]\n"
    "       llmcore-sandbox images load [--engine URL] [IMAGE...] [--json]\n"
    "       llmcore-sandbox images import SOURCE [--name NAME[:VERSION]] [--force] [--json]\n"
    "\n"
    "List the images the registry knows: the builtin manifests and the images\n"
    "found in the image store. LOCAL says whether the image's root filesystem is\n"
    "in the store (i.e. it has been built or pulled).\n"
    "\n"
    "Options:\n"
    "  --tier T          only base, specialized or task images\n"
    "  --capability C    only images with capability C (repeatable)\n"
    "  --available       only images available locally\n"
    "  --json            print a JSON array\n";

static const char inspect_help[] =
    "Usage: llmcore-sandbox images inspect NAME[:TAG] [--json]\n"
    "\n"
    "Show one image. A tag must match exactly; a bare name means the newest version.\n"
    "Exit code 3 when the image is unknown (the message lists the known images).\n";

static const char select_help[] =
    "Usage: llmcore-sandbox select --task T [--runtime R] [--capability C]... [--json]\n"
    "       llmcore-sandbox select --runtime R [--json]\n"
    "       llmcore-sandbox select --capability C [--capability C]... [--json]\n"
    "\n"
    "Choose the image for a task type, a runtime or a set of capabilities, and\n"
    "the access mode it runs with. Rules: docs/selection.md.\n"
    "\n"
    "Options:\n"
    "  --task T          task type (e.g. research, python_dev, file_processing)\n"
    "  --runtime R       runtime (python, node, bash, ...)\n"
    "  --capability C    a capability the image must have (repeatable)\n"
    "  --map TASK=IMAGE  add a task mapping before selecting (repeatable)\n"
    "  --list-tasks      print the known task types and exit\n"
    "  --list-runtimes   print the known runtimes and exit\n"
    "  --json            print the selection as JSON\n";

static const char manifest_help[] =
    "Usage: llmcore-sandbox manifest validate FILE... [--json]\n"
    "       llmcore-sandbox manifest show FILE\n"
    "\n"
    "validate: parse and check each file; print every problem found. Both the\n"
    "shipped schema and the upstream Python schema are accepted.\n"
    "Exit code 0 if all are valid, 3 if a file is missing, 4 if any is invalid.\n"
    "show: print the manifest normalised to the shipped schema.\n";

static lcs_registry *open_registry(const globals *g, lcs_error *err)
{
    lcs_registry_options o;
    lcs_registry_options_init(&o);
    o.store_dir = g->store;
    lcs_registry *r = lcs_registry_new(&o, err);
    if (r && !g->json)
        for (size_t i = 0; i < lcs_registry_warning_count(r); i++)
            fprintf(stderr, "llmcore-sandbox: warning: %s\n", lcs_registry_warning(r, i));
    return r;
}

static int parse_caps(const char *arg, lcs_capset *caps, const char *cmd)
{
    /* Accept "python,git" as well as repeated options. */
    char *copy = strdup(arg);
    if (!copy)
        return CLI_FAIL;
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        lcs_capability c;
        if (lcs_capability_parse(tok, &c) != 0) {
            fprintf(stderr, "llmcore-sandbox %s: unknown capability '%s' (known:", cmd, tok);
            for (int i = 0; i < LCS_CAP_COUNT; i++)
                fprintf(stderr, " %s", lcs_capability_name((lcs_capability)i));
            fprintf(stderr, ")\n");
            rc = CLI_INVALID;
            break;
        }
        *caps |= LCS_CAPSET(c);
    }
    free(copy);
    return rc;
}

static void print_limits(const lcs_resource_limits *l, char *buf, size_t len)
{
    snprintf(buf, len, "%llu MiB / %g cpu / %us / %u pids", (unsigned long long)l->memory_mb,
             l->cpu_cores, l->timeout_seconds, l->max_processes);
}

static int cmd_inspect(const globals *g, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(inspect_help, stdout);
        return CLI_OK;
    }
    bool json = g->json;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-')
            return cli_usage("images inspect", "unknown option '%s'", argv[i]);
        else if (name)
            return cli_usage("images inspect", "unexpected argument '%s'", argv[i]);
        else
            name = argv[i];
    }
    if (!name)
        return cli_usage("images inspect", "%s", "missing image name");
    globals g2 = *g;
    g2.json = json;
    lcs_error err;
    lcs_error_clear(&err);
    lcs_registry *r = open_registry(&g2, &err);
    if (!r)
        return report(&err);
    lcs_image_info info;
    int rc = CLI_OK;
    if (lcs_registry_get(r, name, &info, &err) != 0) {
        rc = report(&err);
        goto out;
    }
    if (json) {
        rc = print_json(lcs_image_info_to_json(&info, &err), &err, rc);
    } else {
        const lcs_manifest *m = info.manifest;
        char lim[128];
        print_limits(&m->limits, lim, sizeof lim);
        char *caps = lcs_capset_format(m->capabilities);
        printf("Image:        %s\n", info.ref);
        printf("Description:  %s\n", m->description);
        printf("Tier:         %s\n", lcs_tier_name(m->tier));
        printf("Parent:       %s\n", m->parent_image ? m->parent_image : "(none)");
        printf("Capabilities: %s\n", caps ? caps : "");
        printf("Tools:       ");
        for (size_t i = 0; i < m->n_tools; i++)
            printf(" %s", m->tools[i]);
        printf("\nAccess mode:  %s\n", lcs_access_mode_name(m->default_access_mode));
        printf("Limits:       %s\n", lim);
        printf("User:         %s\n", m->user);
        printf("Workdir:      %s\n", m->working_directory);
        printf("Environment: ");
        for (size_t i = 0; i < m->n_environment; i++)
            printf(" %s=%s", m->environment[i].name, m->environment[i].value);
        printf("\nSource:       %s%s\n", info.source, info.builtin ? " (compiled in)" : "");
        printf("Local:        %s\n", info.available_locally ? info.rootfs : "no (not built)");
        lcs_free(caps);
    }
    lcs_image_info_clear(&info);
out:
    lcs_registry_free(r);
    return rc;
}

static const char load_help[] =
    "Usage: llmcore-sandbox images load [--engine URL] [IMAGE...] [--json]\n"
    "\n"
    "Load images built in the image store into a container engine (Docker, or\n"
    "Podman's Docker-compatible service) through its API, with skopeo; each is\n"
    "tagged with its own name:version there. Without IMAGE: every image built\n"
    "in the store.\n"
    "\n"
    "Options:\n"
    "  --engine URL   unix:///PATH (or a socket path) or tcp://HOST:PORT; default\n"
    "                 $DOCKER_HOST, else /var/run/docker.sock, then Podman's\n"
    "                 /run/podman/podman.sock and $XDG_RUNTIME_DIR/podman/podman.sock\n"
    "  --json         print {\"engine\": URL, \"loaded\": [NAME:VERSION...]}\n"
    "\n"
    "Exit code 3 when an image is unknown or not built, or no engine is found;\n"
    "4 for a malformed --engine; 1 when the engine refuses an image (the\n"
    "images loaded before it are listed).\n";

/* One image of the store into the engine: its OCI layout sits beside its
 * rootfs (<store>/images/<name>/<tag>/{rootfs,oci}). */
static int load_one(const char *engine, const lcs_image_info *info)
{
    char oci[PATH_MAX], idx[PATH_MAX + 16];
    const char *slash = info->rootfs ? strrchr(info->rootfs, '/') : NULL;
    if (!slash || (size_t)(slash - info->rootfs) + 5 > sizeof oci) {
        fprintf(stderr, "llmcore-sandbox images load: image %s is not built in the store\n",
                info->ref);
        return CLI_NOTFOUND;
    }
    snprintf(oci, sizeof oci, "%.*s/oci", (int)(slash - info->rootfs), info->rootfs);
    snprintf(idx, sizeof idx, "%s/index.json", oci);
    if (access(idx, R_OK) != 0) {
        fprintf(stderr, "llmcore-sandbox images load: image %s has no OCI layout in the "
                "store (%s): rebuild it with the native builder\n", info->ref, oci);
        return CLI_NOTFOUND;
    }
    const char *tag = strrchr(info->ref, ':');
    lcs_error err;
    if (lcs_docker_load_oci(engine, oci, tag ? tag + 1 : "latest", info->ref, &err) != 0)
        return cli_report("images load", &err);
    return CLI_OK;
}

static int cmd_load(const globals *g, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(load_help, stdout);
        return CLI_OK;
    }
    bool json = g->json;
    const char *engine_opt = NULL;
    const char **names = calloc((size_t)argc, sizeof *names);
    size_t n_names = 0;
    if (!names)
        return CLI_FAIL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc)
            engine_opt = argv[++i];
        else if (argv[i][0] == '-') {
            free(names);
            return cli_usage("images load", "unknown or incomplete option '%s'", argv[i]);
        } else
            names[n_names++] = argv[i];
    }
    lcs_error err;
    lcs_error_clear(&err);
    char engine[PATH_MAX + 16];
    lcs_registry *r = NULL;
    lcs_image_list list = {0};
    json_t *loaded = json_array();
    int rc = CLI_OK;
    if (lcs_docker_engine_default(engine_opt, engine, sizeof engine, &err) != 0) {
        rc = cli_report("images load", &err);
        goto out;
    }
    globals g2 = *g;
    g2.json = json;
    if (!(r = open_registry(&g2, &err))) {
        rc = cli_report("images load", &err);
        goto out;
    }
    /* what to load: the named images (each must be built), else all built */
    if (n_names) {
        if (!(list.items = calloc(n_names, sizeof *list.items))) {
            rc = CLI_FAIL;
            goto out;
        }
        for (size_t i = 0; i < n_names; i++) {
            if (lcs_registry_get(r, names[i], &list.items[list.count], &err) != 0) {
                rc = cli_report("images load", &err);
                goto out;
            }
            if (!list.items[list.count++].available_locally) {
                fprintf(stderr, "llmcore-sandbox images load: image %s is not built in the "
                        "image store %s; build it first\n", list.items[list.count - 1].ref,
                        lcs_registry_store_dir(r));
                rc = CLI_NOTFOUND;
                goto out;
            }
        }
    } else {
        lcs_image_filter f = {.tier = -1, .available_only = true};
        if (lcs_registry_list(r, &f, &list, &err) != 0) {
            rc = cli_report("images load", &err);
            goto out;
        }
        if (!list.count) {
            fprintf(stderr, "llmcore-sandbox images load: no image is built in the image store "
                    "%s\n", lcs_registry_store_dir(r));
            rc = CLI_NOTFOUND;
            goto out;
        }
    }
    for (size_t i = 0; i < list.count; i++) {
        if ((rc = load_one(engine, &list.items[i])) != CLI_OK)
            break;
        json_array_append_new(loaded, json_string(list.items[i].ref));
        if (!json) {
            printf("loaded %s into %s\n", list.items[i].ref, engine);
            fflush(stdout);
        }
    }
    if (json && (rc == CLI_OK || json_array_size(loaded))) {
        json_t *o = json_pack("{s:s,s:O}", "engine", engine, "loaded", loaded);
        char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (t)
            puts(t);
        free(t);
        json_decref(o);
    }
out:
    json_decref(loaded);
    lcs_image_list_clear(&list);
    lcs_registry_free(r);
    free(names);
    return rc;
}

static const char import_help[] =
    "Usage: llmcore-sandbox images import SOURCE [--name NAME[:VERSION]] [--engine URL]\n"
    "                                     [--force] [--json]\n"
    "\n"
    "Import any image into the native image store, so that run --image and create\n"
    "--image work on it. SOURCE is oci:DIR[:TAG] (an OCI image layout),\n"
    "docker-archive:FILE (docker save's tarball), docker-daemon:REF (an image of\n"
    "a Docker or Podman engine, through its API), or a path: a directory with an\n"
    "OCI layout, or a docker-archive file. skopeo copies it; its layers are\n"
    "unpacked confined to the new root (an entry that climbs out with \"..\" fails\n"
    "the import), set-uid/set-gid bits are cleared, file capabilities and device\n"
    "nodes are not kept, and the sandbox user 1000 and /home/sandbox/work are\n"
    "added. A RESTRICTED sandbox of the image then probes its capabilities and\n"
    "tools, and a manifest with the base tier's limits is written for it. The\n"
    "store is unchanged unless every step worked. Needs root.\n"
    "\n"
    "Options:\n"
    "  --name NAME[:VERSION]  the name in the store (default: from SOURCE; a tag\n"
    "                 that is no version, such as latest, becomes 0.0.0-TAG)\n"
    "  --engine URL   the engine of a docker-daemon: source (as for images load)\n"
    "  --force        replace an image of that name and version in the store\n"
    "  --json         print the import report as JSON\n"
    "\n"
    "Exit code 3 when SOURCE does not exist, 4 for a bad SOURCE or name, 1 when\n"
    "the copy, a layer or the probe fails, or the image is already in the store.\n";

static int cmd_import(const globals *g, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(import_help, stdout);
        return CLI_OK;
    }
    lcs_import_request rq = {0};
    bool json = g->json;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--force"))
            rq.force = true;
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc)
            rq.engine = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            rq.name = argv[++i];
        else if (argv[i][0] == '-')
            return cli_usage("images import", "unknown or incomplete option '%s'", argv[i]);
        else if (rq.source)
            return cli_usage("images import", "unexpected argument '%s'", argv[i]);
        else
            rq.source = argv[i];
    }
    if (!rq.source)
        return cli_usage("images import", "%s", "no SOURCE given");
    lcs_error err;
    lcs_error_clear(&err);
    lcs_registry *r = open_registry(g, &err);
    if (!r)
        return cli_report("images import", &err);
    json_t *rep = lcs_image_import(r, &rq, &err);
    lcs_registry_free(r);
    if (!rep)
        return cli_report("images import", &err);
    if (json) {
        char *t = json_dumps(rep, JSON_COMPACT);
        if (t)
            puts(t);
        free(t);
    } else {
        printf("imported %s from %s in %.1f s: %lld layer(s), %lld entries\n",
               json_string_value(json_object_get(rep, "image")), rq.source,
               json_real_value(json_object_get(rep, "seconds")),
               (long long)json_integer_value(json_object_get(rep, "layers")),
               (long long)json_integer_value(json_object_get(rep, "entries")));
        long long sid = (long long)json_integer_value(json_object_get(rep, "setid_cleared"));
        if (sid)
            printf("  set-uid/set-gid bits cleared on %lld file(s), e.g. %s\n", sid,
                   json_string_value(json_object_get(rep, "first_setid")));
        long long sp = (long long)json_integer_value(json_object_get(rep, "special_skipped"));
        if (sp)
            printf("  %lld device node(s), fifo(s) or socket(s) not kept\n", sp);
        if (json_is_true(json_object_get(rep, "user_added")))
            printf("  added the sandbox user (uid 1000) to /etc/passwd and /etc/group\n");
        char *caps = json_dumps(json_object_get(rep, "capabilities"), JSON_COMPACT);
        char *tools = json_dumps(json_object_get(rep, "tools"), JSON_COMPACT);
        printf("  capabilities: %s\n  tools: %s\n  probe: %s\n  in %s\n", caps ? caps : "?",
               tools ? tools : "?", json_string_value(json_object_get(rep, "probe")),
               json_string_value(json_object_get(rep, "dir")));
        free(caps);
        free(tools);
    }
    json_decref(rep);
    return CLI_OK;
}

static int cmd_images(const globals *g, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "inspect") == 0)
        return cmd_inspect(g, argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "load") == 0)
        return cmd_load(g, argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "import") == 0)
        return cmd_import(g, argc - 1, argv + 1);
    if (cli_has_help(argc, argv)) {
        fputs(images_help, stdout);
        return CLI_OK;
    }
    lcs_image_filter f = {.tier = -1};
    bool json = g->json;
    static const struct option opts[] = {{"tier", required_argument, 0, 't'},
                                         {"capability", required_argument, 0, 'c'},
                                         {"available", no_argument, 0, 'a'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (o) {
        case 't': {
            lcs_tier t;
            if (lcs_tier_parse(optarg, &t) != 0) {
                fprintf(stderr, "llmcore-sandbox images: unknown tier '%s' (base, specialized, "
                                "task)\n",
                        optarg);
                return CLI_INVALID;
            }
            f.tier = (int)t;
            break;
        }
        case 'c': {
            int rc = parse_caps(optarg, &f.capabilities, "images");
            if (rc)
                return rc;
            break;
        }
        case 'a': f.available_only = true; break;
        case 'j': json = true; break;
        default: return cli_usage("images", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("images", "unexpected argument '%s'", argv[optind]);
    globals g2 = *g;
    g2.json = json;
    lcs_error err;
    lcs_error_clear(&err);
    lcs_registry *r = open_registry(&g2, &err);
    if (!r)
        return report(&err);
    lcs_image_list l;
    int rc = CLI_OK;
    if (lcs_registry_list(r, &f, &l, &err) != 0) {
        rc = report(&err);
        goto out;
    }
    if (json) {
        rc = print_json(lcs_image_list_to_json(&l, &err), &err, rc);
    } else {
        printf("%-34s %-12s %-11s %9s %5s %8s %5s  %s\n", "IMAGE", "TIER", "ACCESS", "MEMORY",
               "CPUS", "TIMEOUT", "PIDS", "LOCAL");
        for (size_t i = 0; i < l.count; i++) {
            const lcs_manifest *m = l.items[i].manifest;
            char mem[32];
            snprintf(mem, sizeof mem, "%lluMiB", (unsigned long long)m->limits.memory_mb);
            char tmo[32];
            snprintf(tmo, sizeof tmo, "%us", m->limits.timeout_seconds);
            printf("%-34s %-12s %-11s %9s %5g %8s %5u  %s\n", l.items[i].ref,
                   lcs_tier_name(m->tier), lcs_access_mode_name(m->default_access_mode), mem,
                   m->limits.cpu_cores, tmo, m->limits.max_processes,
                   l.items[i].available_locally ? "yes" : "no");
        }
        if (l.count == 0)
            printf("(no image matches)\n");
    }
    lcs_image_list_clear(&l);
out:
    lcs_registry_free(r);
    return rc;
}

static int print_strv(char **v, bool json)
{
    if (!v)
        return CLI_FAIL;
    if (json) {
        printf("[");
        for (size_t i = 0; v[i]; i++)
            printf("%s\"%s\"", i ? "," : "", v[i]); /* keys are [a-z0-9_.-] */
        printf("]\n");
    } else
        for (size_t i = 0; v[i]; i++)
            puts(v[i]);
    lcs_strv_free(v);
    return CLI_OK;
}

static int cmd_select(const globals *g, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(select_help, stdout);
        return CLI_OK;
    }
    const char *task = NULL, *runtime = NULL;
    lcs_capset caps = 0;
    bool json = g->json, list_tasks = false, list_runtimes = false;
    const char *maps[64];
    size_t n_maps = 0;
    static const struct option opts[] = {{"task", required_argument, 0, 't'},
                                         {"runtime", required_argument, 0, 'r'},
                                         {"capability", required_argument, 0, 'c'},
                                         {"map", required_argument, 0, 'm'},
                                         {"list-tasks", no_argument, 0, 'T'},
                                         {"list-runtimes", no_argument, 0, 'R'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (o) {
        case 't': task = optarg; break;
        case 'r': runtime = optarg; break;
        case 'c': {
            int rc = parse_caps(optarg, &caps, "select");
            if (rc)
                return rc;
            break;
        }
        case 'm':
            if (n_maps == sizeof maps / sizeof maps[0])
                return cli_usage("select", "%s", "too many --map options");
            if (!strchr(optarg, '='))
                return cli_usage("select", "--map needs TASK=IMAGE, got '%s'", optarg);
            maps[n_maps++] = optarg;
            break;
        case 'T': list_tasks = true; break;
        case 'R': list_runtimes = true; break;
        case 'j': json = true; break;
        default: return cli_usage("select", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("select", "unexpected argument '%s'", argv[optind]);
    if (!task && !runtime && !caps && !list_tasks && !list_runtimes)
        return cli_usage("select", "%s", "give --task, --runtime or --capability");
    globals g2 = *g;
    g2.json = json;
    lcs_error err;
    lcs_error_clear(&err);
    lcs_registry *r = open_registry(&g2, &err);
    if (!r)
        return report(&err);
    lcs_selector *s = lcs_selector_new(r, NULL, &err);
    int rc = CLI_OK;
    if (!s) {
        rc = report(&err);
        goto out;
    }
    for (size_t i = 0; i < n_maps; i++) {
        char *k = strdup(maps[i]);
        if (!k) {
            rc = CLI_FAIL;
            goto out;
        }
        char *eq = strchr(k, '=');
        *eq = '\0';
        int bad = lcs_selector_add_task_mapping(s, k, eq + 1, &err);
        free(k);
        if (bad) {
            rc = report(&err);
            goto out;
        }
    }
    if (list_tasks || list_runtimes) {
        rc = print_strv(list_tasks ? lcs_selector_task_types(s) : lcs_selector_runtimes(s), json);
        goto out;
    }
    lcs_selection sel;
    int bad;
    if (task)
        bad = lcs_select_for_task(s, task, runtime, caps, &sel, &err);
    else if (runtime && !caps)
        bad = lcs_select_for_runtime(s, runtime, &sel, &err);
    else if (runtime)
        bad = lcs_select_for_task(s, "custom", runtime, caps, &sel, &err);
    else
        bad = lcs_select_for_capabilities(s, caps, &sel, &err);
    if (bad) {
        rc = report(&err);
        goto out;
    }
    if (json) {
        rc = print_json(lcs_selection_to_json(&sel, &err), &err, rc);
    } else {
        char *req = lcs_capset_format(sel.required);
        printf("Image:        %s\n", sel.image);
        printf("Reason:       %s\n", sel.reason);
        printf("Access mode:  %s\n", lcs_access_mode_name(sel.access_mode));
        printf("Requires:     %s\n", req && *req ? req : "(nothing specific)");
        printf("Alternatives:");
        for (size_t i = 0; i < sel.n_alternatives; i++)
            printf(" %s", sel.alternatives[i]);
        printf("%s\n", sel.n_alternatives ? "" : " (none)");
        if (sel.manifest) {
            char lim[128];
            print_limits(&sel.manifest->limits, lim, sizeof lim);
            printf("Limits:       %s\n", lim);
        } else
            printf("Manifest:     (image not in the registry; access mode from name patterns)\n");
        lcs_free(req);
    }
    lcs_selection_clear(&sel);
out:
    lcs_selector_free(s);
    lcs_registry_free(r);
    return rc;
}

static int cmd_manifest(const globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_has_help(argc, argv)) {
        fputs(manifest_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[1];
    bool json = g->json;
    const char *files[256];
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage("manifest", "unknown option '%s'", argv[i]);
        else if (n == sizeof files / sizeof files[0])
            return cli_usage("manifest", "%s", "too many files");
        else
            files[n++] = argv[i];
    }
    if (strcmp(sub, "show") == 0) {
        if (n != 1)
            return cli_usage("manifest show", "%s", "give exactly one FILE");
        lcs_error err;
        lcs_error_clear(&err);
        lcs_manifest *m = lcs_manifest_load_file(files[0], &err);
        if (!m)
            return report(&err);
        char *s = lcs_manifest_to_json(m, &err);
        lcs_manifest_free(m);
        if (!s)
            return report(&err);
        fputs(s, stdout);
        lcs_free(s);
        return CLI_OK;
    }
    if (strcmp(sub, "validate") != 0)
        return cli_usage("manifest", "unknown subcommand '%s' (validate, show)", sub);
    if (n == 0)
        return cli_usage("manifest validate", "%s", "give at least one FILE");
    int worst = CLI_OK;
    if (json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        lcs_error err;
        lcs_error_clear(&err);
        lcs_manifest *m = lcs_manifest_load_file(files[i], &err);
        int rc = m ? CLI_OK : cli_exit_for(&err);
        if (rc != CLI_OK && worst == CLI_OK)
            worst = rc; /* the first failure decides the exit code */
        if (json) {
            /* The library has no JSON form for errors; escape by hand. */
            printf("%s{\"file\":", i ? "," : "");
            putchar('"');
            for (const char *p = files[i]; *p; p++) {
                if (*p == '"' || *p == '\\')
                    printf("\\%c", *p);
                else if ((unsigned char)*p < 0x20)
                    printf("\\u%04x", (unsigned char)*p);
                else
                    putchar(*p);
            }
            printf("\",\"valid\":%s", m ? "true" : "false");
            if (m) {
                char *full = lcs_manifest_full_name(m);
                printf(",\"image\":\"%s\"", full ? full : "");
                lcs_free(full);
            } else {
                printf(",\"error\":\"%s\",\"line\":%d,\"column\":%d,\"message\":\"",
                       lcs_status_name(err.code), err.line, err.column);
                for (const char *p = err.message; *p; p++) {
                    if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                    else if (*p == '\n')
                        printf("\\n");
                    else if ((unsigned char)*p < 0x20)
                        printf("\\u%04x", (unsigned char)*p);
                    else
                        putchar(*p);
                }
                printf("\"");
            }
            printf("}");
        } else if (m) {
            char *full = lcs_manifest_full_name(m);
            printf("%s: valid (%s)\n", files[i], full ? full : "?");
            lcs_free(full);
        } else
            printf("%s: %s\n", files[i], err.message);
        lcs_manifest_free(m);
    }
    if (json)
        printf("]\n");
    return worst;
}


static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

static int cmd_run(const globals *g, int argc, char **argv)
{
    int dd = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            dd = i;
            break;
        }
    if (cli_has_help(dd, argv)) {
        fputs(run_help, stdout);
        return CLI_OK;
    }
    const char *image = NULL, *task = NULL, *runtime = NULL, *rootfs = NULL, *seccomp = NULL;
    bool json = g->json, interactive = false;
    lcs_run_request req;
    lcs_run_request_init(&req);
    const char **env = calloc((size_t)argc + 1, sizeof *env);
    if (!env)
        return CLI_FAIL;
    size_t n_env = 0;
    static const struct option opts[] = {
        {"image", required_argument, 0, 'I'},   {"task", required_argument, 0, 'T'},
        {"runtime", required_argument, 0, 'R'}, {"rootfs", required_argument, 0, 'F'},
        {"interactive", no_argument, 0, 'i'},   {"seccomp", required_argument, 0, 'S'},
        {"json", no_argument, 0, 'j'},          {"warm", no_argument, 0, 'W'},
        {"warm-idle", required_argument, 0, 'X'}, CLI_POLICY_OPTIONS, CLI_BACKEND_OPTIONS,
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o, rc = CLI_OK;
#define BAD(fmt, arg)                                                                              \
    do {                                                                                           \
        rc = cli_usage("run", fmt, arg);                                                         \
        goto out;                                                                                  \
    } while (0)
    while ((o = getopt_long(dd, argv, "+m:e:w:i", opts, NULL)) != -1) {
        switch (o) {
        case 'I': image = optarg; break;
        case 'T': task = optarg; break;
        case 'R': runtime = optarg; break;
        case 'F': rootfs = optarg; break;
        case 'i': interactive = true; break;
        case 'S': seccomp = optarg; break;
        case 'j': json = true; break;
        case 'W': req.warm = true; break;
        case 1010: req.backend = optarg; break;
        case 1011: req.engine = optarg; break;
        case 'X':
            if (cli_parse_positive(optarg, &req.warm_idle_seconds)) {
                fprintf(stderr, "llmcore-sandbox run: --warm-idle '%s' is not a positive number "
                                "of seconds\n", optarg);
                rc = CLI_INVALID;
                goto out;
            }
            req.warm = true;
            break;
        default:
            switch (cli_policy_option("run", o, optarg, &req.overrides, env, &n_env)) {
            case 1: break;
            case 0: BAD("unknown or incomplete option '%s'", argv[optind - 1]);
            default: rc = CLI_INVALID; goto out;
            }
        }
    }
    if (optind < dd)
        BAD("unexpected argument '%s' (put the command after --)", argv[optind]);
    if (dd >= argc - 1)
        BAD("%s", "no command given (llmcore-sandbox run [OPTIONS] -- COMMAND)");
    if ((image != NULL) + (rootfs != NULL) + (task != NULL || runtime != NULL) != 1)
        BAD("%s", "give exactly one of --image, --rootfs, or --task/--runtime");
    req.overrides.env = env;
    req.argv = (const char *const *)argv + dd + 1;
    req.rootfs = rootfs;
    req.seccomp_profile = seccomp;

    lcs_error err;
    lcs_error_clear(&err);
    globals g2 = *g;
    g2.json = json;
    lcs_registry *reg = NULL;
    lcs_selection sel;
    memset(&sel, 0, sizeof sel);
    char *in = NULL;
    if (!rootfs) {
        reg = open_registry(&g2, &err);
        if (!reg) {
            rc = report(&err);
            goto out;
        }
    }
    if (task || runtime) {
        lcs_selector *s = lcs_selector_new(reg, NULL, &err);
        int bad = !s || (task ? lcs_select_for_task(s, task, runtime, 0, &sel, &err)
                              : lcs_select_for_runtime(s, runtime, &sel, &err));
        lcs_selector_free(s);
        if (bad) {
            rc = report(&err);
            goto out_reg;
        }
        image = sel.image;
        if (req.overrides.access_mode < 0)
            req.overrides.access_mode = (int)sel.access_mode;
        if (!json)
            fprintf(stderr, "llmcore-sandbox: %s selected (%s, %s)\n", sel.image, sel.reason,
                    lcs_access_mode_name(sel.access_mode));
    }
    req.image = image;
    if (interactive) {
        size_t len = 0;
        in = read_all(stdin, &len);
        req.stdin_data = in;
        req.stdin_len = len;
    }
    lcs_run_result res;
    if (lcs_run(reg, &req, &res, &err) != 0) {
        rc = report(&err);
        goto out_reg;
    }
    rc = cli_run_status(&res);
    if (json) {
        /* streamed: the output is escaped into stdout, never copied */
        if (lcs_run_result_write_json(&res, stdout, &err) < 0)
            rc = report(&err);
    } else {
        if (res.stdout_len)
            fwrite(res.stdout_data, 1, res.stdout_len, stdout);
        fflush(stdout);
        if (res.stderr_len)
            fwrite(res.stderr_data, 1, res.stderr_len, stderr);
        if (res.stdout_truncated || res.stderr_truncated)
            fprintf(stderr, "llmcore-sandbox: output truncated at the output limit\n");
        if (strcmp(res.verdict, "ok") && strcmp(res.verdict, "exit"))
            fprintf(stderr, "llmcore-sandbox: verdict %s after %.2f s\n", res.verdict,
                    res.wall_seconds);
    }
    lcs_run_result_clear(&res);
out_reg:
    free(in);
    lcs_selection_clear(&sel);
    lcs_registry_free(reg);
out:
    free(env);
    return rc;
#undef BAD
}

/* cli/session.c: create exec cp ls rm ps export doctor; -1 if cmd is not one */
int cli_session_command(const char *cmd, const char *store, bool json, int argc, char **argv);

/* cli/tools.c: the "tools" and "mcp" subcommands. */
int cli_agent_command(const char *cmd, const char *store, bool json, int argc, char **argv);

static const char build_help[] =
    "Usage: llmcore-sandbox build [--store DIR] [--force] RECIPE_DIR\n"
    "\n"
    "Build a custom image natively from a recipe directory holding its\n"
    "capabilities.json (with parent_image naming a built image, e.g.\n"
    "llmcore-sandbox-python:1.0.0) and a recipe.sh run as root inside the\n"
    "parent. The image lands in the image store after the same hardening checks\n"
    "and verification probes as the shipped images (container_images/README.md).\n"
    "The builder is part of the source tree: run this command from a clone's\n"
    "build (build/llmcore-sandbox), or set LLMCORE_SANDBOX_SOURCE to a clone.\n";

/* container_images/build-custom.sh of the source tree this binary was
 * built in (build/llmcore-sandbox -> ../container_images), or of
 * $LLMCORE_SANDBOX_SOURCE. */
static int find_builder(char *out, size_t len)
{
    const char *src = getenv("LLMCORE_SANDBOX_SOURCE");
    if (src && *src) {
        snprintf(out, len, "%s/container_images/build-custom.sh", src);
        return access(out, X_OK);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    snprintf(out, len, "%s/../container_images/build-custom.sh", exe);
    return access(out, X_OK);
}

static int cmd_build(const globals *g, int argc, char **argv)
{
    if (cli_has_help(argc, argv)) {
        fputs(build_help, stdout);
        return CLI_OK;
    }
    char builder[PATH_MAX + 64];
    if (find_builder(builder, sizeof builder) != 0) {
        fprintf(stderr, "llmcore-sandbox build: the image builder (container_images/"
                        "build-custom.sh) is not next to this binary; run build/llmcore-sandbox "
                        "from a clone, or set LLMCORE_SANDBOX_SOURCE to one\n");
        return CLI_NOTFOUND;
    }
    const char **args = calloc((size_t)argc + 4, sizeof *args);
    if (!args)
        return CLI_FAIL;
    size_t k = 0;
    args[k++] = builder;
    if (g->store) {
        args[k++] = "--store";
        args[k++] = g->store;
    }
    for (int i = 1; i < argc; i++)
        args[k++] = argv[i];
    execv(builder, (char *const *)args);
    fprintf(stderr, "llmcore-sandbox build: cannot run %s: %s\n", builder, strerror(errno));
    free(args);
    return CLI_FAIL;
}

int main(int argc, char **argv)
{
    globals g = {0};
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0) {
            if (i + 1 >= argc)
                return cli_usage(NULL, "%s", "--store needs a directory");
            g.store = argv[++i];
        } else if (strncmp(argv[i], "--store=", 8) == 0)
            g.store = argv[i] + 8;
        else if (strcmp(argv[i], "--json") == 0)
            g.json = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(main_help, stdout);
            return CLI_OK;
        } else if (argv[i][0] == '-')
            return cli_usage(NULL, "unknown option '%s'", argv[i]);
        else
            break;
    }
    if (i >= argc) {
        fputs(main_help, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "images") == 0)
        return cmd_images(&g, sub_argc, sub_argv);
    if (strcmp(cmd, "select") == 0)
        return cmd_select(&g, sub_argc, sub_argv);
    if (strcmp(cmd, "manifest") == 0)
        return cmd_manifest(&g, sub_argc, sub_argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(&g, sub_argc, sub_argv);
    if (strcmp(cmd, "build") == 0)
        return cmd_build(&g, sub_argc, sub_argv);
    int src = cli_session_command(cmd, g.store, g.json, sub_argc, sub_argv);
    if (src >= 0)
        return src;
    if (strcmp(cmd, "tools") == 0 || strcmp(cmd, "mcp") == 0)
        return cli_agent_command(cmd, g.store, g.json, sub_argc, sub_argv);
    if (strcmp(cmd, "version") == 0) {
        printf("llmcore-sandbox %s\n", lcs_version());
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        fputs(main_help, stdout);
        return CLI_OK;
    }
    return cli_usage(NULL, "unknown command '%s'", cmd);
}
