// Decimal strings on the wire (SPEC section 1) to integers in a unit, exactly or not at all.
//
//   "65000.5" at 6 decimals -> 65000500000
//   "1.50"    at 1 decimal  -> 15   (trailing zeros accepted)
//   "1.05"    at 1 decimal  -> TooManyDecimals (never rounded)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "state/result.h"

namespace state {

enum class Sign : bool { Unsigned = false, Signed = true };

// Longest decimal string accepted; longer text cannot fit an int64 in any unit anyway.
inline constexpr std::size_t kMaxDecimalLength = 40;

// Parses text as an integer count of 10^-decimals units (decimals <= 18).
// Returns BadDecimal (empty, '+', exponent, spaces, '.' without digits on both sides, other
// characters, longer than kMaxDecimalLength), NegativeAmount (a '-' where sign is Unsigned),
// TooManyDecimals (nonzero digits past `decimals`), Overflow (does not fit int64).
Result<std::int64_t> parse_decimal(std::string_view text, unsigned decimals, Sign sign);

// Formats units of 10^-decimals as the shortest decimal string: 65000500000 at 6 -> "65000.5".
std::string format_decimal(std::int64_t units, unsigned decimals);

}  // namespace state
