#!/usr/bin/env bash
# corio: single entry point for building, testing, benchmarking.
#
#   ./run.sh tour       build and run the guided tour (build/apps/corio-tour)
#   ./run.sh test       build everything (build/) and run the whole ctest suite
#   ./run.sh bench      build (optimised) and run every bench/bench_* binary
#   ./run.sh sanitize   clang++ + ASan/UBSan build (build-asan/) and ctest (fuzzers included)
#   ./run.sh gcc-asan   g++ + ASan/UBSan: the option values the docs write inline, and the examples
#   ./run.sh tsan       clang++ + ThreadSanitizer build (build-tsan/) and ctest
#   ./run.sh debug-stack  g++ -O0 build (build-debug-stack/): the deep-await stack test alone
#
# Environment:
#   CI=true             configure with -DCORIO_WERROR=ON
#   CORIO_JOBS=N        build/test parallelism (default 2)
#   CORIO_SKIP_SETUP=1  don't run scripts/setup.sh
#   CORIO_BACKEND=epoll|io_uring  the event-loop backend the tests run on (default: io_uring where
#                       the kernel allows it; tsan always runs epoll)
# Builds are incremental: build dirs are never wiped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
  echo "usage: $0 tour|test|bench|sanitize|gcc-asan|tsan|debug-stack [args for tour/bench...]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
mode="$1"
shift
case "$mode" in
  tour|test|bench|sanitize|gcc-asan|tsan|debug-stack) ;;
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

# configure_with <compiler> <build-dir> [extra cmake args...]: a build with clang++ or g++. The
# compiler is chosen only when the cache is created: changing it on an existing cache makes CMake
# rebuild the cache.
configure_with() {
  local cxx="$1" dir="$2"
  shift 2
  local compiler=()
  if [[ ! -f "$dir/CMakeCache.txt" ]]; then
    compiler=(-DCMAKE_CXX_COMPILER="$cxx")
  fi
  configure "$dir" "${compiler[@]}" "$@"
}
configure_clang() { configure_with clang++ "$@"; }
configure_gcc() { configure_with g++ "$@"; }

# use_llvm_symbolizer <VAR>: readable sanitizer stack traces.
use_llvm_symbolizer() {
  if [[ -z "${!1:-}" ]] && command -v llvm-symbolizer >/dev/null; then
    export "$1=$(command -v llvm-symbolizer)"
  fi
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
    configure_clang build-asan -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=ON -DCORIO_BUILD_BENCH=OFF
    cmake --build build-asan -j"$JOBS"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    use_llvm_symbolizer ASAN_SYMBOLIZER_PATH
    # On the default backend (io_uring where the kernel allows it): its request lifetimes are
    # what ASan is best at. tsan runs the suite on epoll.
    run_ctest build-asan
    ;;
  gcc-asan)
    # g++ 12 miscompiles some temporaries that live across a co_await (README: "A g++ 12
    # pitfall"), which only g++ shows: every option value the documentation writes inline
    # (tests/test_inline_options.cpp) and every example (the README's snippets), with ASan.
    configure_gcc build-gcc-asan -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=ON -DCORIO_BUILD_TESTS=ON \
      -DCORIO_BUILD_EXAMPLES=ON -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_APPS=OFF -DCORIO_BUILD_FUZZ=OFF
    cmake --build build-gcc-asan -j"$JOBS" --target test_inline_options corio-examples
    # GCC's ASan turns tail calls off, so here every symmetric transfer nests: a run of awaits
    # that complete without suspending (the database example's COPY of 1,000 rows into a socket
    # that never blocks) needs more than 8 MiB of stack in this build only. This step looks for
    # miscompiled temporaries; debug-stack guards the stack depth (8 MiB, g++ -O0, no ASan).
    stack_hard="$(ulimit -Hs)"
    if [[ "$stack_hard" == unlimited || "$stack_hard" -ge 65536 ]]; then
      ulimit -s 65536
    fi
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    ctest --test-dir build-gcc-asan --output-on-failure --timeout 300 -j"$JOBS" \
      -R '^(inline_options\.|example\.)' --no-tests=error
    ;;
  tsan)
    # Every test, with ThreadSanitizer: the multi-loop server, run_threads, to_thread, posts and
    # cross-thread stop are what it is for; the rest costs a minute and guards the single-loop
    # code against accidental sharing. Examples and apps are not built here: the other builds run
    # them, their threads (run_threads, to_thread) are the tests' too, and here they cost CI about
    # two minutes of compiling.
    configure_clang build-tsan -DCMAKE_BUILD_TYPE=Debug -DCORIO_TSAN=ON -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_FUZZ=OFF \
      -DCORIO_BUILD_EXAMPLES=OFF -DCORIO_BUILD_APPS=OFF
    cmake --build build-tsan -j"$JOBS"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    # The other builds run on the default backend (io_uring where the kernel allows it): this
    # one runs the whole suite on epoll, so both backends pass every test in CI.
    export CORIO_BACKEND=epoll
    use_llvm_symbolizer TSAN_SYMBOLIZER_PATH
    run_ctest build-tsan
    ;;
  debug-stack)
    # Symmetric transfer must not grow the stack at -O0 either: with g++ that rests on the
    # -foptimize-sibling-calls corio exports to its users (CMakeLists.txt). An unoptimised g++
    # build of test_task alone, running the test that awaits ten million completed children.
    configure_gcc build-debug-stack -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g" \
      -DCORIO_BUILD_TESTS=ON -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_APPS=OFF \
      -DCORIO_BUILD_EXAMPLES=OFF -DCORIO_BUILD_FUZZ=OFF
    cmake --build build-debug-stack -j"$JOBS" --target test_task
    # At most the usual 8 MiB of stack: an unlimited (or huge) one would hide the growth.
    stack_kib="$(ulimit -s)"
    if [[ "$stack_kib" == unlimited || "$stack_kib" -gt 8192 ]]; then
      ulimit -s 8192
    fi
    ctest --test-dir build-debug-stack --output-on-failure --timeout 300 \
      -R '^task\.ten_million_completed_children_do_not_grow_the_stack$' --no-tests=error
    ;;
esac
