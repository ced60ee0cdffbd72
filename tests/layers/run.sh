#!/bin/sh
# run.sh - the library's layering (scripts/check-layers.sh): the tree
# includes only downwards, and the check does fail on an upward include
# (planted into a copy of the tree).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if out=$("$top/scripts/check-layers.sh" "$top/src" 2>&1); then
    echo "PASS layers_include_only_downwards"
else
    echo "FAIL layers_include_only_downwards: $(printf '%s' "$out" | tr '\n' ' ')"
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cp -r "$top/src" "$t/src"
printf '#include "session/session_int.h"\n' >>"$t/src/runtime/run.c"
printf '#include "tools/common.h"\n' >>"$t/src/util/io.h"
out=$("$top/scripts/check-layers.sh" "$t/src" 2>&1); rc=$?
if [ $rc = 1 ] && printf '%s' "$out" | grep -q 'runtime/run.c:[0-9]*: runtime includes session/' &&
   printf '%s' "$out" | grep -q 'util/io.h:[0-9]*: util includes tools/' &&
   printf '%s' "$out" | grep -q 'layers: 2 upward includes'; then
    echo "PASS layers_check_names_each_upward_include"
else
    echo "FAIL layers_check_names_each_upward_include: exit $rc: $(printf '%s' "$out" | tr '\n' ' ')"
fi
