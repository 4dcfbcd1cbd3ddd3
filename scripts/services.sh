#!/usr/bin/env bash
# Installs (if missing) and starts Debian's PostgreSQL and Redis on loopback for the tests, then prints
# the URLs to export: eval "$(bash scripts/services.sh)". Idempotent: safe when they are already up.
# Needs root (as CI and sessions are).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Only the export lines go to stdout, for eval. Everything else goes to stderr, and fd 3 (that stdout)
# is closed for the work itself, so no daemon started here keeps eval's pipe open.
exec 3>&1 1>&2
{
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq postgresql redis-server >/dev/null
  fi

  version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  if ! pg_lsclusters -h | grep -q "^$version main"; then
    pg_createcluster "$version" main >/dev/null
  fi
  pg_ctlcluster "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
  # The privileges docs/deployment.md says Kupe needs, and no more: no superuser. It owns its database (so it
  # may make the tests' schemas); CREATEDB only for test/store/pg-backup.test.ts's restore.
  su postgres -c "psql -q -tc \"select 1 from pg_roles where rolname = 'kupe'\" | grep -q 1 || psql -q -c \"create role kupe login password 'kupe'\""
  su postgres -c "psql -q -c \"alter role kupe nosuperuser createdb\""
  su postgres -c "psql -q -tc \"select 1 from pg_database where datname = 'kupe'\" | grep -q 1 || createdb -O kupe kupe"

  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
} 3>&-

echo "export KUPE_TEST_POSTGRES_URL=postgres://kupe:kupe@127.0.0.1:5432/kupe" >&3
echo "export KUPE_TEST_REDIS_URL=redis://127.0.0.1:6379" >&3
