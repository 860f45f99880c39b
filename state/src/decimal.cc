#include "state/decimal.h"

#include <limits>

namespace state {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<std::int64_t> parse_decimal(std::string_view text, unsigned decimals, Sign sign) {
  if (text.empty()) return make_error(Reason::BadDecimal, "empty decimal");
  if (text.size() > kMaxDecimalLength) return make_error(Reason::BadDecimal, "decimal too long");
  bool negative = text.front() == '-';
  if (negative) text.remove_prefix(1);
  std::string_view int_part = text.substr(0, text.find('.'));
  std::string_view frac_part;
  if (int_part.size() < text.size()) {
    frac_part = text.substr(int_part.size() + 1);
    if (frac_part.empty()) return make_error(Reason::BadDecimal, "'.' must be followed by digits");
  }
  if (int_part.empty()) return make_error(Reason::BadDecimal, "digits must come before '.'");
  for (char c : int_part)
    if (!is_digit(c)) return make_error(Reason::BadDecimal, "not a plain decimal number");
  for (char c : frac_part)
    if (!is_digit(c)) return make_error(Reason::BadDecimal, "not a plain decimal number");
  if (negative && sign == Sign::Unsigned)
    return make_error(Reason::NegativeAmount, "this amount cannot be negative");

  while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
  if (frac_part.size() > decimals)
    return make_error(Reason::TooManyDecimals,
                      "at most " + std::to_string(decimals) + " decimals allowed");

  // Accumulate the magnitude as unsigned 128-bit; 40 digits cannot overflow it before the check.
  unsigned __int128 magnitude = 0;
  constexpr unsigned __int128 kLimit = static_cast<unsigned __int128>(1) << 64;
  auto push = [&](char c) {
    magnitude = magnitude * 10 + static_cast<unsigned>(c - '0');
    if (magnitude > kLimit) magnitude = kLimit;  // saturate; reported as Overflow below
  };
  for (char c : int_part) push(c);
  for (char c : frac_part) push(c);
  for (std::size_t i = frac_part.size(); i < decimals; ++i) push('0');

  constexpr auto kMax = static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > kMax + (negative ? 1 : 0))
    return make_error(Reason::Overflow, "amount does not fit in 64 bits");
  if (negative) return static_cast<std::int64_t>(-static_cast<__int128>(magnitude));
  return static_cast<std::int64_t>(magnitude);
}

std::string format_decimal(std::int64_t units, unsigned decimals) {
  bool negative = units < 0;
  // Work in unsigned so INT64_MIN negates without overflow.
  std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
  std::string digits = std::to_string(magnitude);
  if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
  std::string out = digits.substr(0, digits.size() - decimals);
  std::string frac = digits.substr(digits.size() - decimals);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) out += "." + frac;
  return negative ? "-" + out : out;
}

}  // namespace state
