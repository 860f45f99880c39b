#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest: the Release build (unit,
# conformance with ethers, integration) and the clang ASan+UBSan build (the same tests plus short
# libFuzzer runs). Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
jobs=$(nproc)

echo "== release build"
./scripts/build.sh release
ctest --test-dir build/release --output-on-failure -j "$jobs"

echo "== ASan+UBSan build (clang), with fuzzers"
./scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j "$jobs"
