# lib.sh - sourced by the session suites (run.sh, shared.sh): what a
# destroyed session must not leave behind. Needs C, W and
# LLMCORE_SANDBOX_STATE; LCS_SESSION_ENGINE (unix:///PATH) adds the
# engine's containers of the session.

# leftovers ID: what a destroyed session must not leave behind (waits up
# to 5 s for it to go: a sanitizer build's monitor takes a moment to exit)
leftovers() {
    local i
    for i in $(seq 1 $((25 * W))); do
        [ -z "$(leftovers_now "$1")" ] && return
        sleep 0.2
    done
    leftovers_now "$1"
}
leftovers_now() {
    local id=$1
    find /sys/fs/cgroup -maxdepth 6 -type d -name "lcs-$id" 2>/dev/null
    ls -d "$LLMCORE_SANDBOX_STATE/sessions/$id" /var/tmp/llmcore-sandbox/lcs-"$id" 2>/dev/null
    grep -F "lcs-$id" /proc/self/mountinfo
    pgrep -af "llmcore-sandbox-monitor $LLMCORE_SANDBOX_STATE/sessions/$id"
    pgrep -af "pasta.*lcs-$id"
    # a Docker-backend session's container (labelled with the session id)
    if [ -n "${LCS_SESSION_ENGINE:-}" ]; then
        curl -sS --max-time 20 --unix-socket "${LCS_SESSION_ENGINE#unix://}" -G \
            --data-urlencode "filters={\"label\":[\"llmcore-sandbox.session=$id\"]}" \
            "http://d/v1.41/containers/json?all=1" |
            python3 -c 'import json,sys; [print("container", c["Id"][:12], c.get("State")) for c in json.load(sys.stdin)]'
    fi
}
