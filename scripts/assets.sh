#!/usr/bin/env bash
# Install pinned npm packages and copy the vendor files the templates use into static/vendor/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm writes node_modules/.package-lock.json on install; reinstall only when the lockfile is newer.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

nm=node_modules
out=static/vendor
# Up to date (copied after the last install and after this script changed): leave it alone, so
# a test run beside another (CI runs two suites at once) never finds the folder half-copied.
if [[ -f "$out/.copied" && "$out/.copied" -nt "$nm/.package-lock.json" && "$out/.copied" -nt "$0" ]]; then
  exit 0
fi
# Rebuild from scratch so the folder holds exactly these files.
rm -rf "$out"
mkdir -p "$out/bootstrap-icons/fonts"

cp "$nm/htmx.org/dist/htmx.min.js"                  "$out/htmx.min.js"
cp "$nm/bootstrap/dist/css/bootstrap.min.css"       "$out/bootstrap.min.css"
cp "$nm/bootstrap/dist/js/bootstrap.bundle.min.js"  "$out/bootstrap.bundle.min.js"
# The icons css loads url("fonts/bootstrap-icons.woff2"), so keep fonts/ next to it.
cp "$nm/bootstrap-icons/font/bootstrap-icons.min.css" "$out/bootstrap-icons/bootstrap-icons.min.css"
cp "$nm/bootstrap-icons/font/fonts/"*               "$out/bootstrap-icons/fonts/"
# Prefer the minified UMD build; fall back to the plain one if a release lacks it.
chart="$nm/chart.js/dist/chart.umd.min.js"
[[ -f "$chart" ]] || chart="$nm/chart.js/dist/chart.umd.js"
cp "$chart" "$out/chart.umd.min.js"

touch "$out/.copied"
echo "assets: static/vendor ready"
