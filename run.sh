#!/usr/bin/env bash
# corio: single entry point for building, testing, benchmarking.
#
#   ./run.sh tour       build and run the guided tour (build/apps/corio-tour)
#   ./run.sh test       build everything (build/) and run the whole ctest suite
#   ./run.sh bench      build (optimised) and run every bench/bench_* binary
#   ./run.sh sanitize   clang++ + ASan/UBSan build (build-asan/) and ctest
#
# Environment:
#   CI=true             configure with -DCORIO_WERROR=ON
#   CORIO_JOBS=N        build/test parallelism (default 2)
#   CORIO_SKIP_SETUP=1  don't run scripts/setup.sh
# Builds are incremental: build dirs are never wiped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
  echo "usage: $0 tour|test|bench|sanitize [args for tour/bench...]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
mode="$1"
shift
case "$mode" in
  tour|test|bench|sanitize) ;;
  *) usage ;;
esac

JOBS="${CORIO_JOBS:-2}"
WERROR=OFF
if [[ "${CI:-}" == "true" ]]; then
  WERROR=ON
fi

if [[ "${CORIO_SKIP_SETUP:-0}" != "1" ]]; then
  scripts/setup.sh
fi

# configure <build-dir> [extra cmake args...]
configure() {
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja -DCORIO_WERROR="$WERROR" "$@"
}

# The default (optimised, with debug info) build in build/.
configure_default() {
  configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo
}

run_ctest() {
  local dir="$1"
  ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --timeout 300
}

case "$mode" in
  tour)
    configure_default
    cmake --build build -j"$JOBS" --target corio-tour
    exec build/apps/corio-tour "$@"
    ;;
  test)
    configure_default
    cmake --build build -j"$JOBS"
    run_ctest build
    ;;
  bench)
    configure_default
    cmake --build build -j"$JOBS" --target corio-benchmarks
    exec scripts/bench.sh build "$@"
    ;;
  sanitize)
    # Choose the compiler only when the cache is created: changing it on an
    # existing cache makes CMake delete and rebuild the whole cache.
    compiler=()
    if [[ ! -f build-asan/CMakeCache.txt ]]; then
      compiler=(-DCMAKE_CXX_COMPILER=clang++)
    fi
    configure build-asan "${compiler[@]}" \
      -DCMAKE_BUILD_TYPE=Debug \
      -DCORIO_SANITIZE=ON \
      -DCORIO_BUILD_BENCH=OFF
    cmake --build build-asan -j"$JOBS"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" ]] && command -v llvm-symbolizer >/dev/null; then
      export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"
    fi
    run_ctest build-asan
    ;;
esac
