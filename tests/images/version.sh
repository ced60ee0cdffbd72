#!/bin/sh
# version.sh - VERSION really propagates: build base and python natively
# with VERSION=$TEST_VERSION (default 1.1.0) into a scratch store and check
# the tags, the parent reference, the in-image manifest and the labels.
#   STORE=... tests/images/version.sh
set -u
. "$(dirname "$0")/lib.sh"
TV=${TEST_VERSION:-1.1.0}
S=${VERSION_STORE:-$(mktemp -d /var/tmp/lcs-version-store.XXXXXX)}
if make -s -C "$TOP/container_images" python VERSION="$TV" STORE="$S" >"$S/make.log" 2>&1; then
    pass "version.build-$TV"
else
    fail "version.build-$TV" "$(tail -n 5 "$S/make.log" | tr '\n' ' ')"
fi
VERSION=$TV STORE=$S "$TOP/tests/images/static.sh" base python | sed 's/^\(PASS\|FAIL\|SKIP\) /\1 version.&/; s/^\(PASS\|FAIL\|SKIP\) version\.\(PASS\|FAIL\|SKIP\) /\1 version./' >"$S/static.out"
grep -E '^(PASS|FAIL|SKIP) ' "$S/static.out"
N_PASS=$((N_PASS + $(grep -c '^PASS ' "$S/static.out")))
N_FAIL=$((N_FAIL + $(grep -c '^FAIL ' "$S/static.out")))
p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parent_image"])' "$S/images/$PREFIX-python/$TV/rootfs/etc/llmcore/capabilities.json" 2>&1)
[ "$p" = "$PREFIX-base:$TV" ] && pass version.parent-ref || fail version.parent-ref "got $p"
out=$(VERSION=$TV STORE=$S "$CLI" --store "$S" run --image "$PREFIX-python:$TV" -- sh -c 'grep "\"version\"" /etc/llmcore/capabilities.json' 2>&1)
echo "$out" | grep -q "\"$TV\"" && pass version.in-sandbox || fail version.in-sandbox "$out"
[ -n "${VERSION_STORE:-}" ] || rm -rf "$S"
summary
