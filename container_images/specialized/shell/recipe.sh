#!/bin/sh
# llmcore-sandbox-shell: shell scripting tools. yq is the distribution's
# package (the jq wrapper for YAML/XML/TOML, "yq" on both Debian and Ubuntu).
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
lcs_begin
lcs_install common="bash zsh jq yq xmlstarlet bc parallel rsync zip unzip tree"
lcs_finish
