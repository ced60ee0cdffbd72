# shellcheck shell=sh
# lib.sh - helpers of the image tests (sourced). Every check prints one line:
# "PASS name", "FAIL name: why" or "SKIP name: why"; summary() prints the
# plain "N passed, N failed, N skipped" line and sets the exit status.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=${VERSION:-1.0.0}
STORE=${STORE:-${LLMCORE_SANDBOX_STORE:-/var/lib/llmcore-sandbox}}
CLI=${LCS_CLI:-$TOP/build/llmcore-sandbox}
PREFIX=llmcore-sandbox
IMAGES="base python nodejs shell research websearch" # used by the sourcing scripts
export IMAGES
N_PASS=0 N_FAIL=0 N_SKIP=0

pass() { echo "PASS $1"; N_PASS=$((N_PASS + 1)); }
fail() { echo "FAIL $1: $2"; N_FAIL=$((N_FAIL + 1)); }
skip() { echo "SKIP $1: $2"; N_SKIP=$((N_SKIP + 1)); }
summary() {
    echo "$N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
    [ "$N_FAIL" = 0 ]
}
image_dir() { echo "$STORE/images/$PREFIX-$1/$VERSION"; }
built() { [ -d "$(image_dir "$1")/rootfs" ]; }
# sbx IMAGE [CLI run options] -- COMMAND...: run in the image with the
# product's own policy (access mode, limits and env from the manifest).
sbx() {
    img=$1
    shift
    "$CLI" --store "$STORE" run --image "$PREFIX-$img:$VERSION" "$@"
}
# expect NAME EXPECTED_REGEX COMMAND...: PASS when the command succeeds and
# its output matches.
expect() {
    name=$1 re=$2
    shift 2
    out=$("$@" 2>&1) && printf '%s\n' "$out" | grep -Eq "$re" && pass "$name" ||
        fail "$name" "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ' | cut -c1-400)"
}
