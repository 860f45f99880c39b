// LtHash16 (Lewi, Kim, Maykov, Weis: "Securing Update Propagation with Homomorphic Hashing",
// 2019): a multiset hash whose state is 1024 lanes of 16 bits added modulo 2^16. Adding and
// removing an element are vector additions, so the hash of a set changes in O(1) per changed
// element and does not depend on order. Security rests on the short-integer-solution lattice
// problem (the paper's parameters: 1024 x 16-bit lanes); a plain 256-bit sum or XOR of digests
// would fall to Wagner's generalized birthday attack.
//
// An element is a 32-byte digest d, expanded to 2048 bytes (the lanes, little-endian) by the
// AES-128-CTR keystream with key d[0..16) and initial counter block d[16..32) (big-endian, +1 per
// 16 bytes): a PRG of the whole 256-bit digest standing in for the paper's BLAKE2X. Two digests
// give the same AES key only after ~2^64 work, and even then their 128-block counter ranges
// overlap with probability ~2^-120, so expansions stay distinct blocks of independent (or one)
// pseudorandom permutations. Through OpenSSL 3.0's EVP an expansion costs ~333 ns, ~100 of them
// re-keying; AES-256-CTR keyed by the whole digest costs ~366 ns, and AES-256-ECB over constant
// counter blocks (the same keystream) ~341 ns, 4% more per changed key in bench_commitment.
// Where the CPU has 512-bit VAES, the keystream is made four blocks per instruction and added to
// the lanes in registers instead (the same bytes; tests compare the two paths).
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
  // remove(old_element) and add(new_element) in one pass over the lanes.
  void replace(const Hash256& old_element, const Hash256& new_element);
  // SHA-256 of the 2048 lane bytes (little-endian lanes): a 32-byte commitment.
  Hash256 checksum() const;
  bool operator==(const LtHash16&) const = default;

 private:
  std::array<std::uint16_t, kLanes> lanes_{};
};

namespace lthash_detail {
enum class Path { Best, Portable, Vaes };
// Adds (sign +1) or subtracts (-1) the element's expansion to kLanes lanes. Path::Vaes requires
// vaes_available(); a counter whose low 64 bits would wrap always takes the portable path.
void accumulate(std::uint16_t* lanes, const Hash256& element, int sign, Path path = Path::Best);
bool vaes_available();
}  // namespace lthash_detail

}  // namespace state
