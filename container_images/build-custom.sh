#!/bin/sh
# build-custom.sh - build a custom image natively from a recipe directory.
#
#   container_images/build-custom.sh [--store DIR] [--force] DIR
#
# DIR holds:
#   capabilities.json  the image's manifest; "parent_image" names an image
#                      already in the store (e.g. llmcore-sandbox-python:1.0.0),
#                      its version is the new image's tag
#   recipe.sh          POSIX sh run as root inside the parent, e.g.
#                        #!/bin/sh
#                        set -eu
#                        . "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
#                        lcs_begin
#                        lcs_install common="python3-scipy"
#                        lcs_finish
# The image lands in <store>/images/<name>/<version>/ like the six shipped
# ones (rootfs, OCI layout, manifest with recorded tool versions), after the
# same hardening checks and verification probes. Select it with
# `llmcore-sandbox select --map TASK=NAME:VERSION` or
# lcs_selector_add_task_mapping().
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/../scripts/build/native-build.sh" --keep-parent-tag "$@"
