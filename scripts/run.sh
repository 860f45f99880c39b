#!/usr/bin/env bash
# The main job: installs what is missing, builds, and starts a local network with demo markets.
# The node itself (perpd) arrives with the node issue; until then this builds everything and
# shows what perp-cli already does.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release

bin=build/release/node
if [ -x "$bin/perpd" ]; then
  exec "$bin/perpd" "$@"
fi

echo
echo "perpd (the node) is not built yet: the local network starts here once the node issue lands."
echo "perp-cli is ready for keys and signed actions; try:"
echo "  $bin/perp-cli keygen --out /tmp/trader.key"
echo "  echo '{\"type\":\"usdSend\",\"destination\":\"0x0000000000000000000000000000000000000001\",\"amount\":\"12.5\"}' > /tmp/send.json"
echo "  $bin/perp-cli sign --key /tmp/trader.key --chain-id 1337 /tmp/send.json > /tmp/envelope.json"
echo "  $bin/perp-cli recover --chain-id 1337 /tmp/envelope.json"
echo "  $bin/perp-cli schema --chain-id 1337"
