// Fixed-size byte strings (hashes, addresses, cloids) and 0x-hex conversion.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "state/result.h"

namespace state {

template <std::size_t N>
struct FixedBytes {
  std::array<std::uint8_t, N> bytes{};

  static constexpr std::size_t size() { return N; }
  std::uint8_t* data() { return bytes.data(); }
  const std::uint8_t* data() const { return bytes.data(); }
  bool is_zero() const {
    for (auto b : bytes)
      if (b) return false;
    return true;
  }
  auto operator<=>(const FixedBytes&) const = default;
  // Spelled out: the defaulted form compiles to a memcmp call; this one to a few wide compares.
  bool operator==(const FixedBytes& other) const {
    return __builtin_memcmp(bytes.data(), other.bytes.data(), N) == 0;
  }
};

using Hash256 = FixedBytes<32>;
using Address = FixedBytes<20>;
using Bytes16 = FixedBytes<16>;
using Bytes = std::vector<std::uint8_t>;

// Lowercase hex with the 0x prefix.
std::string to_hex(std::span<const std::uint8_t> data);
template <std::size_t N>
std::string to_hex(const FixedBytes<N>& value) {
  return to_hex(std::span<const std::uint8_t>(value.bytes));
}

// Parses 0x-prefixed hex (either case). Returns BadHex for a missing prefix, an odd digit count or
// a non-hex digit.
Result<Bytes> parse_hex(std::string_view text);

// Parses 0x-prefixed hex of exactly N bytes; BadHex names the expected length otherwise.
template <std::size_t N>
Result<FixedBytes<N>> parse_fixed_hex(std::string_view text);

}  // namespace state
