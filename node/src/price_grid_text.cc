#include "node/price_grid_text.h"

#include <algorithm>

namespace node {

std::int64_t round_to_grid(std::int64_t px, unsigned sz_decimals, bool up) {
  std::int64_t step = 1;
  for (unsigned i = 0; i < sz_decimals; ++i) step *= 10;  // 6 - szDecimals decimals
  int digits = 0;
  for (std::int64_t v = px / 1'000'000; v > 0; v /= 10) ++digits;  // digits of the whole dollars
  // 5 significant figures: a step of 10^(digits - 5) dollars, or finer when under 10,000 USD.
  std::int64_t sig = 1'000'000;
  for (int i = 0; i < digits - 5; ++i) sig *= 10;
  if (digits < 5) {
    sig = 1'000'000;
    for (int i = 0; i < 5 - digits && sig > 1; ++i) sig /= 10;
  }
  // Integer dollar prices are always valid, so the step never needs to exceed one dollar... unless
  // 5 significant figures ask for a coarser one (prices of 100,000 USD and more).
  step = std::max(step, sig);
  const std::int64_t down = px / step * step;
  return up && down < px ? down + step : std::max(down, step);
}

}  // namespace node
