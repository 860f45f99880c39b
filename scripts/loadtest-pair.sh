#!/usr/bin/env bash
# Compares two builds of perpd under the order load of scripts/loadtest.sh by running both load
# tests at the same time, PAIRS times: this VM's speed drifts by tens of percent within minutes,
# so two runs one after the other differ by more than most changes do, while two runs side by
# side meet the same drift. Each side has about one core, so compare their perpd CPU per
# committed order (by thread), not their rates or shares.
#   scripts/loadtest-pair.sh DIR_A DIR_B [PAIRS]
# DIR_A and DIR_B each hold perpd, perp-load and perp-cli (copies of build/release/node/).
# ENV_B="NAME=VALUE ..." sets environment variables for side B only (a runtime switch).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR_A DIR_B [PAIRS]" >&2
  exit 2
fi
dir_a=$1 dir_b=$2 pairs=${3:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for pair in $(seq 1 "$pairs"); do
  BIN="$dir_a" ./scripts/loadtest.sh >"$out/a" 2>&1 &
  a=$!
  # shellcheck disable=SC2086  # ENV_B is a list of NAME=VALUE words
  env BIN="$dir_b" ${ENV_B:-} ./scripts/loadtest.sh >"$out/b" 2>&1 &
  b=$!
  wait $a $b
  for side in a b; do
    cpu=$(grep -oP "perpd CPU: \K[0-9.]+" "$out/$side")
    threads=$(grep -oP "perpd CPU by thread: \K.*(?= per committed)" "$out/$side")
    beside=$(grep -oP "RPC beside recovery: \K[0-9.-]+" "$out/$side" || echo "?")
    echo "pair $pair $side: perpd CPU $cpu us per committed order ($threads; RPC beside recovery $beside us)" |
      tee -a "$out/all"
  done
done
python3 - "$out/all" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
# perpd's CPU per committed order, and the RPC threads' part of it beside the recoveries (both
# measured inside each perpd): what a change on the submission path moves, with the recoveries'
# own drift taken out.
for label, pattern, digits in (
        ("perpd CPU", r"^pair (\d+) (a|b): perpd CPU ([0-9.]+)", 1),
        ("RPC beside recovery", r"^pair (\d+) (a|b): .*RPC beside recovery ([0-9.-]+) us", 2)):
    sides = {}
    for pair, side, value in re.findall(pattern, text, re.M):
        sides.setdefault(pair, {})[side] = float(value)
    diffs = [v["b"] - v["a"] for v in sides.values() if "a" in v and "b" in v]
    if diffs:
        print(f"{label}, b - a over {len(diffs)} pairs: median {statistics.median(diffs):+.{digits}f} us "
              f"per committed order, range {min(diffs):+.{digits}f} to {max(diffs):+.{digits}f}")
PY
