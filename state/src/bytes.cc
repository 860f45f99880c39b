#include "state/bytes.h"

#include <array>
#include <cstring>

namespace state {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Digit values by character, 0xff for a non-hex character: every envelope decodes ~160 digits
// (signature, cloid), and a table lookup per digit spares the range tests.
constexpr std::array<std::uint8_t, 256> kHexValues = [] {
  std::array<std::uint8_t, 256> values{};
  values.fill(0xff);
  for (int c = '0'; c <= '9'; ++c) values[c] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[c] = static_cast<std::uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) values[c] = static_cast<std::uint8_t>(c - 'A' + 10);
  return values;
}();

// Decodes the digits after "0x" into out (which holds digits/2 bytes).
Status decode_digits(std::string_view digits, std::uint8_t* out) {
  std::uint8_t invalid = 0;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const std::uint8_t hi = kHexValues[static_cast<unsigned char>(digits[i])];
    const std::uint8_t lo = kHexValues[static_cast<unsigned char>(digits[i + 1])];
    invalid |= (hi | lo) & 0xf0;
    out[i / 2] = static_cast<std::uint8_t>(hi << 4 | (lo & 0x0f));
  }
  if (invalid) return make_error(Reason::BadHex, "non-hex digit");
  return Status::Ok();
}

Result<std::string_view> strip_prefix(std::string_view text) {
  if (text.size() < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return make_error(Reason::BadHex, "hex must start with 0x");
  text.remove_prefix(2);
  if (text.size() % 2) return make_error(Reason::BadHex, "odd number of hex digits");
  return text;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> data) {
  std::string out(2 + 2 * data.size(), '0');
  out[1] = 'x';
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 + 2 * i] = kHexDigits[data[i] >> 4];
    out[3 + 2 * i] = kHexDigits[data[i] & 15];
  }
  return out;
}

Result<Bytes> parse_hex(std::string_view text) {
  auto digits = strip_prefix(text);
  if (!digits) return digits.error();
  Bytes out(digits->size() / 2);
  PERPD_TRY(decode_digits(*digits, out.data()));
  return out;
}

template <std::size_t N>
Result<FixedBytes<N>> parse_fixed_hex(std::string_view text) {
  auto digits = strip_prefix(text);
  if (!digits) return digits.error();
  if (digits->size() != 2 * N)
    return make_error(Reason::BadHex, "expected " + std::to_string(N) + " bytes of hex");
  FixedBytes<N> out;
  PERPD_TRY(decode_digits(*digits, out.data()));
  return out;
}

template Result<FixedBytes<16>> parse_fixed_hex<16>(std::string_view);
template Result<FixedBytes<20>> parse_fixed_hex<20>(std::string_view);
template Result<FixedBytes<32>> parse_fixed_hex<32>(std::string_view);
template Result<FixedBytes<65>> parse_fixed_hex<65>(std::string_view);

}  // namespace state
