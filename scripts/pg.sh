#!/usr/bin/env bash
# A private PostgreSQL 15 server in a folder, listening only on a Unix socket
# in that folder. Used by the demo and the benchmarks (tests start their own
# from C++, tests/support/pg_server.cc).
#
#   scripts/pg.sh start DIR    initdb (first time) and start; prints the conninfo
#   scripts/pg.sh stop DIR     fast shutdown
#   scripts/pg.sh conninfo DIR
#
# PG_OPTS (optional) adds server settings to the start, e.g.
# PG_OPTS="-c max_wal_size=4GB" (bench/run states its own).
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
cmd=${1:?usage: pg.sh start|stop|conninfo DIR}
dir=$(realpath -m "${2:?usage: pg.sh start|stop|conninfo DIR}")

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
    chmod 0755 "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_postgres "$BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_postgres "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses= -c max_connections=100 -c shared_buffers=256MB ${PG_OPTS:-}" \
        start >/dev/null
    fi
    psql -X -q "host=$dir user=postgres dbname=postgres" -tAc \
      "SELECT 1 FROM pg_database WHERE datname='xray'" | grep -q 1 ||
      psql -X -q "host=$dir user=postgres dbname=postgres" -c "CREATE DATABASE xray" >/dev/null
    echo "host=$dir user=postgres dbname=xray"
    ;;
  stop)
    as_postgres "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  conninfo)
    echo "host=$dir user=postgres dbname=xray"
    ;;
  *)
    echo "usage: pg.sh start|stop|conninfo DIR" >&2
    exit 2
    ;;
esac
