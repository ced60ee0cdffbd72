#!/usr/bin/env bash
# CLI tests: output, --json and exit codes of the llmcore-sandbox command.
# usage: tests/cli/run.sh PATH-TO-llmcore-sandbox
set -u
CLI=${1:?usage: run.sh PATH-TO-llmcore-sandbox}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
chmod 755 "$TMP"   # the sandbox's host uid must be able to reach the fixture rootfs
trap 'rm -rf "$TMP"' EXIT
export LLMCORE_SANDBOX_STORE=$TMP/store   # an empty store: only builtins

# check NAME EXPECTED_EXIT PATTERN -- ARGS...: runs the CLI, asserts the exit
# code and that combined output matches the extended regex PATTERN.
check() {
    local name=$1 want=$2 pattern=$3; shift 4
    local out rc
    out=$("$CLI" "$@" 2>&1); rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want; output: $(printf '%s' "$out" | head -c 300)"
    elif [ -n "$pattern" ] && ! printf '%s' "$out" | grep -Eq -- "$pattern"; then
        echo "FAIL $name: output does not match /$pattern/: $(printf '%s' "$out" | head -c 300)"
    else
        echo "PASS $name"
    fi
}

# json_check NAME PYTHON_EXPR -- ARGS...: the output parses as JSON and the
# expression (over `d`) is true.
json_check() {
    local name=$1 expr=$2; shift 3
    local out rc want=${WANT_RC:-0}
    out=$("$CLI" "$@" 2>"$TMP/err"); rc=$?
    if [ $rc -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want: $(cat "$TMP/err")"; return
    fi
    if printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)"; then
        echo "PASS $name"
    else
        echo "FAIL $name: JSON check failed: $expr; output: $(printf '%s' "$out" | head -c 300)"
    fi
}

check help_lists_commands 0 'images inspect NAME' -- --help
check no_command_is_usage_error 2 'Usage:' --
check unknown_command_is_usage_error 2 "unknown command 'frobnicate'" -- frobnicate
check unknown_global_option_is_usage_error 2 "unknown option '--bogus'" -- --bogus images
check version_prints_version 0 '^llmcore-sandbox [0-9]+\.[0-9]+\.[0-9]+' -- version

check images_table_lists_all_six 0 'llmcore-sandbox-websearch:1.0.0 +task +full +2048MiB +2 +900s +150 +no' -- images
check images_table_has_header 0 'IMAGE +TIER +ACCESS +MEMORY +CPUS +TIMEOUT +PIDS +LOCAL' -- images
check images_help 0 'only images available locally' -- images --help
check images_unknown_tier_is_invalid 4 "unknown tier 'gold'" -- images --tier gold
check images_unknown_capability_is_invalid 4 "unknown capability 'magic'" -- images --capability magic
check images_bad_option_is_usage 2 "unknown or incomplete option" -- images --frob
check images_filter_by_capability 0 'llmcore-sandbox-shell:1.0.0' -- images --capability jq
json_check images_json_has_six 'len(d) == 6 and d[0]["ref"] == "llmcore-sandbox-base:1.0.0" and d[5]["manifest"]["resource_limits"]["memory_mb"] == 2048' -- images --json
json_check images_json_filters 'sorted(i["name"] for i in d) == ["llmcore-sandbox-research", "llmcore-sandbox-websearch"]' -- images --tier task --json
json_check images_available_only_is_empty_without_builds 'd == []' -- images --available --json

check inspect_shows_manifest 0 'Parent: +llmcore-sandbox-python:1.0.0' -- images inspect llmcore-sandbox-research:1.0.0
check inspect_unknown_tag_is_not_found 3 "exists only as version 1.0.0" -- images inspect llmcore-sandbox-python:9.9
check inspect_unknown_image_is_not_found 3 "not found \(available: llmcore-sandbox-base:1.0.0" -- images inspect nope
check inspect_bad_reference_is_invalid 4 "not a valid repository name" -- images inspect 'BadRef'
check inspect_whitespace_reference_is_invalid 4 "contains whitespace" -- images inspect 'bad ref'
check inspect_needs_a_name 2 "missing image name" -- images inspect
check inspect_help 0 'A tag must match exactly' -- images inspect --help
json_check inspect_json 'd["builtin"] and not d["available_locally"] and d["manifest"]["parent_image"] is None' -- images inspect llmcore-sandbox-base --json
json_check inspect_port_qualified_name 'd["name"] == "llmcore-sandbox-python"' -- images inspect localhost:5000/llmcore-sandbox-python:1.0.0 --json

check select_research 0 'Image: +llmcore-sandbox-research:1.0.0' -- select --task research
check select_research_is_full 0 'Access mode: +full' -- select --task research
check select_runtime_python 0 'Reason: +runtime_mapping:python' -- select --runtime python
check select_file_processing_is_base 0 'Image: +llmcore-sandbox-base:1.0.0' -- select --task file_processing
check select_needs_something 2 'give --task, --runtime or --capability' -- select
check select_bad_capability 4 "unknown capability 'warp'" -- select --capability warp
check select_help 0 'docs/selection.md' -- select --help
check select_lists_tasks 0 '^api_testing' -- select --list-tasks
json_check select_json_task 'd["image"] == "llmcore-sandbox-python:1.0.0" and d["reason"] == "capability_match:python" and d["access_mode"] == "restricted" and d["alternatives"] == ["llmcore-sandbox-websearch:1.0.0", "llmcore-sandbox-research:1.0.0"]' -- select --task data_processing --json
json_check select_json_capabilities 'd["image"] == "llmcore-sandbox-websearch:1.0.0" and d["access_mode"] == "full"' -- select --capability network --json
json_check select_json_runtime_fallback 'd["image"] == "llmcore-sandbox-nodejs:1.0.0" and d["reason"] == "runtime_mapping:nodejs"' -- select --task unknown --runtime nodejs --json
json_check select_custom_mapping 'd["image"] == "my-custom-image:1.0.0" and d["reason"] == "task_mapping:custom_task" and d["manifest"] is None' -- select --map custom_task=my-custom-image:1.0.0 --task custom_task --json
json_check select_list_runtimes_json '"python3.12" in d and len(d) == 10' -- select --list-runtimes --json

for f in $(cd "$ROOT" && find container_images -name capabilities.json | sort); do
    check "manifest_validate_shipped_$(echo "$f" | tr '/' '_')" 0 'valid \(llmcore-sandbox-' -- manifest validate "$ROOT/$f"
done
check manifest_validate_syntax_error_has_position 4 'line 6, column [0-9]+' -- manifest validate "$ROOT/tests/data/broken-syntax.json"
check manifest_validate_missing_file 3 'manifest file not found' -- manifest validate "$TMP/none.json"
printf '{"name": "x", "version": "1", "tier": "base", "capabilities": ["magic"], "default_access_mode": "open"}' > "$TMP/bad.json"
check manifest_validate_lists_every_problem 4 '3 problems' -- manifest validate "$TMP/bad.json"
check manifest_validate_mixed_reports_each 4 'valid \(llmcore-sandbox-base:1.0.0\)' -- manifest validate "$ROOT/container_images/base/capabilities.json" "$TMP/bad.json"
WANT_RC=4 json_check manifest_validate_json '[x["valid"] for x in d] == [True, False] and d[1]["error"] == "parse" and d[1]["line"] == 6' -- manifest validate --json "$ROOT/container_images/base/capabilities.json" "$ROOT/tests/data/broken-syntax.json"
check manifest_needs_subcommand 2 'Usage: llmcore-sandbox manifest' -- manifest
check manifest_unknown_subcommand 2 "unknown subcommand 'lint'" -- manifest lint x
printf '{"name": "up", "version": "1.0.0", "tier": "base", "capabilities": ["shell"], "default_access_mode": "restricted", "resource_limits": {"memory_limit": "2g", "pids_limit": 10}}' > "$TMP/up.json"
check manifest_show_normalises_upstream_schema 0 '"memory_mb": 2048' -- manifest show "$TMP/up.json"

# Input files that are not regular files: refused at once (a FIFO would
# block the open forever), a missing one is "not found" (3).
mkfifo "$TMP/fifo"
# timeout_check NAME EXPECTED_EXIT PATTERN -- ARGS...: check, bounded to 10 s
timeout_check() {
    local name=$1 want=$2 pattern=$3; shift 4
    local out rc
    out=$(timeout 10 "$CLI" "$@" 2>&1 </dev/null); rc=$?
    if [ $rc = 124 ]; then echo "FAIL $name: still running after 10 s (blocked on the FIFO)"
    elif [ $rc != "$want" ] || ! printf '%s' "$out" | grep -Eq -- "$pattern"; then
        echo "FAIL $name: exit $rc, want $want /$pattern/: $(printf '%s' "$out" | head -c 300)"
    else echo "PASS $name"; fi
}
timeout_check manifest_validate_fifo_is_refused 4 'manifest .*/fifo is a FIFO, not a regular file' -- manifest validate "$TMP/fifo"
timeout_check tools_policy_fifo_is_refused 4 'tool policy .*/fifo is a FIFO, not a regular file' -- tools --schema --policy "$TMP/fifo"
timeout_check mcp_policy_fifo_is_refused 4 'tool policy .*/fifo is a FIFO, not a regular file' -- mcp --policy "$TMP/fifo"
timeout_check tools_policy_missing_is_not_found 3 'tool policy file not found' -- tools --schema --policy "$TMP/none.json"
# invalid option values of mcp and tools are invalid input (4), as for run;
# an unknown option stays a usage error (2)
for v in "--timeout x" "--timeout inf" "--mode sideways" "--output-limit 1q" "--idle-timeout nan" "--max-message-size 1e300" "--max-read-bytes -1"; do
    # shellcheck disable=SC2086
    timeout_check "mcp_invalid_value_is_4_$(echo "$v" | tr -c 'a-z0-9\n' _)" 4 "is not|use restricted" -- mcp $v
done
timeout_check mcp_unknown_option_is_usage 2 "unknown or incomplete option" -- mcp --bogus
timeout_check tools_invalid_format_is_4 4 "use openai or mcp" -- tools --schema --format yaml
check images_import_needs_a_source 2 'no SOURCE given' -- images import
check images_import_unknown_option_is_usage 2 "unknown or incomplete option '--bogus'" -- images import x --bogus
check images_import_help_names_the_sources 0 'docker-archive:FILE' -- images import --help
check images_import_unknown_transport_is_4 4 'unknown transport' -- images import ftp:x

# Copy budgets (no session needed: the options are checked first).
check cp_budget_must_be_a_size 4 '--max-bytes needs a size' -- cp --max-bytes lots 0123abcd:x out
check export_budget_must_be_a_size 4 '--max-bytes needs a size' -- export --max-bytes 0 0123abcd
check rm_budget_needs_keep_workspace 2 '--max-bytes goes with --keep-workspace' -- rm --max-bytes 1g 0123abcd
check cp_help_names_the_budget 0 'holes of a sparse file stay holes' -- cp --help

# A store with a built image and a broken one.
mkdir -p "$TMP/store2/images/llmcore-sandbox-shell/1.0.0/rootfs" "$TMP/store2/images/junk/1.0"
cp "$ROOT/container_images/specialized/shell/capabilities.json" "$TMP/store2/images/llmcore-sandbox-shell/1.0.0/"
echo '{' > "$TMP/store2/images/junk/1.0/capabilities.json"
check store_image_is_local 0 'llmcore-sandbox-shell:1.0.0 .* yes' -- --store "$TMP/store2" images
check store_broken_manifest_warns 0 'warning: skipped store image junk:1.0' -- --store "$TMP/store2" images
LLMCORE_SANDBOX_STORE=$TMP/store2 json_check store_env_variable_is_used '[i["ref"] for i in d] == ["llmcore-sandbox-shell:1.0.0"]' -- images --available --json

# ---- run: one command in a sandbox (busybox root filesystem fixture)
if [ "$(id -u)" -ne 0 ] || [ ! -x /bin/busybox ]; then
    for t in run_exit_status run_timeout run_json run_limit_needs_consent run_unbuilt_image run_stdin run_usage; do
        echo "SKIP $t: needs root and busybox-static (scripts/install-deps.sh)"
    done
else
    RFS=$TMP/rootfs
    sh "$ROOT/tests/fixtures/mkrootfs.sh" "$RFS" >/dev/null
    check run_exit_status 7 '^hello from sandbox in /home/sandbox/work$' -- run --rootfs "$RFS" -- sh -c 'echo hello from $(id -un) in $(pwd); exit 7'
    check run_timeout 124 'verdict timeout after' -- run --rootfs "$RFS" --timeout 0.5 -- sleep 30
    check run_signal 137 '' -- run --rootfs "$RFS" -- sh -c 'kill -9 $$'
    json_check run_json 'd["verdict"] == "ok" and d["stdout"] == "x\n" and d["policy"]["memory_mb"] == 256 and d["enforced"]["no_new_privs"] is True' -- run --rootfs "$RFS" -m 256m --json -- echo x
    json_check run_env_and_workdir 'd["stdout"] == "bar /tmp\n"' -- run --rootfs "$RFS" -e FOO=bar -w /tmp --json -- sh -c 'echo $FOO $(pwd)'
    check run_limit_needs_consent 4 'above the limit of image llmcore-sandbox-base:1.0.0' -- run --rootfs "$RFS" -m 2g -- true
    check run_limit_with_consent 0 '' -- run --rootfs "$RFS" -m 2g --allow-above-limits -- true
    check run_unbuilt_image 3 'not built in the image store' -- run --image llmcore-sandbox-python -- true
    check run_unknown_image 3 "image 'nope' not found" -- run --image nope -- true
    check run_usage 2 'give exactly one of --image, --rootfs' -- run -- true
    check run_needs_command 2 'no command given' -- run --rootfs "$RFS"
    check run_bad_memory 4 "--memory '12x' is not a size" -- run --rootfs "$RFS" -m 12x -- true
    check run_bad_disk 4 "--disk '5x' is not a size in whole MiB" -- run --rootfs "$RFS" --disk 5x -- true
    json_check run_disk_cap 'd["verdict"] == "ok" and d["enforced"]["limits"]["disk_bytes"] == 8388608 and "No space left" in d["stdout"]' -- run --rootfs "$RFS" --disk 8m --json -- sh -c 'dd if=/dev/zero of=/home/sandbox/work/f bs=1M count=9 2>&1; true'
    check run_bad_network 4 "--network 'maybe'" -- run --rootfs "$RFS" --network maybe -- true
    check run_missing_rootfs 3 'is not a directory' -- run --rootfs "$TMP/none" -- true
    out=$(printf 'piped data' | "$CLI" run -i --rootfs "$RFS" -- cat 2>&1)
    [ "$out" = "piped data" ] && echo "PASS run_stdin" || echo "FAIL run_stdin: got '$out'"
    check run_help 0 'Exit status: the command' -- run --help
    timeout_check run_seccomp_fifo_is_refused 4 'seccomp profile .*/fifo is a FIFO, not a regular file' -- run --rootfs "$RFS" --seccomp "$TMP/fifo" -- true
    timeout_check run_seccomp_missing_is_not_found 3 'seccomp profile file not found: .*/none.json$' -- run --rootfs "$RFS" --seccomp "$TMP/none.json" -- true
    timeout_check run_bad_workdir_is_a_failure_not_125 1 'cannot change to the working directory /no/such/dir: No such file' -- run --rootfs "$RFS" -w /no/such/dir -- true
    # In a chroot the kernel refuses new user namespaces (EPERM); the error
    # says so instead of blaming the user-namespace sysctls. The chroot is a
    # recursive bind mount of / (same paths inside) in a private mount namespace.
    mkdir -p "$TMP/chroot"
    out=$(unshare --mount --propagation private sh -c 'mount --rbind / "$1" && exec chroot "$1" "$2" run --rootfs "$3" -- true' \
          sh "$TMP/chroot" "$CLI" "$RFS" 2>&1); rc=$?
    if [ $rc = 1 ] && printf '%s' "$out" | grep -q 'as root: this process runs in a chroot, where the kernel refuses new user namespaces'; then
        echo "PASS run_in_a_chroot_says_why_it_cannot"
    else echo "FAIL run_in_a_chroot_says_why_it_cannot: exit $rc: $(printf '%s' "$out" | head -c 300)"; fi
    timeout_check run_timeout_inf_is_invalid 4 "--timeout 'inf' is not a positive number" -- run --rootfs "$RFS" --timeout inf -- true
    # --json of NUL-heavy output: each NUL is 6 bytes of JSON ("\u0000"); the
    # CLI's peak memory must stay a small multiple of the output cap (the
    # output is escaped straight into stdout), not ~14 times it
    rss_kb=$(python3 - "$CLI" "$RFS" "$TMP/nul.json" <<'PY'
import resource, subprocess, sys
cli, rfs, out = sys.argv[1:]
with open(out, "wb") as f:
    subprocess.run([cli, "run", "--rootfs", rfs, "--output-limit", "20m", "--json", "--",
                    "head", "-c", "20m", "/dev/zero"], stdout=f)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
    if python3 -c "import json,sys; d=json.load(open('$TMP/nul.json')); sys.exit(0 if d['stdout'] == '\0' * 20971520 else 1)" &&
       [ "$rss_kb" -lt $((4 * 20 * 1024)) ]; then echo "PASS run_json_nul_output_memory_bounded"
    else echo "FAIL run_json_nul_output_memory_bounded: peak RSS ${rss_kb} KiB for a 20 MiB cap (bound 80 MiB), $(head -c 200 "$TMP/nul.json")"; fi
    rm -f "$TMP/nul.json"
fi
