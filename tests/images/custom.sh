#!/bin/sh
# custom.sh - a custom recipe directory builds natively on top of a shipped
# image (build-custom.sh), lands in the store, is listed and selectable.
#   VERSION=1.0.0 STORE=... tests/images/custom.sh
set -u
. "$(dirname "$0")/lib.sh"
built python || { skip custom "llmcore-sandbox-python:$VERSION not built"; summary; exit $?; }
D=$(mktemp -d /tmp/lcs-custom.XXXXXX)
trap 'rm -rf "$D"; rm -rf "$STORE/images/my-custom-image"' EXIT
cat >"$D/capabilities.json" <<JSON
{
  "name": "my-custom-image",
  "version": "1.0.0",
  "tier": "task",
  "description": "Custom test image: python plus sqlite3",
  "parent_image": "$PREFIX-python:$VERSION",
  "capabilities": ["shell", "filesystem", "python", "git"],
  "tools": ["python3", "sqlite3", "git"],
  "default_access_mode": "restricted",
  "resource_limits": {"memory_mb": 1024, "cpu_cores": 1, "timeout_seconds": 300, "max_processes": 100}
}
JSON
cat >"$D/recipe.sh" <<'SH'
#!/bin/sh
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
lcs_begin
lcs_install common="sqlite3"
lcs_finish
SH
if "$CLI" --store "$STORE" build "$D" >"$D/build.log" 2>&1; then
    pass custom.build-native
else
    fail custom.build-native "$(tail -n 5 "$D/build.log" | tr '\n' ' ')"
fi
"$CLI" --store "$STORE" images 2>&1 | grep -q '^my-custom-image:1.0.0 .* yes' && pass custom.listed-available ||
    fail custom.listed-available "$("$CLI" --store "$STORE" images 2>&1 | grep custom)"
expect custom.runs '^3\.' "$CLI" --store "$STORE" run --image my-custom-image:1.0.0 -- sqlite3 --version
expect custom.selectable 'my-custom-image:1.0.0' "$CLI" --store "$STORE" select --task custom_task --map custom_task=my-custom-image:1.0.0
summary
