#!/usr/bin/env bash
# Installs the Debian 12 packages xray needs, for one purpose:
#   install-deps.sh          build and run (the demo)
#   install-deps.sh test     + what the test suite needs: Chromium, Node.js and
#                            the browser test's npm package (playwright-core,
#                            from tests/browser's lock file)
#   install-deps.sh bench    + what bench/run needs: nginx, jq, perf, valgrind
# Idempotent: only calls apt-get or npm when something is missing.
set -euo pipefail
PURPOSE=${1:-run}
case "$PURPOSE" in
  run | test | bench) ;;
  *)
    echo "usage: install-deps.sh [test|bench]" >&2
    exit 2
    ;;
esac

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libpq-dev libconcurrentqueue-dev libjemalloc-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  postgresql-15 postgresql-client-15
  clang clang-format libclang-rt-14-dev
  procps psmisc
  systemd  # systemd-analyze verify and systemd-sysusers for the units test
)
if [[ $PURPOSE == bench ]]; then
  PACKAGES+=(nginx jq linux-perf valgrind)  # bench/run: the baseline HTTP server, reports, profiles
fi
if [[ $PURPOSE == test ]]; then
  PACKAGES+=(chromium)  # the dashboard's browser test (tests/browser)
  # Node.js and npm drive the browser test; a machine that already has them
  # (e.g. a newer Node.js from elsewhere) keeps its own.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    PACKAGES+=(nodejs npm)
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: run as root (apt-get install needed for: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postgresql package starts a cluster on port 5432; xray never uses it.

# playwright-core for tests/browser, exactly as locked; it drives Debian's
# Chromium and downloads no browser of its own.
BROWSER_TEST=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
if [[ $PURPOSE == test && -f $BROWSER_TEST/package-lock.json ]] &&
   [[ ! -f $BROWSER_TEST/node_modules/playwright-core/package.json ||
      $BROWSER_TEST/package-lock.json -nt $BROWSER_TEST/node_modules/.package-lock.json ]]; then
  echo "==> npm ci in tests/browser"
  (cd "$BROWSER_TEST" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "==> dependencies present"
