// UTF-8 validation against the cases of RFC 3629 and Markus Kuhn's decoder stress test.
#include <catch2/catch.hpp>
#include <string>

#include "state/utf8.h"

using state::is_valid_utf8;

TEST_CASE("well-formed UTF-8 is valid", "[utf8]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("ETH"));
  CHECK(is_valid_utf8(std::string("\0", 1)));  // U+0000 is a character
  CHECK(is_valid_utf8("\x7F"));                // last one-byte
  CHECK(is_valid_utf8("\xC2\x80"));            // first two-byte: U+0080
  CHECK(is_valid_utf8("\xDF\xBF"));            // last two-byte: U+07FF
  CHECK(is_valid_utf8("\xE0\xA0\x80"));        // first three-byte: U+0800
  CHECK(is_valid_utf8("\xE2\x82\xAC"));        // euro sign U+20AC
  CHECK(is_valid_utf8("\xED\x9F\xBF"));        // U+D7FF, just below the surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));        // U+E000, just above them
  CHECK(is_valid_utf8("\xEF\xBF\xBF"));        // U+FFFF
  CHECK(is_valid_utf8("\xF0\x90\x80\x80"));    // first four-byte: U+10000
  CHECK(is_valid_utf8("\xF0\x9D\x84\x9E"));    // musical symbol G clef U+1D11E
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));    // U+10FFFF, the last code point
  CHECK(is_valid_utf8("gsr:XAU\xE2\x82\xAC\xF0\x9D\x84\x9E"));
}

TEST_CASE("malformed UTF-8 is refused", "[utf8]") {
  CHECK_FALSE(is_valid_utf8("\x80"));  // a lone continuation byte
  CHECK_FALSE(is_valid_utf8("\xBF"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong U+007F
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong '/' in three bytes
  CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // overlong U+07FF
  CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong '/' in four bytes
  CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800, a surrogate
  CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // U+DFFF
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000, past the last code point
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xFE"));
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("\xC2"));  // truncated at the end
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));
  CHECK_FALSE(is_valid_utf8("\xF0\x9D\x84"));
  CHECK_FALSE(is_valid_utf8("\xE2\x82X"));  // a continuation byte missing mid-text
  CHECK_FALSE(is_valid_utf8("\xF0\x9D\x84\x41"));
  CHECK_FALSE(is_valid_utf8("ok\xC3\x28"));
}
