#!/bin/sh
# probe.sh - verification probes, run INSIDE a built image by the native
# runtime as the sandbox user (scripts/build/verify-image.sh).
#
#   probe.sh tools TOOL...          every tool exists and runs
#   probe.sh caps CAPABILITY...     every capability does what it claims
#
# Prints one line per check: "OK tool NAME VERSION", "OK cap NAME DETAIL" or
# "FAIL tool|cap NAME REASON". Exit status 1 if any check failed.
set -u
HERE=$(dirname "$0")
T=$(mktemp -d /tmp/probe.XXXXXX)
cd "$T" || exit 1
fails=0

ok() { echo "OK $*"; }
fail() {
    echo "FAIL $*"
    fails=$((fails + 1))
}
first() { head -n 1 | tr -d '\r'; }

# The first line of a tool's version output that runs successfully.
tool_version() {
    case "$1" in
    sh) readlink -f "$(command -v sh)" ;;
    zip) zip -v 2>&1 | sed -n 2p | sed 's/^ *//' ;;
    unzip) unzip -v 2>&1 | first ;;
    pdftotext) pdftotext -v 2>&1 | first ;;
    awk) { awk --version 2>/dev/null || awk -W version 2>&1; } | first ;;
    parallel) parallel --version 2>/dev/null | first ;;
    chromium) chromium --version 2>/dev/null | first ;;
    *)
        for opt in --version -V -v; do
            out=$("$1" "$opt" 2>&1 </dev/null) && [ -n "$out" ] && {
                printf '%s\n' "$out" | first
                return 0
            }
        done
        return 1
        ;;
    esac
}

probe_tools() {
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            fail tool "$t" "not found on PATH"
            continue
        fi
        v=$(tool_version "$t") || v=
        if [ -z "$v" ]; then
            fail tool "$t" "exists ($(command -v "$t")) but does not run"
        else
            ok tool "$t" "$v"
        fi
    done
}

# A one-page PDF with the text "Hello LLMCore PDF", written by Python with
# correct xref offsets.
make_pdf() {
    python3 - "$1" <<'PY'
import sys
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
text = b"BT /F1 18 Tf 20 70 Td (Hello LLMCore PDF) Tj ET"
objs[3] = b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream"
out = bytearray(b"%PDF-1.4\n")
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open(sys.argv[1], "wb").write(bytes(out))
PY
}

cap() {
    c=$1
    case "$c" in
    shell)
        r=$(bash -c 'echo $((6*7))' 2>&1) && [ "$r" = 42 ] && ok cap shell "bash arithmetic" ||
            fail cap shell "bash -c failed: $r"
        ;;
    filesystem)
        echo data >"$T/f" && [ "$(cat "$T/f")" = data ] && touch "$HOME/work/.probe" &&
            rm "$HOME/work/.probe" && [ -r /etc/llmcore/capabilities.json ] &&
            ! [ -w /etc/llmcore/capabilities.json ] &&
            ok cap filesystem "workdir writable, manifest read-only" ||
            fail cap filesystem "workdir not writable or manifest writable"
        ;;
    curl)
        curl -fsS file:///etc/llmcore/capabilities.json | grep -q '"name"' &&
            ok cap curl "$(curl --version | first)" || fail cap curl "curl cannot fetch a file:// URL"
        ;;
    git)
        (git init -q repo && cd repo && echo x >f && git add f &&
            git -c user.name=probe -c user.email=p@example.invalid commit -qm init &&
            [ "$(git rev-list --count HEAD)" = 1 ]) >/dev/null 2>&1 &&
            ok cap git "init, add, commit" || fail cap git "git init/commit failed"
        ;;
    python)
        r=$(python3 -c 'import sys, json, sqlite3, ssl; print("%d.%d" % sys.version_info[:2])' 2>&1) ||
            { fail cap python "python3 stdlib imports failed: $r"; return; }
        if python3 -c 'import requests' 2>/dev/null; then
            libs=$(python3 -c 'import requests, httpx, yaml, rich; print("requests", requests.__version__, "httpx", httpx.__version__, "yaml", yaml.__version__)' 2>&1) ||
                { fail cap python "python libraries missing: $libs"; return; }
        else
            fail cap python "python3-requests not importable"
            return
        fi
        python3 -m venv "$T/venv" >/dev/null 2>&1 && "$T/venv/bin/pip" --version >/dev/null 2>&1 ||
            { fail cap python "python3 -m venv with pip failed"; return; }
        ok cap python "python $r; $libs; venv+pip ok"
        ;;
    nodejs)
        r=$(node -e 'const a=[1,2,3].map(x=>x*2); console.log(process.version, a.join(","))' 2>&1) &&
            case "$r" in v22.*" 2,4,6") true ;; *) false ;; esac &&
            (mkdir np && cd np && npm init -y >/dev/null 2>&1 && [ -f package.json ]) &&
            ok cap nodejs "node $r; npm init ok" || fail cap nodejs "node/npm failed or not v22: $r"
        ;;
    jq)
        r=$(echo '{"a":[1,2,{"b":"x"}]}' | jq -r '.a[2].b' 2>&1) && [ "$r" = x ] &&
            ok cap jq "jq parses JSON" || fail cap jq "jq failed: $r"
        if command -v yq >/dev/null 2>&1; then
            r=$(printf 'a:\n  b: 7\n' | yq -r '.a.b' 2>&1) && [ "$r" = 7 ] &&
                ok cap yq "yq parses YAML" || fail cap yq "yq failed: $r"
        fi
        ;;
    pandoc)
        r=$(printf '# Title\n\nSome *text*.\n' | pandoc -f markdown -t html 2>&1) &&
            echo "$r" | grep -q '<h1' && echo "$r" | grep -q '<em>text</em>' &&
            ok cap pandoc "markdown -> html" || fail cap pandoc "pandoc conversion failed: $r"
        ;;
    pdf_tools)
        make_pdf "$T/t.pdf" && r=$(pdftotext "$T/t.pdf" - 2>&1) &&
            echo "$r" | grep -q 'Hello LLMCore PDF' &&
            ok cap pdf_tools "pdftotext extracts text" || fail cap pdf_tools "pdftotext failed: $r"
        ;;
    data_analysis)
        r=$(python3 -c 'import pandas as pd, numpy as np
df = pd.DataFrame({"x": np.arange(10)})
assert int(df.x.sum()) == 45
print("pandas", pd.__version__, "numpy", np.__version__)' 2>&1) &&
            ok cap data_analysis "$r" || fail cap data_analysis "pandas/numpy failed: $r"
        ;;
    visualization)
        r=$(MPLCONFIGDIR=$T/mpl python3 -c 'import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.plot([1, 2, 3]); plt.savefig("plot.png")
assert open("plot.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
print("matplotlib", matplotlib.__version__)' 2>&1) &&
            ok cap visualization "$r" || fail cap visualization "matplotlib failed: $r"
        ;;
    research)
        r=$(python3 -c 'import bs4, lxml, docx, openpyxl, markdown, pypdf
d = docx.Document(); d.add_paragraph("hi"); d.save("t.docx")
wb = openpyxl.Workbook(); wb.active["A1"] = 1; wb.save("t.xlsx")
assert "<h1>" in markdown.markdown("# x")
print("bs4", bs4.__version__, "docx, openpyxl, markdown, pypdf", pypdf.__version__)' 2>&1) &&
            ok cap research "$r" || fail cap research "document libraries failed: $r"
        ;;
    browser)
        printf '<html><body><p id="t">rendered by chromium</p><script>document.getElementById("t").textContent += " with js";</script></body></html>\n' >"$T/page.html"
        r=$(timeout 90 chromium-headless --dump-dom "file://$T/page.html" 2>"$T/chromium.err") &&
            echo "$r" | grep -q 'rendered by chromium with js' ||
            { fail cap browser "chromium --headless --dump-dom did not render the page: $(tail -n 5 "$T/chromium.err" | tr '\n' ' ')"; return; }
        r=$(timeout 120 python3 "$HERE/selenium_probe.py" "file://$T/page.html" 2>&1) &&
            ok cap browser "chromium renders; selenium+chromedriver: $r" ||
            fail cap browser "selenium with chromedriver failed: $r"
        ;;
    websearch)
        r=$(python3 -c 'import selenium, bs4, lxml, html5lib, readability
html = "<html><head><title>T</title></head><body><nav>menu</nav><article><h1>Story</h1><p>" + "Useful text. " * 40 + "</p></article></body></html>"
text = bs4.BeautifulSoup(readability.Document(html).summary(), "lxml").get_text(" ", strip=True)
assert "Useful text." in text, text
print("selenium", selenium.__version__, "bs4", bs4.__version__)' 2>&1) &&
            ok cap websearch "$r; readability extracts article text" ||
            fail cap websearch "scraping libraries failed: $r"
        ;;
    network)
        # Whether the sandbox really gets network is the runtime's business
        # (verify-image.sh checks it in FULL mode); here: the clients exist.
        command -v curl >/dev/null && python3 -c 'import socket, urllib.request' 2>/dev/null &&
            ok cap network "network clients present (reachability checked in FULL mode)" ||
            fail cap network "no network client (curl, python urllib)"
        ;;
    *) fail cap "$c" "no probe for this capability" ;;
    esac
}

mode=${1:-}
shift || true
case "$mode" in
tools) probe_tools "$@" ;;
caps) for c in "$@"; do cap "$c"; done ;;
*)
    echo "usage: probe.sh tools|caps NAME..." >&2
    exit 2
    ;;
esac
rm -rf "$T"
[ "$fails" = 0 ]
