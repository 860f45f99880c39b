// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA3-256's 0x06).
// Written by hand because OpenSSL 3.0 on Debian 12 has no Keccak-256; tested against published
// vectors in tests/unit/state/keccak_test.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "state/bytes.h"

namespace state {

class Keccak256 {
 public:
  static constexpr std::size_t kRate = 136;  // bytes absorbed per permutation (1600 - 2*256 bits)

  Keccak256& update(std::span<const std::uint8_t> data);
  Keccak256& update(std::string_view text) {
    return update({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  // Pads, permutes and returns the digest. The hasher must not be used afterwards.
  Hash256 finish();

 private:
  std::uint64_t lanes_[25] = {};
  std::size_t offset_ = 0;  // bytes absorbed into the current block
};

Hash256 keccak256(std::span<const std::uint8_t> data);
inline Hash256 keccak256(std::string_view text) {
  return keccak256({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// keccak256 of each message into out (same order, out.size() >= messages.size()). Independent
// messages share permutations eight at a time on CPUs with AVX-512, one by one elsewhere.
void keccak256_many(std::span<const std::span<const std::uint8_t>> messages,
                    std::span<Hash256> out);
// Whether this CPU takes the eight-state path (the tests say which path they checked).
bool keccak256_many_is_vectorized();

// The Keccak-f[1600] permutation on 25 little-endian lanes (exposed for the test vectors).
void keccak_f1600(std::uint64_t lanes[25]);

}  // namespace state
