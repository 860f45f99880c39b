#include "perps/price_grid.h"

#include <algorithm>
#include <limits>

#include "perps/protocol_constants.h"

namespace perps {

PriceGrid::Decade PriceGrid::Decade::make(Px step, std::int64_t base) {
  assert(step > 0);
  Decade d;
  d.step = step;
  d.base = base;
  d.shift = std::bit_width(static_cast<std::uint64_t>(step) - 1);  // ceil(log2(step))
  const unsigned __int128 numerator = static_cast<unsigned __int128>(1) << (63 + d.shift);
  d.magic = static_cast<std::uint64_t>((numerator + static_cast<unsigned __int128>(step) - 1) /
                                       static_cast<unsigned __int128>(step));
  return d;
}

void PriceGrid::index_levels() {
  first_[0] = 0;
  first_[kMaxDigits + 1] = std::numeric_limits<std::int64_t>::max();
  for (int b = 0; b <= 64; ++b) {
    const std::int64_t lowest = b == 0    ? 0
                                : b == 64 ? std::numeric_limits<std::int64_t>::max()
                                          : std::int64_t{1} << (b - 1);
    int d = 0;
    while (d < kMaxDigits && first_[d + 1] <= lowest) ++d;
    decade_at_bits_[b] = static_cast<std::uint8_t>(d);
  }
}

PriceGrid PriceGrid::uniform(Px tick) {
  assert(tick > 0);
  PriceGrid grid;
  for (Decade& d : grid.decades_) d = Decade::make(tick, 0);
  // The lowest multiple of tick >= 10^(D-1) is ceil(10^(D-1) / tick) * tick; written so that the
  // numerator cannot overflow.
  for (int d = 1; d <= kMaxDigits; ++d) grid.first_[d] = (kPow10[d - 1] - 1) / tick + 1;
  grid.index_levels();
  return grid;
}

PriceGrid PriceGrid::significant_figures(unsigned sz_decimals) {
  assert(sz_decimals <= 18);
  const int min_exponent = static_cast<int>(std::min(sz_decimals, 18u));
  constexpr int kDollarExponent = static_cast<int>(kPriceDecimals);  // 10^6 micro-dollars
  constexpr int kFigures = static_cast<int>(kMaxPriceSignificantFigures);
  static_assert(kPow10[kPriceDecimals] == kMicro);
  PriceGrid grid;
  std::int64_t next = 1;  // the level of the lowest grid price not yet numbered
  int nonempty_above = -1;
  for (int d = 1; d <= kMaxDigits; ++d) {
    // Whole dollars are multiples of 10^6; 5 significant figures of a d-digit price are multiples
    // of 10^(d-5). Both are powers of ten, so their union is the multiples of the smaller one.
    const int e = std::max(min_exponent, std::min(kDollarExponent, std::max(d - kFigures, 0)));
    grid.first_[d] = next;
    if (e > d - 1) {
      grid.decades_[d].step = 0;  // no grid price has d digits: filled in below
      continue;
    }
    // Grid prices with d digits: 10^(d-1) + k * 10^e for k in [0, 9 * 10^(d-1-e)).
    grid.decades_[d] = Decade::make(kPow10[e], next - kPow10[d - 1 - e]);
    // The last decade is cut off by the int64 range; its count is never used.
    if (d < kMaxDigits) next += 9 * kPow10[d - 1 - e];
  }
  // Entry 0 and empty decades take the next decade with grid prices (decade 19 always has some).
  for (int d = kMaxDigits; d >= 0; --d) {
    if (d < kMaxDigits && (d == 0 || grid.decades_[d].step == 0))
      grid.decades_[d] = grid.decades_[nonempty_above];
    if (grid.decades_[d].step != 0) nonempty_above = d;
  }
  grid.index_levels();
  return grid;
}

}  // namespace perps
