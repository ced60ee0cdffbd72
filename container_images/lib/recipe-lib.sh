# shellcheck shell=sh
# recipe-lib.sh - shared steps of the image recipes (POSIX sh, sourced).
#
# A recipe (container_images/<tier>/<name>/recipe.sh) runs as root INSIDE the
# image being built, with the build context at $LCS_CTX (default
# /tmp/llmcore-build): this file, the recipe, the image's manifest with the
# build's version applied (capabilities.json) and the list of its tools
# (tools.txt). Both builders run it the same way:
#   native: scripts/build/build-step.sh runs it in a build sandbox over the
#           parent's root filesystem (Debian, from mmdebstrap);
#   engine: the generated Dockerfile COPYs the context and RUNs it.
#
# Every command that fails stops the build (set -eu, no "|| true" on
# installs). Package names are given per distribution family: a recipe calls
#   lcs_install debian="pkg ..." ubuntu="pkg ..." common="pkg ..."
# and the names for the running distribution are installed.

set -eu

LCS_CTX=${LCS_CTX:-/tmp/llmcore-build}
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8

lcs_log() { printf '[recipe] %s\n' "$*"; }
lcs_die() {
    printf '[recipe] ERROR: %s\n' "$*" >&2
    exit 1
}

# Distribution family and release of the image being built.
lcs_detect() {
    [ -r /etc/os-release ] || lcs_die "no /etc/os-release: unknown base distribution"
    # shellcheck disable=SC1091
    . /etc/os-release
    LCS_DISTRO=${ID:-unknown}
    LCS_RELEASE=${VERSION_CODENAME:-unknown}
    case "$LCS_DISTRO" in
    debian | ubuntu) ;;
    *) lcs_die "unsupported base distribution '$LCS_DISTRO' (Debian or Ubuntu only)" ;;
    esac
    LCS_ARCH=$(dpkg --print-architecture)
    export LCS_DISTRO LCS_RELEASE LCS_ARCH
}

# Keep daemons from starting while packages are installed.
lcs_begin() {
    lcs_detect
    lcs_log "image $(lcs_manifest_field name) on $LCS_DISTRO $LCS_RELEASE ($LCS_ARCH)"
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    LCS_APT_UPDATED=0
}

# A top-level string field of the manifest (name, version, tier). The
# manifest is one key per line as shipped, so sed is enough here.
lcs_manifest_field() {
    sed -n "s/^  \"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$LCS_CTX/capabilities.json" | head -n 1
}

lcs_apt_update() {
    if [ "$LCS_APT_UPDATED" = 0 ]; then
        lcs_log "apt-get update"
        apt-get update
        LCS_APT_UPDATED=1
    fi
}

# lcs_install [debian="..."] [ubuntu="..."] [common="..."]
lcs_install() {
    _pkgs=
    for _arg in "$@"; do
        case "$_arg" in
        common=*) _pkgs="$_pkgs ${_arg#common=}" ;;
        debian=*) [ "$LCS_DISTRO" = debian ] && _pkgs="$_pkgs ${_arg#debian=}" ;;
        ubuntu=*) [ "$LCS_DISTRO" = ubuntu ] && _pkgs="$_pkgs ${_arg#ubuntu=}" ;;
        *) lcs_die "lcs_install: bad argument '$_arg'" ;;
        esac
    done
    [ -n "$_pkgs" ] || return 0
    lcs_apt_update
    lcs_log "apt-get install$_pkgs"
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $_pkgs
}

# lcs_fetch_verified URL SHA512HEX DEST: download a file and check its
# SHA-512 before anything uses it. The builders may put the build host's CA
# bundle at $LCS_CTX/build-ca.crt (hosts behind a TLS-inspecting proxy); it
# is used for this download only and never installed in the image. The
# pinned checksum, not TLS, is what vouches for the file.
lcs_fetch_verified() {
    lcs_log "download $1"
    if [ -s "$LCS_CTX/build-ca.crt" ]; then
        curl -fsSL --retry 3 --cacert "$LCS_CTX/build-ca.crt" -o "$3" "$1"
    else
        curl -fsSL --retry 3 -o "$3" "$1"
    fi
    _got=$(sha512sum "$3" | cut -d' ' -f1)
    if [ "$_got" != "$2" ]; then
        rm -f "$3"
        lcs_die "checksum mismatch for $1: expected sha512 $2, got $_got"
    fi
}

# The unprivileged user every image runs as: sandbox, 1000:1000.
lcs_setup_user() {
    # Ubuntu 24.04 images ship a user "ubuntu" with uid 1000.
    if getent passwd ubuntu >/dev/null; then userdel -r ubuntu 2>/dev/null || userdel ubuntu; fi
    if getent group ubuntu >/dev/null; then groupdel ubuntu; fi
    getent group sandbox >/dev/null || groupadd -g 1000 sandbox
    getent passwd sandbox >/dev/null || useradd -u 1000 -g 1000 -m -d /home/sandbox -s /bin/bash sandbox
    [ "$(id -u sandbox)" = 1000 ] || lcs_die "user sandbox does not have uid 1000"
    [ "$(id -g sandbox)" = 1000 ] || lcs_die "user sandbox does not have gid 1000"
    mkdir -p /home/sandbox/work /home/sandbox/.local/bin /home/sandbox/.config /etc/llmcore
    chown -R 1000:1000 /home/sandbox
    chmod 0755 /home/sandbox
}

# Remove setuid/setgid bits, file capabilities, package caches, the
# build context; install the manifest and the healthcheck.
lcs_finish() {
    lcs_log "hardening"
    # Programs that only make sense with privileges.
    rm -f /usr/bin/chfn /usr/bin/chsh /usr/bin/newgrp /usr/bin/write /usr/bin/wall
    find / -xdev -type f -perm /6000 -exec chmod ug-s {} +
    if find / -xdev -type f -perm /6000 | grep -q .; then
        lcs_die "setuid/setgid files remain: $(find / -xdev -type f -perm /6000 | tr '\n' ' ')"
    fi
    # File capabilities (e.g. ping's cap_net_raw) are privileges too.
    if command -v setcap >/dev/null 2>&1 && command -v getcap >/dev/null 2>&1; then
        getcap -r /usr /opt 2>/dev/null | while read -r _f _rest; do setcap -r "$_f"; done
    fi

    install -d -m 0755 -o 0 -g 0 /etc/llmcore
    install -m 0644 -o 0 -g 0 "$LCS_CTX/capabilities.json" /etc/llmcore/capabilities.json
    install -m 0644 -o 0 -g 0 "$LCS_CTX/tools.txt" /etc/llmcore/tools.txt
    lcs_write_healthcheck

    rm -f /usr/sbin/policy-rc.d
    if [ "${LCS_KEEP_APT_CACHE:-0}" != 1 ]; then
        apt-get clean
    fi
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old \
        /var/lib/dpkg/*-old /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log \
        /root/.cache /root/.npm /home/sandbox/.cache /home/sandbox/.npm
    if [ "${LCS_NATIVE_BUILD:-0}" != 1 ]; then
        # The engine builder's /tmp is part of the image.
        rm -rf /tmp/* /var/tmp/*
    fi
    lcs_log "done"
}

# /usr/local/bin/llmcore-healthcheck: the manifest is readable and every
# tool it lists is on PATH. Used by the engine builder's HEALTHCHECK and by
# anyone who wants a quick self-test of an image.
lcs_write_healthcheck() {
    cat >/usr/local/bin/llmcore-healthcheck <<'EOF'
#!/bin/sh
# Exit 0 when the image's manifest is readable and every listed tool exists.
set -eu
test -r /etc/llmcore/capabilities.json
while read -r tool; do
    [ -n "$tool" ] || continue
    command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 1; }
done </etc/llmcore/tools.txt
echo healthy
EOF
    chmod 0755 /usr/local/bin/llmcore-healthcheck
}
