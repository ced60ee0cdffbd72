#!/bin/sh
# llmcore-sandbox-python: Python 3 with pip and venv, git, and common
# libraries, all from the distribution (Debian trixie: Python 3.13; Ubuntu
# 24.04: Python 3.12). pip refuses to install into the system Python
# (PEP 668): create a venv with "python3 -m venv" for extra packages.
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"
lcs_begin
lcs_install common="python3 python3-pip python3-venv git python3-requests python3-httpx python3-yaml python3-rich python3-toml python3-dotenv python3-aiohttp"
# "python" as an alias of python3, as most agents expect it.
lcs_install common="python-is-python3"
lcs_finish
