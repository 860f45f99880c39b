// Client-side price rounding onto a market's grid (SPEC section 1: at most 5 significant
// figures and 6 - szDecimals decimals; integers always valid), for wallets and demo bots that
// derive prices from the book or a random walk.
#pragma once

#include <cstdint>

namespace node {

// px in micro-dollars, rounded down (or up) to the nearest valid price.
std::int64_t round_to_grid(std::int64_t px, unsigned sz_decimals, bool up);

}  // namespace node
