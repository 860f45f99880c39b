#!/usr/bin/env bash
# Installs what perpd needs on Debian 12, and nothing when it is all there already.
# Debian packages only (plus npm for the JavaScript conformance clients in tests/clients).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config ninja-build ccache clang clang-format libclang-rt-14-dev
  libsecp256k1-dev libleveldb-dev libsnappy-dev libjemalloc-dev
  libboost1.81-dev libboost-json1.81-dev
  libprotobuf-dev protobuf-compiler libssl-dev
  catch2 libbenchmark-dev libspdlog-dev libcli11-dev
  nodejs npm
)

missing=()
for p in "${packages[@]}"; do
  # nodejs may come from another repository with npm bundled; accept any installed nodejs/npm.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# JavaScript conformance clients (ethers v6), pinned by the committed package-lock.json.
if [ -f tests/clients/package-lock.json ]; then
  stamp=tests/clients/node_modules/.perpd-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/clients/package-lock.json "$stamp"; then
    echo "install-deps: npm ci in tests/clients"
    (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/clients/package-lock.json "$stamp"
  fi
fi
