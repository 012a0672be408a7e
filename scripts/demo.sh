#!/usr/bin/env bash
# The main job, end to end: install dependencies, build (Release, jemalloc),
# start a private PostgreSQL, migrate, start xrayd, run the demo pipeline
# through the SDK, and show where the data is.
#
# Everything lives in .xray-run/ beside the sources: the PostgreSQL cluster,
# xrayd's socket and log. On a terminal it waits for Ctrl-C, then stops xrayd
# (draining) and PostgreSQL; otherwise it leaves both running and prints how to
# stop them. Environment: RUNS (default 200), HTTP_PORT (default 4000),
# EXPLORER_PORT (default 4001: the query API and dashboard, docs/api.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/.xray-run
RUNS=${RUNS:-200}
HTTP_PORT=${HTTP_PORT:-4000}
EXPLORER_PORT=${EXPLORER_PORT:-4001}

bash scripts/install-deps.sh

echo "==> build (Release, jemalloc)"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_TESTS=OFF \
  -DXRAY_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j "${JOBS:-2}" --target xrayd xray-demo

mkdir -p "$RUN"
echo "==> private PostgreSQL in $RUN/pg"
CONNINFO=$(bash scripts/pg.sh start "$RUN/pg")

echo "==> migrate"
build-release/xrayd migrate --postgres="$CONNINFO"

if [[ -f $RUN/xrayd.pid ]] && kill -0 "$(cat "$RUN/xrayd.pid")" 2>/dev/null; then
  echo "==> stopping the xrayd left by a previous run"
  kill -TERM "$(cat "$RUN/xrayd.pid")"
  while kill -0 "$(cat "$RUN/xrayd.pid")" 2>/dev/null; do sleep 0.1; done
fi

echo "==> start xrayd (http 127.0.0.1:$HTTP_PORT, explorer 127.0.0.1:$EXPLORER_PORT, socket $RUN/xrayd.sock, log $RUN/xrayd.log)"
build-release/xrayd serve --postgres="$CONNINFO" --socket-path="$RUN/xrayd.sock" \
  --http-listen="127.0.0.1:$HTTP_PORT" --explorer-listen="127.0.0.1:$EXPLORER_PORT" \
  >"$RUN/xrayd.log" 2>&1 &
XRAYD_PID=$!
echo "$XRAYD_PID" >"$RUN/xrayd.pid"
for _ in $(seq 100); do
  grep -q " ready: " "$RUN/xrayd.log" && break
  kill -0 "$XRAYD_PID" 2>/dev/null || { cat "$RUN/xrayd.log"; exit 1; }
  sleep 0.1
done
grep -q " ready: " "$RUN/xrayd.log" || { echo "xrayd did not become ready" >&2; cat "$RUN/xrayd.log"; exit 1; }

echo "==> run the demo pipeline ($RUNS competitor-selection executions through the SDK)"
build-release/examples/xray-demo --runs="$RUNS" --socket="$RUN/xrayd.sock"

PSQL=(psql -X -q "$CONNINFO")
echo
echo "==> what landed in PostgreSQL"
"${PSQL[@]}" -c "SELECT pipeline, status, count(*) AS executions,
       round(avg(duration_ms)::numeric, 1) AS avg_ms
  FROM executions GROUP BY 1, 2 ORDER BY 1, 2;"
"${PSQL[@]}" -c "SELECT (SELECT count(*) FROM executions) AS executions,
       (SELECT count(*) FROM steps) AS steps,
       (SELECT count(*) FROM evaluations) AS evaluations;"
echo "-- Filtering steps that eliminated more than 90 % of their candidates:"
"${PSQL[@]}" -c "SELECT e.pipeline, s.execution_id, s.name, s.candidates_in, s.candidates_passed
  FROM steps s JOIN executions e ON e.app = s.app AND e.id = s.execution_id
 WHERE s.candidates_in > 0 AND s.candidates_passed < 0.1 * s.candidates_in
 ORDER BY e.started_at DESC LIMIT 5;"
echo "-- Candidates that failed the rating filter, and why:"
"${PSQL[@]}" -c "SELECT v.execution_id, v.candidate_id, array_to_string(v.reasons, '; ') AS reasons
  FROM evaluations v
 WHERE NOT v.passed AND EXISTS (SELECT 1 FROM unnest(v.reasons) r WHERE r LIKE 'rating%')
 LIMIT 5;"
echo "-- The classic bad match: a phone case selected as competitor of a laptop stand:"
"${PSQL[@]}" -c "SELECT s.execution_id, s.selection->>'title' AS selected, s.reasoning
  FROM steps s
 WHERE s.name = 'select_competitor' AND s.selection->>'category' = 'Cell Phone Cases'
 LIMIT 3;"

cat <<INFO

xrayd is running (pid $XRAYD_PID) with the data in place:
  http://127.0.0.1:$EXPLORER_PORT/      # the decision explorer: dashboard and query API (docs/api.md)
  curl -s 'http://127.0.0.1:$EXPLORER_PORT/v1/insights/eliminations?min_ratio=0.9'
  psql "$CONNINFO"                      # query executions, steps, evaluations (docs/schema.md)
  curl -s http://127.0.0.1:$HTTP_PORT/metrics | grep ^xray_   # the daemon's own metrics
  tail -f $RUN/xrayd.log                # its log
INFO

stop_all() {
  echo "==> stopping xrayd (drains to PostgreSQL) and PostgreSQL"
  kill -TERM "$XRAYD_PID" 2>/dev/null || true
  wait "$XRAYD_PID" 2>/dev/null || true
  rm -f "$RUN/xrayd.pid"
  bash scripts/pg.sh stop "$RUN/pg"
}

if [[ -t 0 ]]; then
  echo "Press Ctrl-C to stop xrayd and PostgreSQL (the data stays in $RUN/pg)."
  trap 'stop_all; exit 0' INT TERM
  wait "$XRAYD_PID" || true
else
  echo "To stop: kill -TERM \$(cat $RUN/xrayd.pid); bash scripts/pg.sh stop $RUN/pg"
fi
