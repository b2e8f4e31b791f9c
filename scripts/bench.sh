#!/usr/bin/env bash
# Runs every benchmark executable (bench_*) in <build-dir>/bench/, then prints a Markdown table
# of corio's figures beside its goals and its peers (scripts/bench_table.py).
#   scripts/bench.sh [build-dir] [extra google-benchmark args...]
# Environment: BENCH_MIN_TIME (seconds per benchmark, default 0.2),
#              BENCH_REPETITIONS (default 3; the table uses the medians),
#              BENCH_FILTER (passed as --benchmark_filter).
# The JSON results are kept in <build-dir>/bench-results/.
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

repetitions="${BENCH_REPETITIONS:-3}"
args=(--benchmark_format=console --benchmark_min_time="${BENCH_MIN_TIME:-0.2}"
      --benchmark_repetitions="$repetitions")
if [[ "$repetitions" -gt 1 ]]; then
  args+=(--benchmark_report_aggregates_only=true)
fi
if [[ -n "${BENCH_FILTER:-}" ]]; then
  args+=(--benchmark_filter="$BENCH_FILTER")
fi

results_dir="$build_dir/bench-results"
mkdir -p "$results_dir"
rm -f "$results_dir"/*.json

status=0
results=()
for exe in "${benches[@]}"; do
  name="$(basename "$exe")"
  echo "## $name"
  out="$results_dir/$name.json"
  if "$exe" "${args[@]}" --benchmark_out="$out" --benchmark_out_format=json "$@"; then
    [[ -s "$out" ]] && results+=("$out")  # empty when the filter matched nothing here
  else
    echo "bench: $name failed" >&2
    status=1
  fi
  echo
done

if [[ ${#results[@]} -gt 0 ]]; then
  if command -v python3 >/dev/null; then
    echo "## corio vs goals and peers (medians of $repetitions; peers: ../shared/baselines.md)"
    python3 scripts/bench_table.py "${results[@]}" || status=1
  else
    echo "bench: python3 not found; no summary table (results in $results_dir)" >&2
  fi
fi
exit "$status"
