#!/usr/bin/env bash
# Installs the pinned third-party clients that `npm run test:clients` drives, into .venv-clients/
# (idempotent, quick when already there). Needs python3 with venv (Debian: python3-venv) and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x .venv-clients/bin/python ]; then
  python3 -m venv .venv-clients
fi
if ! .venv-clients/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  .venv-clients/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
.venv-clients/bin/schemathesis --version
