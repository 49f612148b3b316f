#!/usr/bin/env bash
# The whole suite twice: on a SQLite file, then on a throwaway PostgreSQL server started here and
# removed afterwards. Both runs share a throwaway redis-server (TEST_REDIS_URL) for the tests of rate limits
# counted across processes. Called by `make test` (which installs what this needs first).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/python -m pytest -q "$@")
free_port() { .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "== Lint =="
.venv/bin/ruff check app tests bench wsgi.py

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
PGDIR=$(mktemp -u /tmp/wesure-pg.XXXXXX)
REDISDIR=$(mktemp -d /tmp/wesure-redis.XXXXXX)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [ -s "$REDISDIR/redis.pid" ]; then kill "$(cat "$REDISDIR/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$REDISDIR"
  if [ -d "$PGDIR" ]; then as_postgres "$PGBIN/pg_ctl" -D "$PGDIR" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$PGDIR"
}
trap cleanup EXIT

REDISPORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDISPORT" --save '' --appendonly no --dir "$REDISDIR" \
  --daemonize yes --pidfile "$REDISDIR/redis.pid" --logfile "$REDISDIR/redis.log"
export TEST_REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
redis_up() { .venv/bin/python -c 'import os, redis; redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).ping()' 2>/dev/null; }
for _ in $(seq 100); do redis_up && break; sleep 0.1; done
redis_up || { echo "redis-server did not start:" >&2; cat "$REDISDIR/redis.log" >&2; exit 1; }

echo "== SQLite =="
"${PYTEST[@]}"

echo "== PostgreSQL =="
PGPORT=$(free_port)
if [ "$(id -u)" = 0 ]; then install -d -m 700 -o postgres -g postgres "$PGDIR"; else install -d -m 700 "$PGDIR"; fi
as_postgres "$PGBIN/initdb" -D "$PGDIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR" -w -l "$PGDIR/server.log" \
  -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
as_postgres "$PGBIN/psql" -h "$PGDIR" -p "$PGPORT" -U postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE app LOGIN PASSWORD 'app'" -c "CREATE DATABASE app_test OWNER app"
TEST_DATABASE_URL="postgresql://app:app@127.0.0.1:$PGPORT/app_test" "${PYTEST[@]}"
