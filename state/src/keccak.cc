#include "state/keccak.h"

#include <bit>
#include <cstring>

namespace state {
namespace {

constexpr std::uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// rho rotation offsets and pi lane order, walking the (x, y) -> (y, 2x + 3y) cycle from lane 1.
constexpr int kRho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                          27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static_assert(std::endian::native == std::endian::little, "lanes are loaded as little-endian");

void absorb_xor(std::uint64_t lanes[25], const std::uint8_t* data, std::size_t offset,
                std::size_t len) {
  auto* state_bytes = reinterpret_cast<std::uint8_t*>(lanes);
  for (std::size_t i = 0; i < len; ++i) state_bytes[offset + i] ^= data[i];
}

void absorb_block(std::uint64_t lanes[25], const std::uint8_t* block) {
  for (int i = 0; i < 17; ++i) {
    std::uint64_t lane;
    std::memcpy(&lane, block + 8 * i, 8);
    lanes[i] ^= lane;
  }
  keccak_f1600(lanes);
}

}  // namespace

void keccak_f1600(std::uint64_t a[25]) {
  for (int round = 0; round < 24; ++round) {
    std::uint64_t c[5];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      std::uint64_t d = c[(x + 4) % 5] ^ std::rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    std::uint64_t carry = a[1];
    for (int i = 0; i < 24; ++i) {
      int j = kPi[i];
      std::uint64_t next = a[j];
      a[j] = std::rotl(carry, kRho[i]);
      carry = next;
    }
    for (int y = 0; y < 25; y += 5) {
      std::uint64_t row[5] = {a[y], a[y + 1], a[y + 2], a[y + 3], a[y + 4]};
      for (int x = 0; x < 5; ++x) a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    a[0] ^= kRoundConstants[round];
  }
}

Keccak256& Keccak256::update(std::span<const std::uint8_t> data) {
  const std::uint8_t* p = data.data();
  std::size_t len = data.size();
  if (offset_ > 0) {
    std::size_t take = std::min(len, kRate - offset_);
    absorb_xor(lanes_, p, offset_, take);
    offset_ += take;
    p += take;
    len -= take;
    if (offset_ < kRate) return *this;
    keccak_f1600(lanes_);
    offset_ = 0;
  }
  for (; len >= kRate; p += kRate, len -= kRate) absorb_block(lanes_, p);
  absorb_xor(lanes_, p, 0, len);
  offset_ = len;
  return *this;
}

Hash256 Keccak256::finish() {
  auto* state_bytes = reinterpret_cast<std::uint8_t*>(lanes_);
  state_bytes[offset_] ^= 0x01;
  state_bytes[kRate - 1] ^= 0x80;
  keccak_f1600(lanes_);
  Hash256 out;
  std::memcpy(out.data(), lanes_, 32);
  return out;
}

Hash256 keccak256(std::span<const std::uint8_t> data) { return Keccak256().update(data).finish(); }

}  // namespace state
