#!/bin/sh
# falseclaim.sh - a manifest is a contract: an image whose manifest claims a
# tool (or capability) it lacks fails its build, and the message names it.
#   VERSION=1.0.0 STORE=... tests/images/falseclaim.sh
set -u
. "$(dirname "$0")/lib.sh"
built base || { skip falseclaim "llmcore-sandbox-base:$VERSION not built"; summary; exit $?; }
D=$(mktemp -d /tmp/lcs-false.XXXXXX)
trap 'rm -rf "$D" "$STORE/images/false-claim-image" "$STORE/images/false-claim-image"*' EXIT
cat >"$D/capabilities.json" <<JSON
{
  "name": "false-claim-image",
  "version": "1.0.0",
  "tier": "specialized",
  "description": "claims jq and pandoc without installing them",
  "parent_image": "$PREFIX-base:$VERSION",
  "capabilities": ["shell", "pandoc"],
  "tools": ["bash", "jq"],
  "default_access_mode": "restricted"
}
JSON
printf '#!/bin/sh\nset -eu\n. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"\nlcs_begin\nlcs_finish\n' >"$D/recipe.sh"
out=$("$TOP/container_images/build-custom.sh" --store "$STORE" "$D" 2>&1)
rc=$?
[ $rc != 0 ] && pass falseclaim.build-fails || fail falseclaim.build-fails "the build succeeded"
echo "$out" | grep -q 'FAIL tool jq' && pass falseclaim.names-tool || fail falseclaim.names-tool "no 'FAIL tool jq' in output"
echo "$out" | grep -q 'FAIL cap pandoc' && pass falseclaim.names-capability || fail falseclaim.names-capability "no 'FAIL cap pandoc' in output"
[ ! -d "$STORE/images/false-claim-image/1.0.0/rootfs" ] && pass falseclaim.not-installed ||
    fail falseclaim.not-installed "the failed image is in the store"
summary
