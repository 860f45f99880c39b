// Decimal strings to integers exactly as SPEC section 1 says.
#include <catch2/catch.hpp>

#include "state/decimal.h"

using namespace state;

TEST_CASE("decimal strings parse exactly into units", "[decimal]") {
  CHECK(*parse_decimal("65000.5", 6, Sign::Unsigned) == 65'000'500'000);
  CHECK(*parse_decimal("0.001", 6, Sign::Unsigned) == 1'000);
  CHECK(*parse_decimal("0.000001", 6, Sign::Unsigned) == 1);
  CHECK(*parse_decimal("-12.25", 6, Sign::Signed) == -12'250'000);
  CHECK(*parse_decimal("1.50", 1, Sign::Unsigned) == 15);  // trailing zeros accepted
  CHECK(*parse_decimal("1.5000000000000", 1, Sign::Unsigned) == 15);
  CHECK(*parse_decimal("123456", 0, Sign::Unsigned) == 123456);
  CHECK(*parse_decimal("0", 6, Sign::Unsigned) == 0);
  CHECK(*parse_decimal("-0", 6, Sign::Signed) == 0);
  CHECK(*parse_decimal("007", 0, Sign::Unsigned) == 7);  // leading zeros accepted
}

TEST_CASE("decimal syntax errors are BadDecimal", "[decimal]") {
  for (const char* text : {"", "-", "+1", "1e5", "1E5", " 1", "1 ", "1.", ".5", "1.2.3", "0x10",
                           "1,5", "--1", "1-", "NaN", "inf", "١"}) {
    INFO(text);
    CHECK(parse_decimal(text, 6, Sign::Signed).reason() == Reason::BadDecimal);
  }
  CHECK(parse_decimal(std::string(41, '1'), 0, Sign::Unsigned).reason() == Reason::BadDecimal);
}

TEST_CASE("a sign where none is allowed is NegativeAmount", "[decimal]") {
  CHECK(parse_decimal("-1", 6, Sign::Unsigned).reason() == Reason::NegativeAmount);
  CHECK(parse_decimal("-0", 6, Sign::Unsigned).reason() == Reason::NegativeAmount);
}

TEST_CASE("more decimals than the unit allows is TooManyDecimals - never rounded", "[decimal]") {
  CHECK(parse_decimal("0.0000001", 6, Sign::Unsigned).reason() == Reason::TooManyDecimals);
  CHECK(parse_decimal("1.05", 1, Sign::Unsigned).reason() == Reason::TooManyDecimals);
  CHECK(parse_decimal("1.5", 0, Sign::Unsigned).reason() == Reason::TooManyDecimals);
}

TEST_CASE("values beyond int64 are Overflow - and the limits themselves fit", "[decimal]") {
  CHECK(*parse_decimal("9223372036854775807", 0, Sign::Signed) == INT64_MAX);
  CHECK(*parse_decimal("-9223372036854775808", 0, Sign::Signed) == INT64_MIN);
  CHECK(parse_decimal("9223372036854775808", 0, Sign::Signed).reason() == Reason::Overflow);
  CHECK(parse_decimal("-9223372036854775809", 0, Sign::Signed).reason() == Reason::Overflow);
  CHECK(*parse_decimal("9223372036854.775807", 6, Sign::Unsigned) == INT64_MAX);
  CHECK(parse_decimal("9223372036855", 6, Sign::Unsigned).reason() == Reason::Overflow);
  CHECK(parse_decimal("99999999999999999999999999999999999999", 6, Sign::Unsigned).reason() ==
        Reason::Overflow);
}

TEST_CASE("format_decimal gives the shortest form and round-trips", "[decimal]") {
  CHECK(format_decimal(65'000'500'000, 6) == "65000.5");
  CHECK(format_decimal(1, 6) == "0.000001");
  CHECK(format_decimal(-12'250'000, 6) == "-12.25");
  CHECK(format_decimal(0, 6) == "0");
  CHECK(format_decimal(42, 0) == "42");
  CHECK(format_decimal(INT64_MIN, 0) == "-9223372036854775808");
  for (std::int64_t v : std::initializer_list<std::int64_t>{INT64_MIN, INT64_MIN + 1, -1'000'001,
                                                            -1, 0, 7, 1'000'000, INT64_MAX})
    for (unsigned d : {0u, 1u, 6u, 8u, 18u})
      CHECK(*parse_decimal(format_decimal(v, d), d, Sign::Signed) == v);
}
