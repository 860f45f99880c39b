#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a local network: one perpd validator
# with the core markets BTC, ETH and SOL, a demo oracle feeder (the validator's oracle votes along
# a seeded random walk) and a demo market maker (quotes on every core market). Ctrl-C stops
# everything it started. The chain lives in .local-net/ and continues on the next run; delete
# that folder to start afresh.
#   PERPD_RPC=HOST:PORT   RPC listen address (default 127.0.0.1:8545)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release

bin=build/release/node
net=.local-net
home=$net/node
rpc=${PERPD_RPC:-127.0.0.1:8545}
url=http://$rpc
mkdir -p "$net"

if [ ! -f "$home/config.json" ]; then
  "$bin/perpd" init --home "$home"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "run.sh: stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/perpd" start --home "$home" --rpc "$rpc" >>"$net/perpd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  "$bin/perp-cli" --rpc "$url" markets >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "run.sh: perpd exited; its log:"; tail -20 "$net/perpd.log"; exit 1
  fi
  sleep 0.1
done

# The market maker trades from its own key, funded once by the validator.
if [ ! -f "$net/maker.key" ]; then
  maker=$("$bin/perp-cli" keygen --out "$net/maker.key")
  "$bin/perp-cli" --rpc "$url" --key "$home/validator.key" send "$maker" 500000 >/dev/null
fi
"$bin/perp-demo" --rpc "$url" --key "$home/validator.key" oracle >>"$net/oracle.log" 2>&1 &
pids+=($!)
"$bin/perp-demo" --rpc "$url" --key "$net/maker.key" maker >>"$net/maker.log" 2>&1 &
pids+=($!)

sleep 3
"$bin/perp-cli" --rpc "$url" markets || true
cat <<MSG

perpd is running: RPC $url (WebSocket ${url/http/ws}/ws, metrics $url/metrics)
Logs in $net/. Try, in another terminal:
  $bin/perp-cli --rpc $url markets
  $bin/perp-cli --rpc $url book BTC
  trader=\$($bin/perp-cli keygen --out $net/trader.key)     # prints the new address
  $bin/perp-cli --rpc $url --key $home/validator.key send \$trader 10000
  $bin/perp-cli --rpc $url --key $net/trader.key market-order ETH buy 0.5
  $bin/perp-cli --rpc $url --key $net/trader.key account
Ctrl-C stops the node and the bots.
MSG
wait "${pids[0]}"
