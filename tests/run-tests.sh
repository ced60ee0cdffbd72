#!/usr/bin/env bash
# Runs the whole test suite and ends with one line "N passed, N failed".
#
# Suites:
#   layers    tests/layers/run.sh: src/ includes only downwards
#   unit      cmocka tests, built normally (build/) and with ASan+UBSan (build-san/)
#   cli       tests/cli/run.sh against both CLI builds
#   python    tests/python/run.py (the ctypes binding, the seed snippet, README examples)
#   images    tests/images/run.sh --ci: builds the six images, checks them (root)
#   docker    tests/docker/run.sh: the Docker backend's rendered container
#             run on Podman's Docker-compatible service
#   tools     tests/tools, tests/mcp: agent tools and the MCP server, both CLI builds
#   docs      the README's examples
#   runtime   tests/runtime/run-all.sh: verdicts, tests/security attacks, build
#             mode, tests/session (sessions), rootless
#   runtime-san  tests/runtime/run-all.sh again with the ASan+UBSan build
#             (session reports of every process, detached monitors included)
#   v2lane    tests/v2lane/run.sh: a cgroup-v2-only Debian guest under qemu
#             (software emulation) runs the limit, verdict, cgroup and
#             session tests (SKIP without qemu-system-x86_64)
#   distro    tests/distro/run.sh: the host's clang; a Debian 13 root (gcc 14,
#             clang 19): builds, unit and CLI suites, the base image
#
# Each suite prints "PASS name", "FAIL name: why" or "SKIP name: why" lines
# (cmocka's TAP output is translated). A suite that exits non-zero without
# reporting a failure counts as one failure.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
passed=0 failed=0 skipped=0
failures=()

record() { # suite line
    local suite=$1 line=$2
    case "$line" in
    PASS\ *) passed=$((passed + 1)); echo "PASS $suite: ${line#PASS }" ;;
    FAIL\ *) failed=$((failed + 1)); failures+=("$suite: ${line#FAIL }"); echo "FAIL $suite: ${line#FAIL }" ;;
    SKIP\ *) skipped=$((skipped + 1)); echo "SKIP $suite: ${line#SKIP }" ;;
    "# v2lane"* | "# cgmove"* | "# distro"* | "# docker"*) echo "     $line" ;; # what a lane measured or ran on
    *) [ -n "${VERBOSE:-}" ] && echo "     $line" ;;
    esac
}

# run_suite NAME CMD...: runs CMD, records its result lines.
run_suite() {
    local suite=$1; shift
    local out rc before=$failed
    out=$(mktemp)
    "$@" >"$out" 2>&1
    rc=$?
    while IFS= read -r line; do record "$suite" "$line"; done <"$out"
    if [ $rc -ne 0 ] && [ $failed -eq $before ]; then
        record "$suite" "FAIL suite exited with status $rc without naming a failed test"
        tail -n 20 "$out" | sed 's/^/     | /'
    elif [ $failed -ne $before ]; then
        grep -v -E '^(PASS|SKIP) ' "$out" | tail -n 40 | sed 's/^/     | /'
    fi
    rm -f "$out"
}

# cmocka in TAP mode -> PASS/FAIL/SKIP lines.
cmocka_suite() {
    CMOCKA_MESSAGE_OUTPUT=TAP "$1" 2>&1 | awk -f tests/tap.awk
    return "${PIPESTATUS[0]}"
}

# The library's layers include only downwards (scripts/check-layers.sh).
run_suite layers tests/layers/run.sh

for build in build build-san; do
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        run_suite "unit/$(basename "$t")${build#build}" cmocka_suite "$t"
    done
done

for build in build build-san; do
    run_suite "cli${build#build}" tests/cli/run.sh "$ROOT/$build/llmcore-sandbox"
done

# Images: builds the six images natively when missing or changed (about 10
# minutes on a fresh machine, seconds when the store is current), then the
# static checks of every image (SUID scan included), the smoke tests, the
# false-claim check and a custom image (tests/images/run.sh).
if [ "$(id -u)" -eq 0 ]; then
    run_suite images tests/images/run.sh --ci
else
    record images "SKIP image builds: need root"
fi

# The Docker backend's container rendering on a real engine (Podman's
# Docker-compatible service, started by the test): after the images, whose
# base it loads.
run_suite docker tests/docker/run.sh "$ROOT/build"

# Agent tools end to end (tests/tools) and the MCP server (tests/mcp), both builds.
for build in build build-san; do
    if [ -x "$build/llmcore-sandbox" ] && command -v python3 >/dev/null; then
        run_suite "tools${build#build}" python3 tests/tools/e2e.py "$ROOT/$build/llmcore-sandbox"
        run_suite "mcp${build#build}" tests/mcp/run.sh "$ROOT/$build/llmcore-sandbox"
    fi
done

if command -v python3 >/dev/null; then
    run_suite python python3 tests/python/run.py
    run_suite docs python3 tests/docs/run.py
else
    record python "FAIL python3 is not installed (scripts/install-deps.sh installs it)"
fi

for s in tests/runtime/run-all.sh tests/security/run.sh; do
    [ -x "$s" ] && run_suite "${s%/*}" "$s"
done
# The runtime suite again with the sanitizer build: verdicts, attacks, build
# mode, rootless and doctor through its lcs-native-run, sessions and warm runs
# through its CLI, monitor and helpers (their reports collected from every
# process, detached monitors included).
run_suite runtime-san tests/runtime/run-all.sh "$ROOT/build-san/lcs-native-run"

# The cgroup v2 controller path on a cgroup-v2-only kernel: tests/v2lane
# boots a Debian guest (cached in /var/cache/llmcore-sandbox-test/v2lane,
# built with mmdebstrap when missing) and runs tests/v2lane/tests.list there
# against build/ (about 4 minutes under software emulation; it skips, saying
# why, without qemu-system-x86_64).
run_suite v2lane tests/v2lane/run.sh "$ROOT/build"

# Other compilers and Debian 13: tests/distro builds everything with the
# host's clang and runs the unit tests, then, in a Debian 13 root (cached in
# /var/cache/llmcore-sandbox-test/distro, made with mmdebstrap and
# scripts/install-deps.sh when missing), the README's build with its gcc 14
# and clang 19, the unit and CLI suites, and the base image built there.
run_suite distro tests/distro/run.sh


echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "Failures:"
    printf '  %s\n' "${failures[@]}"
fi
if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
