// A pull reader for the plain subset of JSON that clients send in the common case: strings of
// printable ASCII without escapes, integers without fraction or exponent, true and false, arrays
// and objects, read by the caller's own grammar (what it expects where). It builds no tree, so
// the RPC fast path (perp_sendAction batches) reads a request in one pass. Anything outside the
// subset or the grammar, or not JSON at all, makes a read fail and the reader stop; the caller
// then hands the whole text to the full parser (Boost.JSON), which accepts or refuses it as it
// always does. So the subset never changes what a request means, only how fast the plain ones
// are read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace state {

class PlainJsonReader {
 public:
  // An integer as written: its sign and magnitude (at most 2^64 - 1; more fails the read).
  struct Integer {
    bool negative = false;
    std::uint64_t magnitude = 0;
  };

  explicit PlainJsonReader(std::string_view text) : text_(text) {}

  std::size_t position() const { return at_; }
  // True at the end of the text (after whitespace), which a whole value must reach.
  bool at_end() {
    skip_whitespace();
    return !failed_ && at_ == text_.size();
  }

  // Consumes c (after whitespace) if it is next; never fails the read.
  bool take(char c) {
    skip_whitespace();
    if (failed_ || at_ >= text_.size() || text_[at_] != c) return false;
    ++at_;
    return true;
  }
  // Consumes c (after whitespace) or fails the read.
  bool expect(char c) { return take(c) || fail(); }
  // The next token is c (after whitespace), not consumed.
  bool next_is(char c) {
    skip_whitespace();
    return !failed_ && at_ < text_.size() && text_[at_] == c;
  }

  // A string's contents, a view into the text.
  std::optional<std::string_view> string() {
    if (!expect('"')) return std::nullopt;
    const std::size_t begin = at_;
    while (at_ < text_.size() && kPlainStringByte[static_cast<unsigned char>(text_[at_])]) ++at_;
    // At the closing quote, or else at a control byte, non-ASCII or an escape: not plain.
    if (at_ == text_.size() || text_[at_] != '"') return fail(), std::nullopt;
    return text_.substr(begin, at_++ - begin);
  }

  std::optional<Integer> integer() {
    skip_whitespace();
    if (failed_) return std::nullopt;
    Integer out;
    if (at_ < text_.size() && text_[at_] == '-') {
      out.negative = true;
      ++at_;
    }
    const std::size_t digits = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      const std::uint64_t digit = static_cast<std::uint64_t>(text_[at_] - '0');
      if (out.magnitude > (UINT64_MAX - digit) / 10) return fail(), std::nullopt;
      out.magnitude = out.magnitude * 10 + digit;
      ++at_;
    }
    const std::size_t count = at_ - digits;
    // JSON has no leading zeros; a fraction or an exponent makes it no plain integer, and -0
    // is left to the full parser.
    if (count == 0 || (count > 1 && text_[digits] == '0') || (out.negative && out.magnitude == 0) ||
        (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E')))
      return fail(), std::nullopt;
    return out;
  }

  std::optional<bool> boolean() {
    if (literal("true")) return true;
    if (literal("false")) return false;
    fail();
    return std::nullopt;
  }

  // Reads the members of an object whose '{' was just taken: for each, member(key) must read the
  // value and answer true. False when a member answers false or the object is not plain.
  template <class Member>
  bool members(Member&& member) {
    if (take('}')) return true;
    return one_member(member) && more_members(member);
  }
  // The same for the members after one already read, up to and with the closing '}'.
  template <class Member>
  bool more_members(Member&& member) {
    while (take(','))
      if (!one_member(member)) return false;
    return expect('}');
  }

  // Marks the read failed (from here on every read fails); always false.
  bool fail() {
    failed_ = true;
    return false;
  }

 private:
  void skip_whitespace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
      ++at_;
  }
  template <class Member>
  bool one_member(Member& member) {
    const auto key = string();
    return key && expect(':') && (member(*key) || fail());
  }
  bool literal(std::string_view word) {
    skip_whitespace();
    if (failed_ || text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  // Bytes a plain string holds: printable ASCII but the quote and the backslash.
  static constexpr auto kPlainStringByte = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\';
    return plain;
  }();

  std::string_view text_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

}  // namespace state
