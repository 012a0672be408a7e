#!/usr/bin/env bash
# Sets up and runs the whole test suite: installs dependencies, checks the
# formatting of every C++ file (scripts/format.sh), then
#   1. Debug build with warnings as errors: unit + integration tests;
#   2. ASan+UBSan build (jemalloc off): unit + integration tests;
#   3. TSan build: the concurrent parts (writers, queue, budget, SDK sender,
#      the explorer's query pool, live feed and stream hub, and a daemon
#      streaming and paging under concurrent ingestion);
#   4. a time-bounded fuzz run of the snapshot parser (clang, libFuzzer).
# Each build lives in build-<name>/ beside the sources. Exits non-zero on the
# first failure. Tests start their own private PostgreSQL and xrayd processes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh test
echo "==> formatting (clang-format 14)"
bash scripts/format.sh

JOBS=${JOBS:-2}
export CTEST_OUTPUT_ON_FAILURE=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-"halt_on_error=1 suppressions=$PWD/tests/tsan.supp"}

build() {  # name, cmake args...
  local name=$1
  shift
  echo "==> configure $name"
  cmake -S . -B "build-$name" -G Ninja -DXRAY_WERROR=ON "$@" >/dev/null
  echo "==> build $name"
  cmake --build "build-$name" -j "$JOBS"
}

build debug -DCMAKE_BUILD_TYPE=Debug -DXRAY_BUILD_BENCH=ON
echo "==> tests (debug)"
ctest --test-dir build-debug -j "$JOBS" --timeout 300

build asan -DCMAKE_BUILD_TYPE=Debug -DXRAY_SANITIZE=address -DXRAY_BUILD_BENCH=OFF
echo "==> tests (ASan+UBSan)"
ctest --test-dir build-asan -j "$JOBS" --timeout 600

build tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXRAY_SANITIZE=thread -DXRAY_BUILD_BENCH=OFF
echo "==> tests (TSan: concurrent parts)"
ctest --test-dir build-tsan -j "$JOBS" --timeout 600 -R "${TSAN_TESTS:-Budget|RecordQueue|Writer|Sender|Spool|Client|Recorder|QueryPool|LiveFeed|StreamHub|Explorer.Streams|Explorer.PagesStay}"

echo "==> configure fuzz (clang, libFuzzer)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DXRAY_BUILD_FUZZ=ON -DXRAY_BUILD_BENCH=OFF -DXRAY_USE_JEMALLOC=OFF >/dev/null
echo "==> build fuzz"
cmake --build build-fuzz -j "$JOBS" --target snapshot_parser_fuzz
echo "==> fuzz (time-bounded)"
ctest --test-dir build-fuzz -L fuzz --timeout 300

echo "==> all tests passed"
