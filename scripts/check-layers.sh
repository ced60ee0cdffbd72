#!/bin/sh
# check-layers.sh [SRC_DIR] - the library's layers include only downwards:
#
#   util < image < policy < runtime < session < tools
#
# (runtime/ is the backends and the prepare step; session/ drives them and
# dispatches runs; tools/ serves agents.) Any layer may include the public
# header (llmcore/). Prints one line per upward include found and
# "layers: ok" or "layers: N upward includes"; exits 1 if there is any.
set -u
src=${1:-$(dirname "$0")/../src}
find "$src" \( -name '*.c' -o -name '*.h' \) | sort | xargs awk -v src="$src" '
    BEGIN { n = split("util image policy runtime session tools", order, " ")
            for (i = 1; i <= n; i++) rank[order[i]] = i }
    FNR == 1 { rel = substr(FILENAME, length(src) + 2); split(rel, parts, "/"); layer = parts[1] }
    /^[ \t]*#[ \t]*include[ \t]*"[A-Za-z_]+\// {
        dir = $0; sub(/^[^"]*"/, "", dir); sub(/\/.*/, "", dir)
        if (dir == "llmcore" || !(layer in rank)) next
        if (!(dir in rank) || rank[dir] > rank[layer]) {
            printf "upward include: %s:%d: %s includes %s/\n", rel, FNR, layer, dir; bad++ }
    }
    END { if (bad) { print "layers: " bad " upward includes"; exit 1 } print "layers: ok" }' || exit 1
