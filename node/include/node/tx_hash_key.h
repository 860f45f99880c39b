// Hashing transaction hashes for the node's unordered containers (mempool, waiters). Tx hashes
// are keccak outputs, but submitters choose them by grinding signatures, so the bucket index
// mixes them with a key drawn at start-up: crafted collisions would need the key.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>

#include "state/bytes.h"

namespace node {

struct TxHashKey {
  std::size_t operator()(const state::Hash256& h) const {
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

}  // namespace node
