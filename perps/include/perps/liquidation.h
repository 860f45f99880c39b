// Liquidation arithmetic as pure integer functions (docs/protocol.md section 10).
#pragma once

#include <cstdint>
#include <optional>

#include "perps/book_types.h"
#include "state/fixed_point.h"

namespace perps {

// The mark at which a position's margin falls to its maintenance requirement, other positions
// held fixed: solving cover + szi * (p - mark) / lot = |szi| * p / (lot * 2 * tierMaxLeverage)
// for p, where cover is what backs the position beyond the other positions' maintenance (cross:
// account value minus the other cross positions' maintenance; isolated: margin plus unrealized
// PnL). Rounded toward negative infinity; nullopt when no positive price liquidates it.
std::optional<Px> liquidation_price(Lots szi, Px mark, std::int64_t lot_scale, std::int64_t cover,
                                    std::uint32_t tier_max_leverage);

// Auto-deleveraging priority of a position (higher goes first): the SPEC's
// (mark / entry) * (notional / equity) for longs and (entry / mark) * (notional / equity) for
// shorts, so the most profitable, most leveraged side ranks first either way. With value the
// signed notional at the mark and cost the signed cost basis, that is value^2 / (cost * equity)
// for a long and |cost| / equity for a short; scaled by 1e8 and truncated. Zero when equity <= 0
// or the position is empty.
state::i128 adl_score(std::int64_t value, std::int64_t cost, std::int64_t equity);

}  // namespace perps
