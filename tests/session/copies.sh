#!/bin/bash
# copies.sh - what copying out of a session costs the host, and what a
# hostile sandbox can do to the operator through cp and ls (root). Prints
# PASS/FAIL/SKIP lines. Run by tests/runtime/run-all.sh, or alone:
#
#   tests/session/copies.sh [BUILD_DIR]        (default build/)
#
# The sandbox makes a 1 GiB sparse file (it costs the sandbox one page);
# every host-side copy (cp to a file, cp to a pipe, export, rm
# --keep-workspace) is checked against a bound on the disk blocks it
# allocates and on the copier's peak RSS. Private LLMCORE_SANDBOX_STATE.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(realpath "${1:-$top/build}")
C=$B/llmcore-sandbox
PASSES=0 FAILS=0 SKIPS=0
pass() { echo "PASS $1"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
if [ "$(id -u)" != 0 ]; then echo "SKIP session_copies: need root"; exit 0; fi
[ -x "$C" ] || { echo "FAIL session_copies: $C missing (run make)"; exit 1; }
tmp=$(mktemp -d /tmp/lcs-copies-XXXXXX); chmod 755 "$tmp"
export LLMCORE_SANDBOX_STATE=$tmp/state
RFS=$tmp/rootfs
cleanup() {
    for d in "$LLMCORE_SANDBOX_STATE"/sessions/*/; do
        [ -d "$d" ] && "$C" rm "$(basename "$d")" >/dev/null 2>&1
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
"$top/tests/fixtures/mkrootfs.sh" "$RFS" >/dev/null || { echo "FAIL fixture: mkrootfs"; exit 1; }

GIB=1073741824
# A host copy of the sparse file may allocate at most this much (its data
# is a few bytes; the rest is holes) and its copier may peak at this RSS.
MAX_KB=1024 MAX_RSS_KB=65536
kb() { du -sk "$1" | cut -f1; }       # allocated, not apparent, size
peak_rss() { /usr/bin/time -f %M -o "$tmp/rss" "$@"; local rc=$?; RSS=$(tail -1 "$tmp/rss"); return $rc; }
[ -x /usr/bin/time ] || peak_rss() { "$@"; local rc=$?; RSS=0; return $rc; }

id=$("$C" create --rootfs "$RFS" 2>"$tmp/err") || { fail session_copies_create "$(cat "$tmp/err")"; exit 1; }
# 1 GiB, holes except "needle" at 500 MB: what the sandbox pays is one page.
"$C" exec "$id" -- sh -c "truncate -s $GIB sparse && printf needle | dd of=sparse bs=1 seek=500000000 conv=notrunc 2>/dev/null && md5sum sparse" >"$tmp/md5" 2>&1
want_md5=$(cut -d' ' -f1 "$tmp/md5")

# ---- cp to a file
peak_rss "$C" cp "$id:sparse" "$tmp/cp.out" 2>"$tmp/err"; rc=$?
if [ $rc = 0 ] && [ "$(stat -c %s "$tmp/cp.out")" = $GIB ] && [ "$(kb "$tmp/cp.out")" -le $MAX_KB ] &&
   [ "$RSS" -le $MAX_RSS_KB ] && [ "$(md5sum < "$tmp/cp.out" | cut -d' ' -f1)" = "$want_md5" ]; then
    pass cp_sparse_file_keeps_its_holes
else fail cp_sparse_file_keeps_its_holes "rc=$rc allocated $(kb "$tmp/cp.out" 2>/dev/null) KB (max $MAX_KB), rss $RSS KB $(cat "$tmp/err")"; fi
rm -f "$tmp/cp.out"

# ---- cp to a pipe: the zeros are written, so the budget stops it
"$C" cp --max-bytes 64m "$id:sparse" - 2>"$tmp/err" | wc -c >"$tmp/n"; rc=${PIPESTATUS[0]}
if [ "$rc" = 4 ] && grep -q 'copy budget of 67108864 bytes' "$tmp/err" && [ "$(cat "$tmp/n")" -le 67108864 ]; then
    pass cp_to_a_pipe_stops_at_the_budget
else fail cp_to_a_pipe_stops_at_the_budget "rc=$rc wrote $(cat "$tmp/n") $(cat "$tmp/err")"; fi

# ---- export: a sparse member
peak_rss "$C" export "$id" >"$tmp/ws.tar" 2>"$tmp/err"; rc=$?
mkdir -p "$tmp/untar"
if [ $rc = 0 ] && [ "$(kb "$tmp/ws.tar")" -le $MAX_KB ] && [ "$RSS" -le $MAX_RSS_KB ] &&
   tar -xf "$tmp/ws.tar" -C "$tmp/untar" && [ "$(kb "$tmp/untar/sparse")" -le $MAX_KB ] &&
   [ "$(md5sum < "$tmp/untar/sparse" | cut -d' ' -f1)" = "$want_md5" ]; then
    pass export_writes_sparse_members
else fail export_writes_sparse_members "rc=$rc tar $(kb "$tmp/ws.tar") KB (max $MAX_KB), rss $RSS KB $(cat "$tmp/err")"; fi
rm -rf "$tmp/ws.tar" "$tmp/untar"
"$C" export --max-bytes 3 "$id" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc = 4 ] && grep -q 'copy budget of 3 bytes' "$tmp/err"; then pass export_stops_at_the_budget
else fail export_stops_at_the_budget "rc=$rc $(cat "$tmp/err")"; fi

# ---- cp ID:x FILE when the sandbox turned x into a directory: FILE survives
printf 'precious operator data\n' > "$tmp/mine.txt"
"$C" exec "$id" -- mkdir x
"$C" cp "$id:x" "$tmp/mine.txt" 2>"$tmp/err"; rc=$?
if [ $rc != 0 ] && [ "$(cat "$tmp/mine.txt")" = 'precious operator data' ]; then
    pass cp_from_a_directory_leaves_the_destination_intact
else fail cp_from_a_directory_leaves_the_destination_intact "rc=$rc, file now: '$(cat "$tmp/mine.txt" 2>&1)'"; fi
# ... and while the sandbox keeps swapping x between a file and a directory
"$C" exec "$id" -- sh -c 'rmdir x; i=0; while [ $i -lt 4000 ]; do echo new > x.f; mv x.f x; rm x; mkdir x; rmdir x; i=$((i+1)); done' >/dev/null 2>&1 &
swapper=$!
bad=
for i in $(seq 1 40); do
    "$C" cp "$id:x" "$tmp/mine.txt" 2>/dev/null
    c=$(cat "$tmp/mine.txt" 2>/dev/null) || { bad="missing after try $i"; break; }
    case "$c" in 'precious operator data'|new) ;; *) bad="try $i left '$c'"; break ;; esac
done
kill $swapper 2>/dev/null; wait $swapper 2>/dev/null
leftover=$(ls -A "$tmp" | grep -c '^\.llmcore-sandbox-cp')
if [ -z "$bad" ] && [ "$leftover" = 0 ]; then pass cp_racing_a_swapped_source_never_destroys_the_destination
else fail cp_racing_a_swapped_source_never_destroys_the_destination "${bad:-$leftover temporary files left}"; fi
# a budget hit leaves the destination as it was too
printf 'precious operator data\n' > "$tmp/mine.txt"
"$C" exec "$id" -- sh -c 'rm -rf x; dd if=/dev/urandom of=x bs=1k count=8 2>/dev/null'
"$C" cp --max-bytes 1k "$id:x" "$tmp/mine.txt" 2>"$tmp/err"; rc=$?
if [ $rc = 4 ] && [ "$(cat "$tmp/mine.txt")" = 'precious operator data' ] && grep -q 'copy budget of 1024' "$tmp/err"; then
    pass cp_over_the_budget_leaves_the_destination_intact
else fail cp_over_the_budget_leaves_the_destination_intact "rc=$rc '$(cat "$tmp/mine.txt")' $(cat "$tmp/err")"; fi

# ---- ls: names chosen by the sandbox reach the operator's terminal
"$C" exec "$id" -- sh -c 'rm -rf x x.f; touch "$(printf "esc\033]0;pwned\007\033[2J")" "$(printf "two\nFAKE 0644 1 forged")" "$(printf "bad\377utf8")" "$(printf "a\342\200\256txt.exe")"'
"$C" ls "$id" >"$tmp/ls" 2>&1
lines=$(wc -l < "$tmp/ls")
if [ "$lines" = 5 ] && ! grep -q "$(printf '\033')" "$tmp/ls" && ! grep -q "$(printf '\342\200\256')" "$tmp/ls" &&
   ! grep -q "$(printf '\377')" "$tmp/ls" && grep -qF 'two\nFAKE' "$tmp/ls" && grep -qF 'a\u202etxt.exe' "$tmp/ls" &&
   grep -qF 'esc\x1b]0;pwned\x07' "$tmp/ls"; then
    pass ls_escapes_hostile_names
else fail ls_escapes_hostile_names "$lines lines: $(od -c "$tmp/ls" | head -12)"; fi
"$C" ls --json "$id" >"$tmp/ls.json" 2>&1
if python3 - "$tmp/ls.json" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
d = json.loads(raw.decode("utf-8"))           # strict: valid UTF-8 and JSON
names = {e["path"].rsplit("/", 1)[1]: e for e in d}
exact = {bytes.fromhex(e["path_bytes"]).rsplit(b"/", 1)[1] for e in d if "path_bytes" in e}
assert b"bad\xffutf8" in exact, exact
assert "two\nFAKE 0644 1 forged" in names and "a\u202etxt.exe" in names, names.keys()
assert b"\x1b" not in raw and "\u202e".encode() not in raw, "raw control bytes in the JSON"
PY
then pass ls_json_is_valid_with_hostile_names
else fail ls_json_is_valid_with_hostile_names "$(head -c 400 "$tmp/ls.json")"; fi

# ---- rm --keep-workspace: streamed, holes kept (the session has two 1 GiB sparse files)
"$C" exec "$id" -- sh -c "rm -f x esc* two* bad* a*; truncate -s $GIB sparse2"
peak_rss "$C" rm --keep-workspace "$tmp/keep" "$id" 2>"$tmp/err"; rc=$?
if [ $rc = 0 ] && [ "$(kb "$tmp/keep")" -le $((2 * MAX_KB)) ] && [ "$RSS" -le $MAX_RSS_KB ] &&
   [ "$(stat -c %s "$tmp/keep/sparse2")" = $GIB ] &&
   [ "$(md5sum < "$tmp/keep/sparse" | cut -d' ' -f1)" = "$want_md5" ]; then
    pass keep_workspace_streams_and_keeps_holes
else fail keep_workspace_streams_and_keeps_holes "rc=$rc allocated $(kb "$tmp/keep" 2>/dev/null) KB (max $((2 * MAX_KB))), rss $RSS KB $(cat "$tmp/err")"; fi
"$C" rm "$id" >/dev/null 2>&1

# a budget hit keeps the session
id=$("$C" create --rootfs "$RFS" 2>"$tmp/err")
"$C" exec "$id" -- sh -c 'dd if=/dev/urandom of=data bs=1k count=64 2>/dev/null'
"$C" rm --keep-workspace "$tmp/keep2" --max-bytes 4k "$id" 2>"$tmp/err"; rc=$?
if [ $rc = 4 ] && grep -q 'kept' "$tmp/err" && grep -q 'copy budget of 4096' "$tmp/err" &&
   [ "$("$C" exec "$id" -- sh -c 'wc -c < data')" = 65536 ]; then
    pass keep_workspace_over_the_budget_keeps_the_session
else fail keep_workspace_over_the_budget_keeps_the_session "rc=$rc $(cat "$tmp/err")"; fi
"$C" rm "$id" >/dev/null 2>&1

echo "# session copies: $PASSES passed, $FAILS failed, $SKIPS skipped"
[ "$FAILS" -eq 0 ]
