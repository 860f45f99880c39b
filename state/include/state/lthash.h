// LtHash16 (Lewi, Kim, Maykov, Weis: "Securing Update Propagation with Homomorphic Hashing",
// 2019): a multiset hash whose state is 1024 lanes of 16 bits added modulo 2^16. Adding and
// removing an element are vector additions, so the hash of a set changes in O(1) per changed
// element and does not depend on order. Security rests on the short-integer-solution lattice
// problem; a plain 256-bit sum would fall to Wagner's generalized birthday attack.
//
// An element is a 32-byte digest; it is expanded to 2048 bytes with the AES-256-CTR keystream keyed
// by the digest (zero IV), a PRG standing in for the paper's BLAKE2X: with AES-NI it is the
// fastest expansion OpenSSL offers here (~370 ns per element against ~460 ns for ChaCha20).
#pragma once

#include <array>
#include <cstdint>

#include "state/bytes.h"

namespace state {

class LtHash16 {
 public:
  static constexpr std::size_t kLanes = 1024;

  void add(const Hash256& element);
  void remove(const Hash256& element);
  // keccak256 of the 2048 lane bytes (little-endian lanes): a 32-byte commitment.
  Hash256 checksum() const;
  bool operator==(const LtHash16&) const = default;

 private:
  std::array<std::uint16_t, kLanes> lanes_{};
};

}  // namespace state
