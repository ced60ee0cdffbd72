#!/bin/sh
# llmcore-sandbox-research: data analysis, plotting, document conversion and
# PDF text extraction, all from the distribution. Deliberately no TeX (pandoc
# converts between markup formats; PDF output needs an engine this image
# does not carry) and no compiler.
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
lcs_begin
lcs_install common="pandoc poppler-utils python3-pandas python3-numpy python3-matplotlib python3-bs4 python3-lxml python3-docx python3-openpyxl python3-markdown python3-pypdf"
lcs_finish
