// Integer arithmetic for amounts: 128-bit intermediates, rounding named in the function, and
// overflow reported as an empty optional instead of undefined behaviour (DESIGN rule 1).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

namespace state {

using i128 = __int128;

inline std::optional<std::int64_t> narrow(i128 value) {
  if (value > std::numeric_limits<std::int64_t>::max() || value < std::numeric_limits<std::int64_t>::min())
    return std::nullopt;
  return static_cast<std::int64_t>(value);
}

inline std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  return narrow(static_cast<i128>(a) + b);
}
inline std::optional<std::int64_t> checked_sub(std::int64_t a, std::int64_t b) {
  return narrow(static_cast<i128>(a) - b);
}
inline std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  return narrow(static_cast<i128>(a) * b);
}

// floor(a / d) for d > 0 (rounds toward negative infinity, unlike C++ division).
inline i128 div_floor(i128 a, i128 d) {
  i128 q = a / d;
  return (a % d != 0 && a < 0) ? q - 1 : q;
}
// ceil(a / d) for d > 0.
inline i128 div_ceil(i128 a, i128 d) {
  i128 q = a / d;
  return (a % d != 0 && a > 0) ? q + 1 : q;
}

// floor(a * b / d) and ceil(a * b / d) for d > 0, with the product in 128 bits.
inline std::optional<std::int64_t> mul_div_floor(std::int64_t a, std::int64_t b, std::int64_t d) {
  return narrow(div_floor(static_cast<i128>(a) * b, d));
}
inline std::optional<std::int64_t> mul_div_ceil(std::int64_t a, std::int64_t b, std::int64_t d) {
  return narrow(div_ceil(static_cast<i128>(a) * b, d));
}

}  // namespace state
