// The set of valid prices of a market, numbered densely: a monotone bijection between the valid
// prices and consecutive integers ("levels"), so that the fast order book (perps/order_book.h)
// spends memory on the levels of the real price grid, not on every micro-dollar.
//
// Two kinds of grid:
// - uniform(tick): every positive multiple of tick; level(px) = px / tick.
// - significant_figures(sz_decimals): the SPEC section 1 rule. px (micro-dollars) is valid iff
//   px > 0, px % 10^sz_decimals == 0, and px is an integer number of dollars (px % 10^6 == 0) or
//   has at most 5 significant figures. Within the decade of D-digit prices [10^(D-1), 10^D) this
//   is exactly the multiples of the step 10^e(D), e(D) = max(sz_decimals, min(6, max(D - 5, 0))):
//   5 significant figures give 10^(D-5), integer dollars 10^6, whichever is finer, and never
//   finer than 10^sz_decimals. So a price's level is the number of grid prices in lower decades
//   plus its position within its own decade, from a table of 19 decades (D = 1..19 covers every
//   positive int64).
//
// Numbering (both kinds): level 0 is price 0, which is not itself valid; the lowest valid price is
// level 1, and consecutive valid prices have consecutive levels. level(px) costs a digit count
// (bit_width, one table load, one compare), one table load and a division by the decade's step
// done as a 64x64->128 multiply and shifts; valid(px) the same plus a multiply. price(level) costs
// bit_width, one table load, usually one or two compares, and one multiply: no division
// instruction on these paths. Integers only, no floating point (consensus code).
//
// Preconditions (asserted in debug builds): uniform: tick > 0. significant_figures: sz_decimals
// <= 18 (the exchange allows up to kMaxSzDecimals = 6). level(px): px >= 0 (an invalid px gets
// the level of the grid price below it).
// price(level): 0 <= level <= level(the largest valid int64 price).
#pragma once

#include <array>
#include <bit>
#include <cassert>
#include <cstdint>

#include "perps/book_types.h"

namespace perps {

class PriceGrid {
 public:
  static PriceGrid uniform(Px tick);
  static PriceGrid significant_figures(unsigned sz_decimals);

  bool valid(Px px) const {
    if (px <= 0) return false;
    const Decade& d = decades_[digits(px)];
    return d.quotient(px) * d.step == px;
  }

  std::int64_t level(Px px) const {
    assert(px >= 0);
    const Decade& d = decades_[digits(px)];
    return d.base + d.quotient(px);
  }

  // The highest valid price at or below px (0 when px is below the lowest one), and the lowest
  // valid price at or above it: rounding a computed price (a slippage bound, a quote) onto the
  // grid. level() of any px >= 0 is the level of the highest grid price at or below it.
  Px floor_price(Px px) const { return price(level(px)); }
  Px ceil_price(Px px) const {
    const std::int64_t l = level(px);
    const Px below = price(l);
    return below < px ? price(l + 1) : below;
  }

  Px price(std::int64_t level) const {
    assert(level >= 0);
    // The decade of level is the last one starting at or below it (decades without grid prices
    // start where the next one does, so they are skipped). The table gives it for the lowest
    // level of level's bit width; a bit width spans at most a few decade starts.
    int d = decade_at_bits_[std::bit_width(static_cast<std::uint64_t>(level))];
    while (d < kMaxDigits && first_[d + 1] <= level) ++d;
    return (level - decades_[d].base) * decades_[d].step;
  }

  bool operator==(const PriceGrid&) const = default;

 private:
  static constexpr int kMaxDigits = 19;  // decimal digits of the largest int64

  // 10^0 .. 10^18.
  static constexpr std::array<std::int64_t, kMaxDigits> kPow10 = [] {
    std::array<std::int64_t, kMaxDigits> p{};
    p[0] = 1;
    for (int i = 1; i < kMaxDigits; ++i) p[i] = p[i - 1] * 10;
    return p;
  }();

  // For each bit width b (0..64): the decimal digits of 2^(b-1), the smallest b-bit number, and
  // the power of ten above it. A b-bit number has those digits, or one more at or above that
  // power. Bit width 64 (a negative Px, outside every precondition) maps to 18 or 19 digits, so
  // that no table is ever read out of bounds.
  struct DigitsAt {
    std::uint64_t bump;  // 10^digits, or the largest uint64 past 10^19
    int digits;
  };
  static constexpr std::array<DigitsAt, 65> kDigitsAt = [] {
    std::array<DigitsAt, 65> t{};
    t[0] = {1, 0};  // 0 has 0 digits; nothing of bit width 0 reaches 1
    for (int b = 1; b <= 64; ++b) {
      const std::uint64_t lowest = std::uint64_t{1} << (b - 1);
      int n = 0;
      std::uint64_t power = 1;  // 10^n
      while (power <= lowest && n < kMaxDigits) {
        ++n;
        power = n < kMaxDigits ? power * 10 : ~std::uint64_t{0};
      }
      t[b] = {power, n};
    }
    t[64] = {~std::uint64_t{0}, 18};
    return t;
  }();

  // Decimal digits of px >= 0 (0 for 0): one table load and one compare.
  static int digits(Px px) {
    const auto u = static_cast<std::uint64_t>(px);
    const DigitsAt& at = kDigitsAt[std::bit_width(u)];
    return at.digits + (u >= at.bump ? 1 : 0);
  }

  // Prices with D digits: level(px) = base + px / step. Entry 0 (price 0) and decades without
  // grid prices copy the next decade that has some, so level(0) == 0.
  //
  // px / step is a multiply and a shift (Granlund and Montgomery, "Division by invariant integers
  // using multiplication", 1994, theorem 4.2): with l = ceil(log2(step)) and
  // magic = ceil(2^(63+l) / step), floor(n / step) = floor(n * magic / 2^(63+l)) for every
  // 0 <= n < 2^63, and magic < 2^64. Computed as ((2n * magic) >> 64) >> l so that no shift
  // reaches 64. A 64-bit hardware division costs tens of cycles on common x86 parts.
  struct Decade {
    Px step = 1;
    std::int64_t base = 0;
    std::uint64_t magic = std::uint64_t{1} << 63;
    int shift = 0;  // l

    static Decade make(Px step, std::int64_t base);
    std::int64_t quotient(Px px) const {
      const auto twice = static_cast<std::uint64_t>(px) << 1;
      const auto high =
          static_cast<std::uint64_t>((static_cast<unsigned __int128>(twice) * magic) >> 64);
      return static_cast<std::int64_t>(high >> shift);
    }
    bool operator==(const Decade&) const = default;
  };

  PriceGrid() = default;

  // Fills first_'s sentinel and decade_at_bits_ from first_[1..19].
  void index_levels();

  std::array<Decade, kMaxDigits + 1> decades_{};
  // first_[D]: the level of the lowest grid price >= 10^(D-1), non-decreasing; first_[0] = 0 and
  // first_[20] = the largest int64 (a sentinel).
  std::array<std::int64_t, kMaxDigits + 2> first_{};
  // decade_at_bits_[b]: the decade of level 2^(b-1) (of level 0 for b = 0).
  std::array<std::uint8_t, 65> decade_at_bits_{};
};

}  // namespace perps
