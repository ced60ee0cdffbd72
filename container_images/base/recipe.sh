#!/bin/sh
# llmcore-sandbox-base: minimal shell tools, CA certificates, curl; the
# sandbox user and the hardening every image inherits.
# Native builds bootstrap this image with mmdebstrap (its --include list is
# read from the "bootstrap:" line below); the engine builder starts from
# BASE_IMAGE (ubuntu:24.04 by default). The recipe then runs on either.
# bootstrap: bash coreutils findutils grep gawk sed tar gzip bzip2 xz-utils file less procps ca-certificates curl passwd
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
lcs_begin
if [ "$LCS_DISTRO" = ubuntu ]; then
    # The Ubuntu image is older than its archive; Debian's mmdebstrap output
    # is current already.
    lcs_apt_update
    apt-get upgrade -y
fi
lcs_install common="bash coreutils findutils grep gawk sed tar gzip bzip2 xz-utils file less procps ca-certificates curl passwd"
lcs_setup_user
lcs_finish
