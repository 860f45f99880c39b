// Hashing transaction hashes and addresses for the node's unordered containers (mempool,
// waiters). Both are hash outputs, but submitters choose them by grinding signatures or keys, so
// the bucket index mixes them with a key drawn at start-up: crafted collisions would need it.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>

#include "state/bytes.h"

namespace node {

struct KeyedBytesHash {
  template <std::size_t N>
  requires(N >= 16) std::size_t operator()(const state::FixedBytes<N>& h) const {
    static const std::uint64_t key = [] {
      std::random_device device;  // node-local: never reaches consensus state
      return (static_cast<std::uint64_t>(device()) << 32 | device()) | 1;
    }();
    std::uint64_t a, b;
    std::memcpy(&a, h.data(), 8);
    std::memcpy(&b, h.data() + 8, 8);
    return static_cast<std::size_t>((a ^ (b * key)) * 0x9E3779B97F4A7C15ULL ^ key);
  }
};
using TxHashKey = KeyedBytesHash;
using AddressKey = KeyedBytesHash;

}  // namespace node
