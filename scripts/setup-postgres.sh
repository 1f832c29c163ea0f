#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the test suite: installs it from Debian when absent, starts
# the cluster, and creates the role `sailfin` (password `sailfin`, CREATEDB: each test server
# makes and drops its own database) and the database `sailfin`. Idempotent; needs root.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "setup-postgres: installing postgresql from Debian"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
fi

read -r version cluster _ < <(pg_lsclusters -h | head -n 1)
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main >/dev/null
  cluster=main
fi
pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 0.2
done
pg_isready -h 127.0.0.1 >/dev/null || { echo "setup-postgres: PostgreSQL did not start" >&2; exit 1; }

psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='sailfin'")" != "1" ]; then
  psql_admin "CREATE ROLE sailfin LOGIN PASSWORD 'sailfin' CREATEDB"
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname='sailfin'")" != "1" ]; then
  psql_admin "CREATE DATABASE sailfin OWNER sailfin"
fi
echo "setup-postgres: ready at postgres://sailfin:sailfin@127.0.0.1:5432/sailfin"
