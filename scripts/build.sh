#!/usr/bin/env bash
# Configures (once) and builds one configuration; incremental and ccache-backed after that.
#   release: g++ Release, everything (tests, benchmarks, tools)      -> build/release
#   asan:    clang ASan+UBSan, tests and libFuzzer targets           -> build/asan
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-release}
dir=build/$config
case "$config" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)
    export CC=clang CXX=clang++
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERPD_SANITIZE=ON -DPERPD_FUZZ=ON -DPERPD_BENCH=OFF) ;;
  *) echo "usage: $0 release|asan" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
cmake --build "$dir"
