#!/usr/bin/env bash
# Run the test suite; extra args go to pytest. Works without services (SQLite, inline jobs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ -x .venv/bin/python ]] || python3 -m venv .venv
# Reinstall only when pyproject.toml changed since the last install (a run beside another must
# not replace the installed package under it).
if [[ ! -f .venv/.test-installed || pyproject.toml -nt .venv/.test-installed ]]; then
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.test-installed
fi
./scripts/assets.sh

exec .venv/bin/python -m pytest "$@"
