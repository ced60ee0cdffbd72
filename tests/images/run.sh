#!/bin/sh
# run.sh - the image test suite.
#   tests/images/run.sh --quick   CI subset: build base + python natively
#                                 (incremental), static checks of every built
#                                 image (SUID scan included), smoke tests of
#                                 base + python, the false-claim check, a
#                                 custom image built with `llmcore-sandbox build`,
#                                 images import (tests/images/import.sh)
#   tests/images/run.sh --ci      what make check runs: all six built
#                                 (incremental), static checks, smoke tests
#                                 of all six (the seed's checks, websearch on
#                                 loopback, RESTRICTED without network, FULL
#                                 with it), false claim, custom image
#   tests/images/run.sh --full    --ci plus VERSION propagation, push to a
#                                 local registry and the podman engine path
# Environment: VERSION (1.0.0), STORE (default store).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
mode=${1:---quick}
export VERSION STORE
out=$(mktemp)
trap 'rm -rf "$out" "$out.step" "$out.build"' EXIT
step() { # step SCRIPT ARGS...: its result lines; a script that fails
    # without naming a failed test (a syntax error, a crash) is a failure
    s=$1; shift
    "$HERE/$s" "$@" >"$out.step" 2>&1; rc=$?
    cat "$out.step" >>"$out"
    grep -E '^(PASS|FAIL|SKIP) ' "$out.step"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out.step"; then
        echo "FAIL $s: exited $rc without naming a failed test: $(tail -n 3 "$out.step" | tr '\n' ' ')" | tee -a "$out"
    fi
}
build() {
    if make -s -C "$TOP/container_images" "$@" VERSION="$VERSION" STORE="$STORE" >"$out.build" 2>&1; then
        echo "PASS build.$*" | tee -a "$out"
    else
        echo "FAIL build.$*: $(tail -n 8 "$out.build" | tr '\n' ' ')" | tee -a "$out"
    fi
    rm -f "$out.build"
}
case "$mode" in
--quick)
    build python
    step static.sh
    step smoke.sh base python
    step falseclaim.sh
    step custom.sh
    step import.sh
    ;;
--ci)
    build all
    step static.sh
    step smoke.sh
    step falseclaim.sh
    step custom.sh
    step import.sh
    ;;
--full)
    build all
    step static.sh
    step smoke.sh
    step falseclaim.sh
    step custom.sh
    step import.sh
    step version.sh
    step push.sh
    step engine.sh
    ;;
*) echo "usage: run.sh --quick|--ci|--full" >&2; exit 2 ;;
esac
p=$(grep -c '^PASS ' "$out") f=$(grep -c '^FAIL ' "$out") s=$(grep -c '^SKIP ' "$out")
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
