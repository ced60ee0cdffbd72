#!/bin/sh
# smoke.sh - `make test`: every image run in the native runtime through the
# CLI (llmcore-sandbox run --image, so each image gets its manifest's access
# mode, limits and environment).
#   - the seed's checks (base shell, Python version, Node version, jq,
#     import pandas, browser automation);
#   - websearch renders a page served on loopback INSIDE the sandbox and
#     Python extracts its text;
#   - RESTRICTED images have no network; research and websearch (FULL)
#     reach the Debian archive through the sandbox's NAT.
#   VERSION=1.0.0 STORE=... tests/images/smoke.sh [IMAGE...]
set -u
. "$(dirname "$0")/lib.sh"
list=${*:-$IMAGES}
IN=$(mktemp -d /tmp/lcs-smoke.XXXXXX)
trap 'rm -rf "$IN"' EXIT
cp "$TOP/tests/images/websearch_loopback.py" "$TOP/container_images/lib/selenium_probe.py" "$IN/"
chmod 0755 "$IN" && chmod 0644 "$IN"/*

# Network: outside = the Debian archive (the one host this machine reaches).
NET_URL=http://deb.debian.org/debian/
no_network() {
    i=$1
    out=$(sbx "$i" -- sh -c "curl -sS -m 8 -o /dev/null -w '%{http_code}' $NET_URL" 2>&1)
    rc=$?
    [ $rc != 0 ] && pass "$i.restricted-no-network" ||
        fail "$i.restricted-no-network" "a RESTRICTED sandbox reached $NET_URL (HTTP $out)"
}
full_network() {
    i=$1
    out=$(sbx "$i" -- sh -c "curl -sS -m 30 -o /dev/null -w '%{http_code}' $NET_URL" 2>&1)
    case "$out" in
    [1-5][0-9][0-9]) pass "$i.full-network" ;;
    *) fail "$i.full-network" "FULL sandbox cannot reach $NET_URL: $out" ;;
    esac
}

for i in $list; do
    if ! built "$i"; then
        skip "$i.smoke" "not built in $STORE (make $i)"
        continue
    fi
    case "$i" in
    base)
        expect base.shell '^Base: OK$' sbx base -- bash -c "echo 'Base: OK'"
        expect base.user 'uid=1000\(sandbox\) gid=1000\(sandbox\).*/home/sandbox/work' sbx base -- sh -c 'echo "$(id) $(pwd)"'
        no_network base
        ;;
    python)
        expect python.version '^Python 3\.[0-9]+.*: OK$' sbx python -- python3 -c "import sys; print(f'Python {sys.version}: OK')"
        expect python.libraries '^ok$' sbx python -- python3 -c "import requests, httpx, yaml, rich; print('ok')"
        no_network python
        ;;
    nodejs)
        expect nodejs.version '^Node.js v22\.[0-9.]+: OK$' sbx nodejs -- node -e "console.log('Node.js ' + process.version + ': OK')"
        expect nodejs.npm '^10\.' sbx nodejs -- npm --version
        no_network nodejs
        ;;
    shell)
        expect shell.jq 'Shell: OK' sbx shell -- bash -c "jq --version && echo 'Shell: OK'"
        expect shell.yq '^7$' sbx shell -- sh -c "printf 'a: 7\n' | yq -r .a"
        no_network shell
        ;;
    research)
        expect research.pandas '^Research: OK$' sbx research -- python3 -c "import pandas; print('Research: OK')"
        expect research.pandoc '<h1' sbx research -- sh -c "printf '# Hi\n' | pandoc -t html"
        full_network research
        ;;
    websearch)
        expect websearch.browser-automation '\| rendered' sbx websearch --input "$IN" -m 2g --timeout 180 -- \
            sh -c 'printf "<p>rendered</p>" > /tmp/p.html && python3 /home/sandbox/input/selenium_probe.py file:///tmp/p.html'
        expect websearch.loopback-render-extract '^EXTRACTED: Served on loopback and rendered by JavaScript$' \
            sbx websearch --input "$IN" -m 2g --timeout 180 -- python3 /home/sandbox/input/websearch_loopback.py
        full_network websearch
        ;;
    *) skip "$i.smoke" "unknown image" ;;
    esac
done
summary
