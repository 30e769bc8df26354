#!/usr/bin/env bash
# Run the test suite; extra args go to pytest. Works without services (SQLite, inline jobs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
./scripts/assets.sh

exec .venv/bin/python -m pytest "$@"
