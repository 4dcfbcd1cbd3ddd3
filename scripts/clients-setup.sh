#!/usr/bin/env bash
# Installs the pinned third-party clients that `npm run test:clients` drives, into .venv-clients/: schemathesis,
# and Standard Webhooks' Python and Go reference verifiers (idempotent, quick when already there). Needs python3
# with venv (Debian: python3-venv) and PyPI, and Go with its module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
STANDARDWEBHOOKS_VERSION=1.1.0
if [ ! -x .venv-clients/bin/python ]; then
  python3 -m venv .venv-clients
fi
if ! .venv-clients/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  .venv-clients/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
if ! .venv-clients/bin/pip show standardwebhooks 2>/dev/null | grep -q "^Version: $STANDARDWEBHOOKS_VERSION$"; then
  .venv-clients/bin/pip install --quiet --disable-pip-version-check "standardwebhooks==$STANDARDWEBHOOKS_VERSION"
fi
# The Go reference verifier (test/clients/go-verifier, its module pinned by go.mod and go.sum).
(cd test/clients/go-verifier && go build -o ../../../.venv-clients/go-verifier .)
.venv-clients/bin/schemathesis --version
