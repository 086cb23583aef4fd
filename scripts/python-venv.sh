#!/usr/bin/env bash
# Installs the Python tools the test guests are built with into target/python-venv:
# componentize-py and Spin's Python SDK, at the versions Spin's Python SDK documents together, and
# oras, the registry client the OCI tests assemble artifacts with.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/python-venv
want="componentize-py==0.17.2 spin-sdk==3.4.1 oras==0.2.43"
if [ -f "$venv/installed" ] && [ "$(cat "$venv/installed")" = "$want" ]; then
    exit 0
fi
python3 -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet $want
echo "$want" > "$venv/installed"
