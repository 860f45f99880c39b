#!/usr/bin/env bash
# Builds Release and runs the benchmarks, then the node load test; prints Google Benchmark tables (copy into
# docs/benchmarks.md with the date and machine).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for bench in build/release/tests/bench_*; do
  echo "== $(basename "$bench")"
  "$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.5 "$@"
done
echo "== node load test (scripts/loadtest.sh)"
./scripts/loadtest.sh  # its defaults, or CONNECTIONS/BATCH/ORDERS/ACCOUNTS from the environment
