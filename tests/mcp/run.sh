#!/bin/sh
# run.sh [CLI] - the MCP test suites (LCS_MCP_ENGINE: see below):
#   protocol.py    raw JSON-RPC lines against the server (Python stdlib)
#   sdk_client.cjs the official MCP TypeScript SDK client (@modelcontextprotocol/sdk),
#                  installed at test time into a cache directory outside the
#                  repository ($LLMCORE_SANDBOX_NPM_CACHE, default
#                  /var/cache/llmcore-sandbox/npm, else ~/.cache/llmcore-sandbox/npm)
# Prints PASS/FAIL/SKIP lines; exits non-zero if any test failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cli=$(cd "$(dirname "${1:-$root/build/llmcore-sandbox}")" && pwd)/$(basename "${1:-llmcore-sandbox}")
rc=0
# LCS_MCP_ENGINE=unix:///PATH: only the SDK conversations, on the Docker
# backend against that engine (the protocol checks make no sandbox)
[ -n "${LCS_MCP_ENGINE:-}" ] || python3 "$here/protocol.py" "$cli" || rc=1

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "SKIP sdk_client: node/npm not installed (scripts/install-deps.sh installs nodejs and npm)"
    exit $rc
fi
cache=${LLMCORE_SANDBOX_NPM_CACHE:-/var/cache/llmcore-sandbox/npm}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/llmcore-sandbox/npm
    mkdir -p "$cache"
fi
if [ ! -f "$cache/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
    [ -f "$cache/package.json" ] || echo '{"name": "llmcore-sandbox-test-deps", "private": true}' > "$cache/package.json"
    if ! (cd "$cache" && npm install --no-audit --no-fund --silent "@modelcontextprotocol/sdk@^1" >"$cache/install.log" 2>&1); then
        echo "FAIL sdk_client: npm install @modelcontextprotocol/sdk failed (see $cache/install.log)"
        exit 1
    fi
fi
tmp=$(mktemp -d /tmp/lcs-mcp-sdk-XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! sh "$root/tests/fixtures/mkrootfs.sh" "$tmp/rootfs" >/dev/null 2>"$tmp/mkrootfs.err"; then
    echo "SKIP sdk_client: the busybox rootfs could not be made: $(cat "$tmp/mkrootfs.err")"
    exit $rc
fi
pyimg=$("$cli" images --available --json 2>/dev/null | python3 -c '
import json, sys
try:
    refs = [i.get("ref", "") for i in json.load(sys.stdin)]
except ValueError:
    refs = []
print(next((r for r in refs if r.startswith("llmcore-sandbox-python")), ""))')
node "$here/sdk_client.cjs" "$cache/node_modules" "$cli" "$tmp/rootfs" "$tmp/runs" $pyimg || rc=1
exit $rc
