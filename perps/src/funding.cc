#include "perps/funding.h"

#include <algorithm>

#include "perps/order_book.h"
#include "perps/protocol_constants.h"
#include "state/fixed_point.h"

namespace perps {
using state::i128;

std::optional<Px> impact_price(const OrderBook& book, Side side, std::int64_t impact_notional,
                               std::int64_t lot_scale) {
  i128 remaining = static_cast<i128>(impact_notional) * lot_scale;  // px * lots still to take
  i128 value = 0;                                                   // px * lots taken
  Lots lots = 0;
  book.visit_side(side, [&](const RestingOrder& order) {
    const i128 whole = static_cast<i128>(order.px) * order.sz;
    const Lots take =
        whole >= remaining ? static_cast<Lots>(state::div_ceil(remaining, order.px)) : order.sz;
    value += static_cast<i128>(order.px) * take;
    lots += take;
    remaining -= static_cast<i128>(order.px) * take;
    return remaining > 0;
  });
  if (remaining > 0 || lots == 0) return std::nullopt;
  return static_cast<Px>(side == Side::Bid ? state::div_floor(value, lots)
                                           : state::div_ceil(value, lots));
}

std::int64_t core_premium(std::optional<Px> impact_bid, std::optional<Px> impact_ask, Px oracle) {
  if (oracle <= 0) return 0;
  const i128 up = impact_bid ? std::max<i128>(0, *impact_bid - oracle) : 0;
  const i128 down = impact_ask ? std::max<i128>(0, oracle - *impact_ask) : 0;
  return static_cast<std::int64_t>((up - down) * kFractionOne / oracle);  // toward zero
}

std::int64_t funding_rate_8h(std::int64_t average_premium, const FundingParams& params) {
  const std::int64_t clamped =
      std::clamp(params.interest_rate_8h - average_premium, -params.clamp_8h, params.clamp_8h);
  const i128 rate = static_cast<i128>(params.multiplier) * (average_premium + clamped) /
                    kFractionOne;  // toward zero
  const std::int64_t cap = kFundingRateCapPerHour * 8;
  return static_cast<std::int64_t>(std::clamp<i128>(rate, -cap, cap));
}

std::int64_t funding_payment(Lots szi, Px oracle, std::int64_t lot_scale, std::int64_t rate_8h,
                             std::uint32_t interval_hours) {
  const i128 numerator = static_cast<i128>(szi) * oracle * rate_8h * interval_hours;
  const i128 denominator = static_cast<i128>(lot_scale) * 8 * kFractionOne;
  return static_cast<std::int64_t>(numerator > 0 ? state::div_ceil(numerator, denominator)
                                                 : -(-numerator / denominator));
}

}  // namespace perps
