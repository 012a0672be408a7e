#!/usr/bin/env bash
# Explorer isolation: what a concurrent query load on the decision explorer
# costs ingestion. Measured side by side on one machine
# (docs/benchmarks.md, "Explorer isolation"):
#
#   1. build Release xrayd, xray-load and xray-query-load (jemalloc);
#   2. start a private PostgreSQL and xrayd (explorer on), and preload
#      PRELOAD executions so that the queries have rows to read;
#   3. ROUNDS rounds, each of two DURATION-second ingestion runs of xray-load
#      over the Unix socket: one alone, one while xray-query-load sends
#      QUERY_CLIENTS connections' worth of the MIX: `heavy` (long pages,
#      scanning filters, both headline questions, analytics; closed loop) or
#      `browse` (what people at the dashboard do, paced at QUERY_RATE
#      requests/s). The order alternates every round, so that the growing
#      tables favour neither;
#   4. print each run and the ratio of the medians (with / without queries).
#
# Environment: ROUNDS (3), DURATION (20), PRELOAD (20000), QUERY_CLIENTS (4),
# MIX (heavy), QUERY_RATE (0: closed loop; the browse mix's default is 10),
# LOAD_CONNECTIONS (4), QUERY_CONNECTIONS (xrayd's query_connections, 2),
# JOBS (2), BUILD (build-bench). Needs about 1 GB of disk per 50,000
# executions. Everything runs in a temporary folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20}
PRELOAD=${PRELOAD:-20000}
QUERY_CLIENTS=${QUERY_CLIENTS:-4}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-4}
QUERY_CONNECTIONS=${QUERY_CONNECTIONS:-2}
MIX=${MIX:-heavy}
if [[ $MIX == browse ]]; then QUERY_RATE=${QUERY_RATE:-10}; else QUERY_RATE=${QUERY_RATE:-0}; fi
BUILD=${BUILD:-build-bench}

echo "==> build (Release, jemalloc) in $BUILD"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_TESTS=OFF \
  -DXRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j "${JOBS:-2}" --target xrayd xray-load xray-query-load >/dev/null

RUN=$(mktemp -d /tmp/xray-isolation-XXXXXX)
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
"$BUILD/xrayd" migrate --postgres="$CONNINFO" 2>/dev/null
"$BUILD/xrayd" serve --postgres="$CONNINFO" --socket-path="$RUN/xrayd.sock" \
  --http-listen=127.0.0.1:0 --explorer-listen=127.0.0.1:0 \
  --query-connections="$QUERY_CONNECTIONS" --log-file="$RUN/xrayd.log" &
XRAYD_PID=$!
for _ in $(seq 300); do
  grep -q " ready: " "$RUN/xrayd.log" 2>/dev/null && break
  kill -0 "$XRAYD_PID" 2>/dev/null || { cat "$RUN/xrayd.log"; exit 1; }
  sleep 0.1
done
EXPLORER=$(grep -o "listening on explorer [0-9.:]*" "$RUN/xrayd.log" | awk '{print $4}')
echo "==> xrayd ready (explorer $EXPLORER, query_connections $QUERY_CONNECTIONS;" \
  "query mix $MIX at ${QUERY_RATE} requests/s, 0 = closed loop)"

LOAD=("$BUILD/bench/xray-load" --uds "$RUN/xrayd.sock" --connections "$LOAD_CONNECTIONS"
  --inflight 16 --json)
echo "==> preload $PRELOAD executions"
"${LOAD[@]}" --count "$PRELOAD" --duration 0 >/dev/null

# "<snapshots/s> <ack p99 ms> <answers not committed>" of one xray-load run.
summary() {
  python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = r["refused"] + r["invalid"] + r["failed"] + r["errors"] + r["timeouts"]
print("%.1f %.0f %d" % (r["snapshots_per_s"], r["latency_ms"]["p99"], bad))'
}
alone() {
  "${LOAD[@]}" --duration "$DURATION" | summary
}
loaded() {
  "$BUILD/bench/xray-query-load" --explorer "$EXPLORER" --connections "$QUERY_CLIENTS" \
    --mix "$MIX" --rate "$QUERY_RATE" --duration $((DURATION + 2)) --json >"$RUN/queries.json" &
  local queries=$!
  sleep 1
  "${LOAD[@]}" --duration "$DURATION" | summary
  wait "$queries"
}

ALONE=()
LOADED=()
QUERIES=()
for round in $(seq "$ROUNDS"); do
  if ((round % 2 == 1)); then
    ALONE+=("$(alone)")
    LOADED+=("$(loaded)")
  else
    LOADED+=("$(loaded)")
    ALONE+=("$(alone)")
  fi
  QUERIES+=("$(python3 - "$RUN/queries.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
other = ", ".join("%s: %d" % (k, v) for k, v in sorted(q["statuses"].items())
                  if not k.endswith(" 200"))
print("%.1f req/s, p50 %.0f ms, p99 %.0f ms, %s" % (
    q["requests_per_s"], q["p50_ms"], q["p99_ms"], "non-200: " + other if other else "all 200"))
PY
)")
  read -r a_rate a_p99 a_bad <<<"${ALONE[-1]}"
  read -r l_rate l_p99 l_bad <<<"${LOADED[-1]}"
  echo "round $round: alone $a_rate/s (ack p99 $a_p99 ms, $a_bad not committed)," \
    "with queries $l_rate/s (ack p99 $l_p99 ms, $l_bad not committed); queries: ${QUERIES[-1]}"
done

python3 - "${ALONE[*]}" "${LOADED[*]}" <<'PY'
import statistics, sys
alone = [float(x) for x in sys.argv[1].split()][0::3]
loaded = [float(x) for x in sys.argv[2].split()][0::3]
a, l = statistics.median(alone), statistics.median(loaded)
print(f"median ingestion: alone {a:.1f} snapshots/s, with explorer queries {l:.1f} snapshots/s")
print(f"ratio (with / alone): {l / a:.2f}")
PY
echo "executions at the end: $(psql -X -qAt "$CONNINFO" -c 'SELECT count(*) FROM executions')"
