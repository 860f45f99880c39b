// Funding as pure integer functions (SPEC section 4; docs/protocol.md section 9). Rates and
// premiums are 1e-8 fractions; amounts are micro-dollars.
#pragma once

#include <cstdint>
#include <optional>

#include "perps/book_types.h"

namespace perps {

class OrderBook;

struct FundingParams {
  std::int64_t interest_rate_8h = 0;  // r
  std::int64_t clamp_8h = 0;          // c
  std::int64_t multiplier = 0;        // m (1e-8: 100,000,000 is 1)
  std::uint32_t interval_hours = 1;
};

// The average price of selling (side Bid: into the bids) or buying (Ask) impact_notional against
// the book, best orders first; the last order is taken in part, rounded up to whole lots. Bids
// average down and asks up (floor / ceil), toward the worse price. nullopt when the side holds
// less than impact_notional.
std::optional<Px> impact_price(const OrderBook& book, Side side, std::int64_t impact_notional,
                               std::int64_t lot_scale);

// Core-market premium, (max(impactBid - oracle, 0) - max(oracle - impactAsk, 0)) / oracle, as a
// 1e-8 fraction truncated toward zero. A side without enough depth contributes nothing.
std::int64_t core_premium(std::optional<Px> impact_bid, std::optional<Px> impact_ask, Px oracle);

// The 8-hour rate F = m * (P + clamp(r - P, -c, c)) for the interval's average premium P,
// truncated toward zero, then held to the cap: 4% per hour of the interval, so
// |F * intervalHours / 8| <= 4% * intervalHours, i.e. |F| <= 32%.
std::int64_t funding_rate_8h(std::int64_t average_premium, const FundingParams& params);

// What a position pays for one interval at rate_8h: szi * oracle * F * intervalHours / 8
// (longs pay when positive). Positive: the holder pays, rounded up; negative: the holder
// receives, rounded toward zero, so payments never create USD (the residue is documented).
std::int64_t funding_payment(Lots szi, Px oracle, std::int64_t lot_scale, std::int64_t rate_8h,
                             std::uint32_t interval_hours);

}  // namespace perps
