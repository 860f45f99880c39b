// Price formation for core markets, as pure integer functions (docs/protocol.md section 9):
// the stake-weighted median of validator votes, the 150 s EMA of (mid - oracle), the mark price
// median and the protocol clamps of SPEC section 4. The exchange keeps the state these act on.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "perps/book_types.h"

namespace perps {

struct WeightedPrice {
  Px px = 0;
  std::uint64_t weight = 0;
};

// The lower weighted median: the smallest price whose cumulative weight (prices ascending, ties
// in any order: equal prices are interchangeable) reaches half the total. nullopt when the total
// weight is zero. Sorts prices in place.
std::optional<Px> weighted_median(std::span<WeightedPrice> prices);

// Median of three; a missing input is replaced by fallback (the oracle), so a one-sided or empty
// book falls back to it instead of pulling the mark toward zero.
Px median3(std::optional<Px> a, std::optional<Px> b, std::optional<Px> c, Px fallback);

// A time-weighted exponential moving average in integers: each sample moves the average by
// (sample - ema) * dt / (window + dt), the backward-Euler step of d(ema)/dt = (sample - ema) /
// window. It needs no exp() and weighs samples by the time since the previous one as Hyperliquid's
// form (num * e^(-dt/window) + sample * dt) / (den * e^(-dt/window) + dt) does; the two agree to
// first order in dt / window. Rounds toward negative infinity.
struct TimeEma {
  std::int64_t value = 0;
  std::uint64_t time_ms = 0;  // of the last sample
  bool started = false;

  void sample(std::int64_t x, std::uint64_t now_ms, std::uint64_t window_ms);
};

// Clamps px into [reference * (1 - fraction), reference * (1 + fraction)] (fraction in 1e-8),
// rounding the bounds inward.
Px clamp_move(Px px, Px reference, std::int64_t fraction);

// Clamps px into [start_of_day / factor, start_of_day * factor].
Px clamp_to_day_range(Px px, Px start_of_day, std::int64_t factor);

}  // namespace perps
