#!/usr/bin/env bash
# The whole suite twice: on a SQLite file, then on a throwaway PostgreSQL server started here and
# removed afterwards. Called by `make test` (which installs what this needs first).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/python -m pytest -q "$@")

echo "== Lint =="
.venv/bin/ruff check app tests bench wsgi.py

echo "== SQLite =="
"${PYTEST[@]}"

echo "== PostgreSQL =="
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
PGDIR=$(mktemp -u /tmp/wesure-pg.XXXXXX)
PGPORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then install -d -m 700 -o postgres -g postgres "$PGDIR"; else install -d -m 700 "$PGDIR"; fi
cleanup() { as_postgres "$PGBIN/pg_ctl" -D "$PGDIR" -m fast stop >/dev/null 2>&1 || true; rm -rf "$PGDIR"; }
trap cleanup EXIT
as_postgres "$PGBIN/initdb" -D "$PGDIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR" -w -l "$PGDIR/server.log" \
  -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
as_postgres "$PGBIN/psql" -h "$PGDIR" -p "$PGPORT" -U postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE app LOGIN PASSWORD 'app'" -c "CREATE DATABASE app_test OWNER app"
TEST_DATABASE_URL="postgresql://app:app@127.0.0.1:$PGPORT/app_test" "${PYTEST[@]}"
