#!/usr/bin/env bash
# Runs every benchmark executable (bench_*) in <build-dir>/bench/.
#   scripts/bench.sh [build-dir] [extra google-benchmark args...]
# Environment: BENCH_MIN_TIME (seconds per benchmark, default 0.2),
#              BENCH_FILTER (passed as --benchmark_filter).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${1:-build}"
[[ $# -ge 1 ]] && shift

bench_dir="$build_dir/bench"
if [[ ! -d "$bench_dir" ]]; then
  echo "bench: no $bench_dir (build with CORIO_BUILD_BENCH=ON first)" >&2
  exit 1
fi

mapfile -t benches < <(find "$bench_dir" -maxdepth 1 -type f -name 'bench_*' -perm -u+x | sort)
if [[ ${#benches[@]} -eq 0 ]]; then
  echo "bench: no bench_* executables in $bench_dir" >&2
  exit 1
fi

args=(--benchmark_format=console --benchmark_min_time="${BENCH_MIN_TIME:-0.2}")
if [[ -n "${BENCH_FILTER:-}" ]]; then
  args+=(--benchmark_filter="$BENCH_FILTER")
fi

status=0
for exe in "${benches[@]}"; do
  echo "## $(basename "$exe")"
  if ! "$exe" "${args[@]}" "$@"; then
    echo "bench: $(basename "$exe") failed" >&2
    status=1
  fi
  echo
done
exit "$status"
