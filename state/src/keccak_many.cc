// Keccak-256 of many independent messages at once: with AVX-512 one permutation runs eight
// states side by side (a 64-bit lane of each in one 512-bit register), several times the
// throughput of the scalar permutation. The verifier hashes a batch of envelopes this way.
#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>
#include <vector>

#include "keccak_round_constants.h"
#include "state/keccak.h"

namespace state {
namespace {

constexpr std::size_t kWays = 8;

using detail::kKeccakRoundConstants;

// GCC 12 reports its own _mm512_undefined placeholders inside avx512fintrin.h as uninitialized
// (a false positive of the header, GCC bug 105593) wherever they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Lane i of state w is lanes[i][w]. The round is the scalar keccak_f1600's, one register per lane
// index: theta's five-way xors and chi's b ^ (~b1 & b2) are one ternary-logic instruction each
// (truth tables 0x96 and 0xd2).
__attribute__((target("avx512f"))) void keccak_f1600_x8(std::uint64_t lanes[25][kWays]) {
  __m512i a[25];
  for (int i = 0; i < 25; ++i) a[i] = _mm512_load_si512(lanes[i]);
  for (int round = 0; round < 24; ++round) {
    __m512i c[5], d[5], b[25];
    for (int x = 0; x < 5; ++x)
      c[x] = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a[x], a[x + 5], a[x + 10], 0x96),
                                       a[x + 15], a[x + 20], 0x96);
    for (int x = 0; x < 5; ++x)
      d[x] = _mm512_xor_si512(c[(x + 4) % 5], _mm512_rol_epi64(c[(x + 1) % 5], 1));
    b[0] = _mm512_xor_si512(a[0], d[0]);
    b[1] = _mm512_rol_epi64(_mm512_xor_si512(a[6], d[1]), 44);
    b[2] = _mm512_rol_epi64(_mm512_xor_si512(a[12], d[2]), 43);
    b[3] = _mm512_rol_epi64(_mm512_xor_si512(a[18], d[3]), 21);
    b[4] = _mm512_rol_epi64(_mm512_xor_si512(a[24], d[4]), 14);
    b[5] = _mm512_rol_epi64(_mm512_xor_si512(a[3], d[3]), 28);
    b[6] = _mm512_rol_epi64(_mm512_xor_si512(a[9], d[4]), 20);
    b[7] = _mm512_rol_epi64(_mm512_xor_si512(a[10], d[0]), 3);
    b[8] = _mm512_rol_epi64(_mm512_xor_si512(a[16], d[1]), 45);
    b[9] = _mm512_rol_epi64(_mm512_xor_si512(a[22], d[2]), 61);
    b[10] = _mm512_rol_epi64(_mm512_xor_si512(a[1], d[1]), 1);
    b[11] = _mm512_rol_epi64(_mm512_xor_si512(a[7], d[2]), 6);
    b[12] = _mm512_rol_epi64(_mm512_xor_si512(a[13], d[3]), 25);
    b[13] = _mm512_rol_epi64(_mm512_xor_si512(a[19], d[4]), 8);
    b[14] = _mm512_rol_epi64(_mm512_xor_si512(a[20], d[0]), 18);
    b[15] = _mm512_rol_epi64(_mm512_xor_si512(a[4], d[4]), 27);
    b[16] = _mm512_rol_epi64(_mm512_xor_si512(a[5], d[0]), 36);
    b[17] = _mm512_rol_epi64(_mm512_xor_si512(a[11], d[1]), 10);
    b[18] = _mm512_rol_epi64(_mm512_xor_si512(a[17], d[2]), 15);
    b[19] = _mm512_rol_epi64(_mm512_xor_si512(a[23], d[3]), 56);
    b[20] = _mm512_rol_epi64(_mm512_xor_si512(a[2], d[2]), 62);
    b[21] = _mm512_rol_epi64(_mm512_xor_si512(a[8], d[3]), 55);
    b[22] = _mm512_rol_epi64(_mm512_xor_si512(a[14], d[4]), 39);
    b[23] = _mm512_rol_epi64(_mm512_xor_si512(a[15], d[0]), 41);
    b[24] = _mm512_rol_epi64(_mm512_xor_si512(a[21], d[1]), 2);
    for (int y = 0; y < 25; y += 5)
      for (int x = 0; x < 5; ++x)
        a[y + x] =
            _mm512_ternarylogic_epi64(b[y + x], b[y + (x + 1) % 5], b[y + (x + 2) % 5], 0xd2);
    a[0] = _mm512_xor_si512(
        a[0], _mm512_set1_epi64(static_cast<long long>(kKeccakRoundConstants[round])));
  }
  for (int i = 0; i < 25; ++i) _mm512_store_si512(lanes[i], a[i]);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

std::size_t permutations_for(std::size_t length) {
  return length / Keccak256::kRate + 1;  // the padding always fits in the last block
}

// Hashes up to kWays messages of the same permutation count in one interleaved state.
void hash_group(const std::span<const std::uint8_t>* messages, const std::size_t* indices,
                std::size_t count, Hash256* out) {
  alignas(64) std::uint64_t lanes[25][kWays] = {};
  const std::size_t blocks = permutations_for(messages[indices[0]].size());
  for (std::size_t block = 0; block < blocks; ++block) {
    for (std::size_t way = 0; way < count; ++way) {
      const auto& message = messages[indices[way]];
      const std::size_t offset = block * Keccak256::kRate;
      std::uint8_t padded[Keccak256::kRate];
      const std::uint8_t* data = message.data() + offset;
      if (block + 1 == blocks) {  // the rest of the message, then Keccak's 0x01 ... 0x80
        const std::size_t rest = message.size() - offset;
        std::memset(padded, 0, sizeof padded);
        if (rest) std::memcpy(padded, data, rest);
        padded[rest] ^= 0x01;
        padded[Keccak256::kRate - 1] ^= 0x80;
        data = padded;
      }
      for (std::size_t i = 0; i < Keccak256::kRate / 8; ++i) {
        std::uint64_t word;
        std::memcpy(&word, data + 8 * i, 8);
        lanes[i][way] ^= word;
      }
    }
    keccak_f1600_x8(lanes);
  }
  for (std::size_t way = 0; way < count; ++way)
    for (std::size_t i = 0; i < 4; ++i)
      std::memcpy(out[indices[way]].data() + 8 * i, &lanes[i][way], 8);
}

}  // namespace

bool keccak256_many_is_vectorized() {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported;
}

void keccak256_many(std::span<const std::span<const std::uint8_t>> messages,
                    std::span<Hash256> out) {
  assert(out.size() >= messages.size());
  const std::size_t n = std::min(messages.size(), out.size());
  if (n < 2 || !keccak256_many_is_vectorized()) {
    for (std::size_t i = 0; i < n; ++i) out[i] = keccak256(messages[i]);
    return;
  }
  // Messages needing the same number of permutations share a state group.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return permutations_for(messages[a].size()) < permutations_for(messages[b].size());
  });
  for (std::size_t start = 0; start < n;) {
    const std::size_t blocks = permutations_for(messages[order[start]].size());
    std::size_t end = start + 1;
    while (end < n && end - start < kWays &&
           permutations_for(messages[order[end]].size()) == blocks)
      ++end;
    if (end - start == 1)
      out[order[start]] = keccak256(messages[order[start]]);
    else
      hash_group(messages.data(), order.data() + start, end - start, out.data());
    start = end;
  }
}

}  // namespace state
