#!/usr/bin/env bash
# What the explorer's index (schema/002_explorer.sql, executions_newest) costs
# ingestion: xray-load over the Unix socket into one xrayd, alternately without
# and with the index, ROUNDS rounds of DURATION seconds each, the order
# alternating every round so that the growing tables favour neither; prints
# each run and the ratio of the medians (docs/schema.md, "The explorer's index").
#
# Besides snapshots/s by the wall clock, each run reports snapshots per CPU
# second of the writers' PostgreSQL backends (/proc/<pid>/schedstat), which
# other work on a shared machine disturbs far less.
#
# Environment: ROUNDS (3), DURATION (20), PRELOAD (5000), LOAD_CONNECTIONS (4),
# INDEX (the definition tried, default that of the migration), JOBS (2),
# BUILD (build-bench). Runs in a temporary folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20}
PRELOAD=${PRELOAD:-5000}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-4}
BUILD=${BUILD:-build-bench}
INDEX=${INDEX:-"(started_at DESC, app, id)"}

echo "==> build (Release, jemalloc) in $BUILD"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_TESTS=OFF \
  -DXRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j "${JOBS:-2}" --target xrayd xray-load >/dev/null

RUN=$(mktemp -d /tmp/xray-index-cost-XXXXXX)
chmod 0755 "$RUN"  # the postgres user reaches its cluster inside
XRAYD_PID=
cleanup() {
  if [[ -n $XRAYD_PID ]] && kill -0 "$XRAYD_PID" 2>/dev/null; then
    kill -TERM "$XRAYD_PID"
    wait "$XRAYD_PID" 2>/dev/null || true
  fi
  bash scripts/pg.sh stop "$RUN/pg"
  rm -rf "$RUN"
}
trap cleanup EXIT

CONNINFO=$(bash scripts/pg.sh start "$RUN/pg")
PSQL=(psql -X -qAt "$CONNINFO")
"$BUILD/xrayd" migrate --postgres="$CONNINFO" 2>/dev/null
"$BUILD/xrayd" serve --postgres="$CONNINFO" --socket-path="$RUN/xrayd.sock" \
  --http-listen=127.0.0.1:0 --explorer-listen= --log-file="$RUN/xrayd.log" &
XRAYD_PID=$!
for _ in $(seq 300); do
  grep -q " ready: " "$RUN/xrayd.log" 2>/dev/null && break
  kill -0 "$XRAYD_PID" 2>/dev/null || { cat "$RUN/xrayd.log"; exit 1; }
  sleep 0.1
done

LOAD=("$BUILD/bench/xray-load" --uds "$RUN/xrayd.sock" --connections "$LOAD_CONNECTIONS"
  --inflight 16 --json)
echo "==> preload $PRELOAD executions"
"${LOAD[@]}" --count "$PRELOAD" --duration 0 >/dev/null

# CPU nanoseconds the writers' backends have used so far.
backend_ns() {
  local total=0 pid
  for pid in $("${PSQL[@]}" -c "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'xrayd-writer-%'"); do
    total=$((total + $(cut -d' ' -f1 "/proc/$pid/schedstat")))
  done
  echo "$total"
}
# One run: "<snapshots/s> <snapshots per backend CPU second>".
measure() {
  local before after
  before=$(backend_ns)
  "${LOAD[@]}" --duration "$DURATION" >"$RUN/load.json"
  after=$(backend_ns)
  python3 - "$RUN/load.json" "$before" "$after" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (int(sys.argv[3]) - int(sys.argv[2])) / 1e9
print("%.1f %.1f" % (r["snapshots_per_s"], r["committed"] / cpu if cpu > 0 else 0))
PY
}
without() {
  "${PSQL[@]}" -c "DROP INDEX IF EXISTS executions_newest" >/dev/null
  "${PSQL[@]}" -c "CHECKPOINT" >/dev/null
  measure
}
with() {
  "${PSQL[@]}" -c "CREATE INDEX IF NOT EXISTS executions_newest ON executions $INDEX" >/dev/null
  "${PSQL[@]}" -c "CHECKPOINT" >/dev/null
  measure
}

WITHOUT=()
WITH=()
for round in $(seq "$ROUNDS"); do
  if ((round % 2 == 1)); then
    WITHOUT+=("$(without)")
    WITH+=("$(with)")
  else
    WITH+=("$(with)")
    WITHOUT+=("$(without)")
  fi
  echo "round $round: without the index ${WITHOUT[-1]% *}/s (${WITHOUT[-1]#* } per backend CPU s)," \
    "with it ${WITH[-1]% *}/s (${WITH[-1]#* } per backend CPU s)"
done

python3 - "${WITHOUT[*]}" "${WITH[*]}" <<'PY'
import statistics, sys
def pairs(text):
    v = [float(x) for x in text.split()]
    return v[0::2], v[1::2]
wall_without, cpu_without = pairs(sys.argv[1])
wall_with, cpu_with = pairs(sys.argv[2])
m = statistics.median
print(f"median snapshots/s: without the index {m(wall_without):.1f}, with it {m(wall_with):.1f}:"
      f" ratio {m(wall_with) / m(wall_without):.2f}")
print(f"median snapshots per writer-backend CPU second: without {m(cpu_without):.1f},"
      f" with {m(cpu_with):.1f}: ratio {m(cpu_with) / m(cpu_without):.2f}")
PY
echo "executions at the end: $("${PSQL[@]}" -c 'SELECT count(*) FROM executions')"
