#include "perps/liquidation.h"

#include "perps/protocol_constants.h"

namespace perps {
using state::i128;

std::optional<Px> liquidation_price(Lots szi, Px mark, std::int64_t lot_scale, std::int64_t cover,
                                    std::uint32_t tier_max_leverage) {
  if (szi == 0 || tier_max_leverage == 0) return std::nullopt;
  const i128 two_l = 2 * static_cast<i128>(tier_max_leverage);
  const i128 abs_szi = szi < 0 ? -static_cast<i128>(szi) : szi;
  const i128 numerator =
      (static_cast<i128>(szi) * mark - static_cast<i128>(cover) * lot_scale) * two_l;
  const i128 denominator = two_l * szi - abs_szi;
  if (denominator == 0) return std::nullopt;
  const i128 px = state::div_floor(denominator < 0 ? -numerator : numerator,
                                   denominator < 0 ? -denominator : denominator);
  if (px <= 0 || px > std::numeric_limits<Px>::max()) return std::nullopt;
  return static_cast<Px>(px);
}

i128 adl_score(std::int64_t value, std::int64_t cost, std::int64_t equity) {
  if (equity <= 0 || value == 0 || cost == 0) return 0;
  const i128 abs_value = value < 0 ? -static_cast<i128>(value) : value;
  const i128 abs_cost = cost < 0 ? -static_cast<i128>(cost) : cost;
  if (value > 0) return abs_value * kFractionOne / abs_cost * abs_value / equity;
  return abs_cost * kFractionOne / equity;
}

}  // namespace perps
