// Integer helpers shared by the exchange's translation units (exchange.cc, exchange_prices.cc,
// exchange_liquidation.cc): notional, fees and rounding, each rounding named.
#pragma once

#include <cstdint>

#include "perps/book_types.h"
#include "perps/protocol_constants.h"
#include "state/fixed_point.h"

namespace perps::detail {

inline std::int64_t pow10(unsigned n) {
  std::int64_t v = 1;
  while (n--) v *= 10;
  return v;
}

// Exact for prices on the market's tick; floors otherwise (mark prices). Margin checks call this
// for every position of an account, so the product stays in 64 bits unless it would overflow.
inline std::int64_t notional(Px px, Lots sz, std::int64_t lot_scale) {
  std::int64_t product;
  if (__builtin_mul_overflow(px, sz, &product)) [[unlikely]]
    return static_cast<std::int64_t>(
        state::div_floor(static_cast<state::i128>(px) * sz, lot_scale));
  const std::int64_t q = product / lot_scale;
  return (product % lot_scale != 0 && product < 0) ? q - 1 : q;
}

// ceil(a / d) for d > 0.
inline std::int64_t ceil_div(std::int64_t a, std::int64_t d) {
  const std::int64_t q = a / d;
  return (a % d != 0 && a > 0) ? q + 1 : q;
}

inline Lots signed_lots(Side side, Lots sz) {
  return side == Side::Bid ? sz : -sz;
}

inline std::int64_t fee_of(std::int64_t ntl, std::int64_t rate) {
  // Rounded up: the trader pays at least the rate; the fee pool receives exactly what is paid.
  return static_cast<std::int64_t>(
      state::div_ceil(static_cast<state::i128>(ntl) * rate, kFractionOne));
}

}  // namespace perps::detail
