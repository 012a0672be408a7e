#!/usr/bin/env bash
# The dashboard's browser test, end to end:
#   1. a private PostgreSQL in a temporary folder (scripts/pg.sh), migrated;
#   2. the built xrayd with its explorer (dashboard + query API) on a free
#      loopback port, ingesting over HTTP and a Unix socket;
#   3. xray-demo's runs through the SDK (app demo-shop), then the test's own
#      fixtures with known ids (tests/browser/fixtures.mjs);
#   4. dashboard.test.mjs driving Debian's headless Chromium (playwright-core).
# Screenshots go to $XRAY_ARTIFACTS (default BUILD_DIR/browser-artifacts).
# Everything started here is stopped by PID on exit, also on failure.
#
#   tests/browser/run.sh BUILD_DIR      (ctest runs it as dashboard_browser)
set -euo pipefail

BUILD=$(realpath "${1:?usage: run.sh BUILD_DIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
ARTIFACTS=${XRAY_ARTIFACTS:-$BUILD/browser-artifacts}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
DEMO_APP=demo-shop
DEMO_RUNS=${DEMO_RUNS:-60}
TEST_SECONDS=${TEST_SECONDS:-120}

for tool in node npm "$CHROMIUM"; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (scripts/install-deps.sh test installs it)" >&2; exit 1; }
done
for bin in "$BUILD/xrayd" "$BUILD/examples/xray-demo"; do
  [[ -x $bin ]] || { echo "error: $bin not built" >&2; exit 1; }
done

# playwright-core from the committed lock file (no browser download).
if [[ ! -f $HERE/node_modules/playwright-core/package.json ||
      $HERE/package-lock.json -nt $HERE/node_modules/.package-lock.json ]]; then
  echo "==> npm ci (tests/browser)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

WORK=$(mktemp -d /tmp/xray-browser.XXXXXX)
chmod 0755 "$WORK"   # the postgres user reaches its data folder through it
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS/xrayd.log"
XRAYD_PID=
TEST_PID=
PG_STARTED=

stop_pid() {  # pid, signal, seconds: signal, wait, then SIGKILL
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$2" "$pid" 2>/dev/null || true
  for _ in $(seq $(($3 * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  # The test runs in its own process group: Chromium goes with it.
  if [[ -n $TEST_PID ]] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM -- "-$TEST_PID" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$TEST_PID" 2>/dev/null || true
  fi
  stop_pid "$XRAYD_PID" TERM 15
  if [[ -n $PG_STARTED ]]; then bash "$SRC/scripts/pg.sh" stop "$WORK/pg" || true; fi
  if ((rc != 0)); then
    cp "$WORK/xrayd.log" "$ARTIFACTS/xrayd.log" 2>/dev/null || true
    echo "browser test failed; screenshots and xrayd.log in $ARTIFACTS" >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> private PostgreSQL in $WORK/pg"
PG_STARTED=1
CONNINFO=$(bash "$SRC/scripts/pg.sh" start "$WORK/pg")
"$BUILD/xrayd" migrate --postgres="$CONNINFO" >/dev/null

echo "==> xrayd with the explorer on a free port"
"$BUILD/xrayd" serve --postgres="$CONNINFO" --socket-path="$WORK/xrayd.sock" \
  --http-listen=127.0.0.1:0 --explorer-listen=127.0.0.1:0 >"$WORK/xrayd.log" 2>&1 &
XRAYD_PID=$!
for _ in $(seq 300); do
  grep -q " ready: " "$WORK/xrayd.log" && break
  kill -0 "$XRAYD_PID" 2>/dev/null || { cat "$WORK/xrayd.log" >&2; exit 1; }
  sleep 0.1
done
grep -q " ready: " "$WORK/xrayd.log" || { echo "xrayd did not become ready" >&2; cat "$WORK/xrayd.log" >&2; exit 1; }
HTTP_PORT=$(grep -oE 'listening on http 127\.0\.0\.1:[0-9]+' "$WORK/xrayd.log" | head -1 | grep -oE '[0-9]+$')
EXPLORER_PORT=$(grep -oE 'explorer[^0-9]*127\.0\.0\.1:[0-9]+' "$WORK/xrayd.log" | head -1 | grep -oE '[0-9]+$')
[[ -n $HTTP_PORT && -n $EXPLORER_PORT ]] || { echo "ports not found in the log" >&2; cat "$WORK/xrayd.log" >&2; exit 1; }
echo "    ingest http://127.0.0.1:$HTTP_PORT, dashboard http://127.0.0.1:$EXPLORER_PORT/"

echo "==> seed: xray-demo, $DEMO_RUNS runs through the SDK"
timeout 60 "$BUILD/examples/xray-demo" --runs="$DEMO_RUNS" --app="$DEMO_APP" --seed=42 \
  --socket="$WORK/xrayd.sock" --spool="$WORK/spool" | tee "$WORK/demo.out"
DEMO_FAILED=$(grep -oE 'failed [0-9]+\)' "$WORK/demo.out" | grep -oE '[0-9]+')
# On a busy machine some runs may miss the demo's flush deadline and wait in
# its spool; another client on the same spool (no new runs) replays them.
demo_committed() {
  psql -X -q -tA "$CONNINFO" -c "SELECT count(*) FROM executions WHERE app = '$DEMO_APP'"
}
for _ in 1 2 3 4 5; do
  [[ $(demo_committed) -eq $DEMO_RUNS ]] && break
  echo "    $(demo_committed) of $DEMO_RUNS runs committed; replaying the spool"
  timeout 30 "$BUILD/examples/xray-demo" --runs=0 --app="$DEMO_APP" --socket="$WORK/xrayd.sock" \
    --spool="$WORK/spool" >/dev/null
  sleep 1
done
[[ $(demo_committed) -eq $DEMO_RUNS ]] || { echo "the demo's runs were not all committed" >&2; exit 1; }

echo "==> browser test (screenshots in $ARTIFACTS)"
# setsid: its own process group, so that cleanup can stop Chromium with it.
XRAY_DASHBOARD_URL="http://127.0.0.1:$EXPLORER_PORT" XRAY_INGEST_URL="http://127.0.0.1:$HTTP_PORT" \
  XRAY_ARTIFACTS="$ARTIFACTS" DEMO_APP="$DEMO_APP" DEMO_RUNS="$DEMO_RUNS" DEMO_FAILED="$DEMO_FAILED" \
  CHROMIUM="$CHROMIUM" \
  setsid timeout "$TEST_SECONDS" node --test-reporter=spec "$HERE/dashboard.test.mjs" &
TEST_PID=$!
set +e
wait "$TEST_PID"
rc=$?
set -e
TEST_PID=
exit "$rc"
