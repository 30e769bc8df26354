#!/usr/bin/env bash
# One-command demo: venv + deps + assets + SQLite db + demo data, then the dev server on :5000.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
./scripts/assets.sh

# No DATABASE_URL/REDIS_URL: the app falls back to SQLite under instance/ and runs jobs inline.
export FLASK_APP=wsgi WUYE_DEMO=1
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi seed-demo   # exits 0 if the demo district already exists
# The periodic jobs (overdue demands to the street, term reminders, monthly figures) run from a
# scheduler beside the server; it stops with it.
.venv/bin/flask --app wsgi scheduler &
trap 'kill $! 2>/dev/null' EXIT
.venv/bin/flask --app wsgi run --host 127.0.0.1 --port 5000
