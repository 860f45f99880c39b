#include "perps/oracle.h"

#include <algorithm>
#include <limits>

#include "state/fixed_point.h"

namespace perps {

std::optional<Px> weighted_median(std::span<WeightedPrice> prices) {
  std::sort(prices.begin(), prices.end(),
            [](const WeightedPrice& a, const WeightedPrice& b) { return a.px < b.px; });
  state::i128 total = 0;
  for (const auto& p : prices) total += p.weight;
  if (total == 0) return std::nullopt;
  state::i128 cumulative = 0;
  for (const auto& p : prices) {
    cumulative += p.weight;
    if (2 * cumulative >= total) return p.px;
  }
  return prices.back().px;  // unreachable: the loop reaches the total
}

Px median3(std::optional<Px> a, std::optional<Px> b, std::optional<Px> c, Px fallback) {
  Px x = a.value_or(fallback), y = b.value_or(fallback), z = c.value_or(fallback);
  return std::max(std::min(x, y), std::min(std::max(x, y), z));
}

void TimeEma::sample(std::int64_t x, std::uint64_t now_ms, std::uint64_t window_ms) {
  if (!started || now_ms <= time_ms) {
    if (!started) value = x;  // a second sample in the same instant adds no weight
    started = true;
    time_ms = std::max(time_ms, now_ms);
    return;
  }
  const state::i128 dt = now_ms - time_ms;
  value += static_cast<std::int64_t>(
      state::div_floor(static_cast<state::i128>(x - value) * dt, window_ms + dt));
  time_ms = now_ms;
}

Px clamp_move(Px px, Px reference, std::int64_t fraction) {
  const state::i128 band = static_cast<state::i128>(reference) * fraction / 100'000'000;
  const state::i128 high = std::min<state::i128>(reference + band, std::numeric_limits<Px>::max());
  return static_cast<Px>(std::clamp<state::i128>(px, reference - band, high));
}

Px clamp_to_day_range(Px px, Px start_of_day, std::int64_t factor) {
  const Px low = std::max<Px>(1, (start_of_day + factor - 1) / factor);
  // Saturating: a start of day can grow tenfold a day, and its tenfold must not wrap around.
  const state::i128 wide_high = static_cast<state::i128>(start_of_day) * factor;
  const Px high = wide_high > std::numeric_limits<Px>::max() ? std::numeric_limits<Px>::max()
                                                             : static_cast<Px>(wide_high);
  return std::clamp<Px>(px, low, std::max(low, high));
}

}  // namespace perps
