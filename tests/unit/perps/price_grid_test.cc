// perps::PriceGrid: hand-worked values, the bijection between valid prices and consecutive levels
// (round trips, no gaps at decade boundaries), and agreement of valid() with a brute-force
// reading of the SPEC rule (price > 0, a multiple of 10^szDecimals, and a whole number of dollars
// or at most 5 significant figures).
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "perps/price_grid.h"

using namespace perps;

namespace {

constexpr Px kDollar = 1'000'000;
constexpr Px kMaxPx = std::numeric_limits<Px>::max();

Px pow10(unsigned n) {
  Px v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// The SPEC rule written out directly, digit by digit.
bool spec_valid(Px px, unsigned sz_decimals) {
  if (px <= 0 || px % pow10(sz_decimals) != 0) return false;
  if (px % kDollar == 0) return true;
  int digits[20];  // least significant first
  int n = 0;
  for (Px v = px; v > 0; v /= 10) digits[n++] = static_cast<int>(v % 10);
  int trailing_zeros = 0;
  while (digits[trailing_zeros] == 0) ++trailing_zeros;
  return n - trailing_zeros <= 5;
}

// Checks every price in [lo, hi] that is a multiple of 10^sz_decimals (and the price after each
// when sz_decimals > 0, which must be invalid): valid() agrees with the SPEC, each valid price has
// the level after the previous valid one, and price() inverts level(). Returns the valid count.
std::size_t check_window(const PriceGrid& grid, unsigned sz_decimals, Px lo, Px hi) {
  const Px unit = pow10(sz_decimals);
  std::size_t valid = 0, mismatches = 0, gaps = 0, inverse_errors = 0;
  std::int64_t previous_level = -1;
  for (Px px = (lo + unit - 1) / unit * unit; px <= hi;) {
    const bool expected = spec_valid(px, sz_decimals);
    mismatches += grid.valid(px) != expected ? 1 : 0;
    if (sz_decimals > 0 && px < kMaxPx) mismatches += grid.valid(px + 1) ? 1 : 0;
    if (expected) {
      ++valid;
      const std::int64_t level = grid.level(px);
      if (previous_level >= 0 && level != previous_level + 1) ++gaps;
      if (grid.price(level) != px) ++inverse_errors;
      previous_level = level;
    }
    if (kMaxPx - px < unit) break;  // the next step would overflow
    px += unit;
  }
  INFO("szDecimals " << sz_decimals << " window [" << lo << ", " << hi << "]");
  CHECK(mismatches == 0);
  CHECK(gaps == 0);
  CHECK(inverse_errors == 0);
  return valid;
}

}  // namespace

TEST_CASE("significant figure grid values worked by hand", "[grid]") {
  const PriceGrid grid = PriceGrid::significant_figures(2);
  CHECK(grid.valid(1'000'100'000));          // 1000.1 USD
  CHECK_FALSE(grid.valid(1'000'010'000));    // 1000.01 USD: 6 figures
  CHECK(grid.valid(123'456'000'000));        // 123456 USD: whole dollars
  CHECK_FALSE(grid.valid(123'456'100'000));  // 123456.1 USD
  CHECK(grid.valid(12'345'000));             // 12.345 USD
  CHECK_FALSE(grid.valid(12'345'600));       // 12.3456 USD: 6 figures
  CHECK(grid.valid(100));                    // 0.0001 USD: the lowest valid price
  CHECK_FALSE(grid.valid(150));              // not a multiple of 10^2
  CHECK_FALSE(grid.valid(0));
  CHECK_FALSE(grid.valid(-100));
  CHECK(grid.valid(4'611'686'018'427'000'000));  // whole dollars below 2^62
  CHECK_FALSE(grid.valid(4'611'686'018'427'100'000));

  // Decades of micro-dollar prices and their steps for szDecimals 2, with their level counts:
  // [10^2, 10^3) step 10^2: 9 | [10^3, 10^4) 10^2: 90 | [10^4, 10^5) 10^2: 900
  // [10^5, 10^6) 10^2: 9000 | [10^6, 10^7) 10^2: 90000 | [10^7, 10^8) 10^3: 90000
  // [10^8, 10^9) 10^4: 90000 | [10^9, 10^10) 10^5: 90000 | [10^10, 10^11) 10^6: 90000 | ...
  CHECK(grid.level(0) == 0);
  CHECK(grid.price(0) == 0);
  CHECK(grid.level(100) == 1);
  CHECK(grid.level(900) == 9);
  CHECK(grid.level(1'000) == 10);
  CHECK(grid.level(1'000'000) == 10'000);        // 1 USD
  CHECK(grid.level(10'000'000) == 100'000);      // 10 USD
  CHECK(grid.level(10'001'000) == 100'001);      // 10.001 USD
  CHECK(grid.level(999'990'000) == 279'999);     // 999.99 USD, the last price below 1000 USD
  CHECK(grid.level(1'000'000'000) == 280'000);   // 1000 USD
  CHECK(grid.level(1'000'100'000) == 280'001);   // 1000.1 USD
  CHECK(grid.level(9'999'900'000) == 369'999);   // 9999.9 USD
  CHECK(grid.level(10'000'000'000) == 370'000);  // 10000 USD
  CHECK(grid.level(10'001'000'000) == 370'001);  // 10001 USD
  CHECK(grid.level(123'456'000'000) == 483'456);
  CHECK(grid.price(280'000) == 1'000'000'000);
  CHECK(grid.price(279'999) == 999'990'000);
  CHECK(grid.price(483'456) == 123'456'000'000);

  // szDecimals 0: every micro-dollar up to 0.1 USD, then 5 figures.
  const PriceGrid fine = PriceGrid::significant_figures(0);
  CHECK(fine.level(1) == 1);
  CHECK(fine.level(99'999) == 99'999);
  CHECK(fine.level(100'000) == 100'000);
  CHECK(fine.level(100'010) == 100'001);
  CHECK_FALSE(fine.valid(100'001));
  CHECK(fine.price(100'001) == 100'010);
}

TEST_CASE("significant figure grid levels are consecutive across every decade boundary", "[grid]") {
  for (unsigned sz_decimals = 0; sz_decimals <= 6; ++sz_decimals) {
    const PriceGrid grid = PriceGrid::significant_figures(sz_decimals);
    const Px unit = pow10(sz_decimals);
    for (unsigned d = 1; d <= 18; ++d) {
      const Px boundary = pow10(d);
      if (boundary < unit) continue;
      // The last valid price below the boundary, found by walking down.
      Px below = boundary - unit;
      while (below > 0 && !spec_valid(below, sz_decimals)) below -= unit;
      INFO("szDecimals " << sz_decimals << " boundary " << boundary << " below " << below);
      REQUIRE(grid.valid(boundary));
      if (below == 0) {
        CHECK(grid.level(boundary) == 1);  // the lowest valid price
        continue;
      }
      CHECK(grid.level(below) + 1 == grid.level(boundary));
      CHECK(grid.price(grid.level(boundary) - 1) == below);
      CHECK(grid.price(grid.level(boundary)) == boundary);
    }
  }
}

TEST_CASE("significant figure grid valid agrees with the SPEC rule on small prices", "[grid]") {
  // Every price from one micro-dollar to 2.1 USD: the decades below one dollar, the first whole
  // dollars and the prices between them.
  for (unsigned sz_decimals = 0; sz_decimals <= 6; ++sz_decimals) {
    const PriceGrid grid = PriceGrid::significant_figures(sz_decimals);
    std::size_t mismatches = 0;
    std::int64_t count = 0;  // valid prices so far = the level of the last one
    std::size_t level_errors = 0;
    for (Px px = -3; px <= 2'100'000; ++px) {
      const bool expected = spec_valid(px, sz_decimals);
      mismatches += grid.valid(px) != expected ? 1 : 0;
      if (!expected) continue;
      ++count;
      level_errors += grid.level(px) != count || grid.price(count) != px ? 1 : 0;
    }
    INFO("szDecimals " << sz_decimals);
    CHECK(mismatches == 0);
    CHECK(level_errors == 0);
  }
}

TEST_CASE("significant figure grid agrees with the SPEC rule around large prices", "[grid]") {
  std::vector<Px> centres;
  for (unsigned d = 7; d <= 18; ++d) centres.push_back(pow10(d));
  centres.push_back(123'456'789'012);
  centres.push_back(Px{1} << 62);
  for (unsigned sz_decimals = 0; sz_decimals <= 6; ++sz_decimals) {
    const PriceGrid grid = PriceGrid::significant_figures(sz_decimals);
    for (Px centre : centres) {
      // Two whole dollars either side, so the window holds valid prices in every decade.
      CHECK(check_window(grid, sz_decimals, centre - 2'000'000, centre + 2'000'000) >= 4);
    }
    // The top of the int64 range: whole dollars only.
    CHECK(check_window(grid, sz_decimals, kMaxPx - 3'000'000, kMaxPx) == 3);
  }
}

TEST_CASE("significant figure grid level and price invert each other", "[grid]") {
  std::mt19937_64 rng(7);
  for (unsigned sz_decimals = 0; sz_decimals <= 6; ++sz_decimals) {
    const PriceGrid grid = PriceGrid::significant_figures(sz_decimals);
    const Px top = kMaxPx / kDollar * kDollar;  // the largest valid int64 price
    REQUIRE(grid.valid(top));
    const std::int64_t max_level = grid.level(top);
    CHECK(grid.price(max_level) == top);
    CHECK(grid.level(4'611'686'018'427'000'000) < max_level);
    std::size_t errors = 0;
    for (int i = 0; i < 200'000; ++i) {
      const std::int64_t k = std::uniform_int_distribution<std::int64_t>(1, max_level)(rng);
      const Px px = grid.price(k);
      if (!grid.valid(px) || grid.level(px) != k) ++errors;
      // Strictly increasing onto valid prices (that nothing valid lies between two consecutive
      // levels is checked price by price in the windows above).
      if (k < max_level) {
        const Px next = grid.price(k + 1);
        if (next <= px || !spec_valid(next, sz_decimals)) ++errors;
      }
      // Random int64 prices (almost all invalid) are judged as the SPEC judges them.
      const Px any = std::uniform_int_distribution<Px>(1, kMaxPx)(rng);
      if (grid.valid(any) != spec_valid(any, sz_decimals)) ++errors;
    }
    INFO("szDecimals " << sz_decimals);
    CHECK(errors == 0);
  }
}

TEST_CASE("uniform grid numbers multiples of the tick", "[grid]") {
  const PriceGrid unit = PriceGrid::uniform(1);
  CHECK(unit.valid(1));
  CHECK(unit.valid(kMaxPx));
  CHECK_FALSE(unit.valid(0));
  CHECK_FALSE(unit.valid(-1));
  for (Px px : {Px{1}, Px{9}, Px{10}, Px{99'999}, Px{100'000}, Px{1} << 62, kMaxPx}) {
    CHECK(unit.level(px) == px);
    CHECK(unit.price(px) == px);
  }

  const PriceGrid cents = PriceGrid::uniform(10'000);
  CHECK(cents.valid(30'000));
  CHECK_FALSE(cents.valid(30'001));
  CHECK_FALSE(cents.valid(5'000));
  CHECK(cents.level(0) == 0);
  CHECK(cents.price(0) == 0);
  CHECK(cents.level(10'000) == 1);
  CHECK(cents.level(3'000'000'000) == 300'000);
  CHECK(cents.price(300'000) == 3'000'000'000);

  // A tick that is not a power of ten: levels stay px / tick across decade boundaries.
  const PriceGrid sevens = PriceGrid::uniform(7);
  std::size_t errors = 0;
  for (unsigned d = 1; d <= 18; ++d) {
    const std::int64_t around = pow10(d) / 7;
    for (std::int64_t k = around > 3 ? around - 3 : 1; k <= around + 3; ++k) {
      const Px px = 7 * k;
      if (!sevens.valid(px) || sevens.valid(px + 1) || sevens.level(px) != k ||
          sevens.price(k) != px)
        ++errors;
    }
  }
  CHECK(errors == 0);
  const Px huge_tick = (Px{1} << 61) + 1;
  const PriceGrid huge = PriceGrid::uniform(huge_tick);
  CHECK(huge.valid(huge_tick));
  CHECK(huge.level(huge_tick) == 1);
  CHECK(huge.price(1) == huge_tick);
  CHECK_FALSE(huge.valid(huge_tick - 1));
}

TEST_CASE("grids compare by their rule", "[grid]") {
  CHECK(PriceGrid::uniform(100) == PriceGrid::uniform(100));
  CHECK_FALSE(PriceGrid::uniform(100) == PriceGrid::uniform(10));
  CHECK(PriceGrid::significant_figures(2) == PriceGrid::significant_figures(2));
  CHECK_FALSE(PriceGrid::significant_figures(2) == PriceGrid::significant_figures(3));
  CHECK_FALSE(PriceGrid::significant_figures(2) == PriceGrid::uniform(100));
}

TEST_CASE("rounding a computed price onto the grid - floor and ceil", "[grid]") {
  // BTC-like (3 size decimals): integer dollars at 5 figures. 44,993.200001 lies between 44,993
  // and 44,994.
  const PriceGrid btc = PriceGrid::significant_figures(3);
  CHECK(btc.floor_price(44'993'200'001) == 44'993'000'000);
  CHECK(btc.ceil_price(44'993'200'001) == 44'994'000'000);
  CHECK(btc.floor_price(65'000'000'000) == 65'000'000'000);  // a valid price stays
  CHECK(btc.ceil_price(65'000'000'000) == 65'000'000'000);
  // Across a decade: 99,999.5 rounds up to 100,000 (6 figures, integer: still valid).
  CHECK(btc.ceil_price(99'999'500'000) == 100'000'000'000);
  // ETH-like (4 size decimals): 2 decimals allowed but 5 figures at 3,500 give a 0.1 step.
  const PriceGrid eth = PriceGrid::significant_figures(4);
  CHECK(eth.floor_price(3'500'123'450) == 3'500'100'000);
  CHECK(eth.ceil_price(3'500'123'450) == 3'500'200'000);
  // Below the lowest valid price the floor is 0 (not a price); the ceil is the lowest one.
  CHECK(eth.floor_price(50) == 0);
  CHECK(eth.ceil_price(50) == 10'000);
}
