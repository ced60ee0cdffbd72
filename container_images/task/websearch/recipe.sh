#!/bin/sh
# llmcore-sandbox-websearch: headless Chromium with chromedriver, driven from
# Python (selenium), plus HTML parsing (bs4, lxml, html5lib) and article
# text extraction (readability; Debian has no trafilatura package).
# Ubuntu 24.04 ships chromium only as a snap (the .deb is a transitional
# stub that cannot run in a container): on Ubuntu this recipe stops with an
# explanation; build it on a Debian base (BASE_IMAGE=debian:trixie).
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
lcs_begin
if [ "$LCS_DISTRO" = ubuntu ]; then
    lcs_die "Ubuntu $LCS_RELEASE packages chromium only as a snap, which cannot run in an image; build websearch with a Debian base (make websearch DOCKER=... BASE_IMAGE=debian:trixie)"
fi
lcs_install common="chromium chromium-driver fonts-liberation python3-selenium python3-bs4 python3-lxml python3-html5lib python3-readability"
# Chromium's own sandbox needs namespaces the llmcore sandbox does not
# grant; the llmcore sandbox is the isolation boundary, so run the browser
# with --no-sandbox, without the zygote (its fork is refused by the
# sandbox's seccomp profile) and without /dev/shm (small tmpfs).
cat >/usr/local/bin/chromium-headless <<'SH'
#!/bin/sh
exec /usr/bin/chromium --headless --no-sandbox --no-zygote --disable-gpu --disable-dev-shm-usage "$@"
SH
chmod 0755 /usr/local/bin/chromium-headless
lcs_finish
