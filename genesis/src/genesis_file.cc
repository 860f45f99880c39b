#include "genesis/genesis_file.h"

#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <new>
#include <set>
#include <utility>
#include <vector>

#include "perps/price_grid.h"
#include "perps/protocol_constants.h"
#include "state/crypto.h"
#include "state/decimal.h"

namespace genesis {
namespace {

namespace json = boost::json;
using perps::GenesisBalance;
using perps::GenesisMarket;
using perps::GenesisState;
using perps::GenesisValidator;
using state::Address;
using state::Reason;
using state::Result;
using state::Status;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// Unix milliseconds from 2001-09-09 to the end of year 9999: a value below the range is almost
// surely seconds, which would put the chain in 1970 and every millisecond nonce out of window.
constexpr std::uint64_t kMinGenesisTimeMs = 1'000'000'000'000;
constexpr std::uint64_t kMaxGenesisTimeMs = 253'402'300'799'999;
constexpr std::size_t kMaxStakeTokenLength = 16;
constexpr std::size_t kMaxMarketNameLength = 20;
constexpr std::size_t kMaxHostLength = 253;  // a DNS name's limit
// The oracle range clamp computes start-of-day * 10 in int64; a larger start could overflow it.
constexpr std::int64_t kMaxOraclePx = kInt64Max / perps::kOracleRangeFactor;
constexpr unsigned kAmountDecimals = 6;  // USD and stake amounts, prices: micro-units

state::Error bad(const std::string& path, std::string_view what) {
  return state::make_error(Reason::BadGenesis, path + ": " + std::string(what));
}

std::string member(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool is_upper_or_digit(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ---------------------------------------------------------------------------------------------
// Syntax pass. boost::json::parse keeps the last of duplicate keys silently, and a genesis with
// two "usd" fields in one balance is a mistake to report, not to guess at; so a SAX pass over the
// text checks syntax, depth and duplicate keys (naming the path) before the tree is built.

class SyntaxCheck {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  // The path of the first duplicate key; empty when none was found.
  const std::string& duplicate() const { return duplicate_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return open(true); }
  bool on_array_end(std::size_t, json::error_code&) { return close(); }
  bool on_object_begin(json::error_code&) { return open(false); }
  bool on_object_end(std::size_t, json::error_code&) { return close(); }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return value(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    Frame& top = frames_.back();
    if (!top.keys.insert(key_).second) {
      duplicate_ = member(path(), key_);
      ec = json::error::syntax;
      return false;
    }
    top.key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return value(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return value(); }
  // Boost.JSON reports fractions and exponents as double; the value is never used (a genesis
  // number is an integer or an error), only its position.
  bool on_double(double, json::string_view, json::error_code&) {  // determinism: never read
    return value();
  }
  bool on_bool(bool, json::error_code&) { return value(); }
  bool on_null(json::error_code&) { return value(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  struct Frame {
    bool array = false;
    std::size_t index = 0;  // array: the element being read
    std::string key;        // object: the member being read
    std::set<std::string, std::less<>> keys;
  };

  bool open(bool array) {
    frames_.push_back(Frame{array, 0, {}, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();
  }
  // A value ended: the enclosing array moves on to its next element.
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  // The path of the innermost open object, as the validator below writes paths.
  std::string path() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i)
      out = frames_[i].array ? element(out, frames_[i].index) : member(out, frames_[i].key);
    return out;
  }

  std::vector<Frame> frames_;
  std::string key_;
  std::string duplicate_;
};

// Line and column (from 1) of a byte offset, for syntax errors in a hand-edited file.
std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Status check_syntax(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxGenesisDepth;
  json::basic_parser<SyntaxCheck> parser(options);
  json::error_code ec;
  std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!parser.handler().duplicate().empty())
    return bad(parser.handler().duplicate(), "duplicate key");
  if (ec == json::error::too_deep)
    return bad("genesis",
               "JSON nested deeper than " + std::to_string(kMaxGenesisDepth) + " levels");
  if (ec) return bad("genesis", "not JSON (" + position(text, used) + ": " + ec.message() + ")");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Field readers. Each names the field's path in its error and states the accepted form.

// Rejects members outside `allowed` (the first in document order) and reports the first of
// `required` that is absent.
Status check_members(const json::object& object, const std::string& path,
                     std::initializer_list<std::string_view> allowed,
                     std::initializer_list<std::string_view> required) {
  for (const auto& entry : object) {
    bool known = false;
    for (std::string_view name : allowed) known = known || entry.key() == name;
    if (!known) return bad(member(path, entry.key()), "unknown field");
  }
  for (std::string_view name : required)
    if (!object.contains(name)) return bad(member(path, name), "missing");
  return Status::Ok();
}

Result<const json::object*> read_object(const json::value& value, const std::string& path) {
  if (const json::object* object = value.if_object()) return object;
  return bad(path, "must be an object");
}

Result<const json::array*> read_array(const json::value& value, const std::string& path) {
  if (const json::array* array = value.if_array()) return array;
  return bad(path, "must be an array");
}

// A JSON integer in [low, high]; a string, a fraction or an exponent is an error, so that the
// file says what it means ("5" and 5.0 are not szDecimals).
Result<std::uint64_t> read_integer(const json::value& value, const std::string& path,
                                   std::uint64_t low, std::uint64_t high, std::string_view rule) {
  std::uint64_t n = 0;
  if (const std::int64_t* i = value.if_int64()) {
    if (*i < 0) return bad(path, rule);
    n = static_cast<std::uint64_t>(*i);
  } else if (const std::uint64_t* u = value.if_uint64()) {
    n = *u;
  } else {
    return bad(path, rule);
  }
  if (n < low || n > high) return bad(path, rule);
  return n;
}

// chainId and genesisTime are uint64 and may pass 2^53, past which JavaScript tools lose digits
// of a JSON number; so, as integer fields of actions (docs/protocol.md section 1), they may also
// be a string of decimal digits.
Result<std::uint64_t> read_integer_or_digits(const json::value& value, const std::string& path,
                                             std::uint64_t low, std::uint64_t high,
                                             std::string_view rule) {
  const json::string* text = value.if_string();
  if (!text) return read_integer(value, path, low, high, rule);
  if (text->empty() || text->size() > 20) return bad(path, rule);
  unsigned __int128 n = 0;
  for (char c : *text) {
    if (!is_digit(c)) return bad(path, rule);
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n < low || n > high) return bad(path, rule);
  return static_cast<std::uint64_t>(n);
}

Result<std::string> read_string(const json::value& value, const std::string& path,
                                std::string_view rule) {
  if (const json::string* s = value.if_string()) return std::string(s->data(), s->size());
  return bad(path, rule);
}

// An unsigned decimal string in micro-units (SPEC section 1).
Result<std::int64_t> read_amount(const json::value& value, const std::string& path, bool positive) {
  const json::string* text = value.if_string();
  if (!text) {
    if (value.is_number()) return bad(path, "must be a decimal string, not a JSON number");
    return bad(path, "must be a decimal string");
  }
  auto units = state::parse_decimal(std::string_view(text->data(), text->size()), kAmountDecimals,
                                    state::Sign::Unsigned);
  if (!units) {
    switch (units.reason()) {
      case Reason::NegativeAmount:
        return bad(path, "must not be negative");
      case Reason::TooManyDecimals:
        return bad(path, "more than 6 decimals");
      case Reason::Overflow:
        return bad(path, "too large");
      default:
        return bad(path, "not a decimal string (" + units.error().message + ")");
    }
  }
  if (positive && *units <= 0) return bad(path, "must be positive");
  return *units;
}

// 0x plus 40 hex digits. All-lowercase and all-uppercase carry no checksum; mixed case is an
// EIP-55 checksum and must be right, since a wrong one means a mistyped address (SPEC section 2
// accepts any case; this is the reading ethers' getAddress gives it).
Result<Address> read_address(const json::value& value, const std::string& path) {
  constexpr std::string_view kRule = "not a 0x-prefixed 20-byte hex address";
  const json::string* s = value.if_string();
  if (!s) return bad(path, kRule);
  std::string_view text(s->data(), s->size());
  if (text.size() != 42 || text[0] != '0' || text[1] != 'x') return bad(path, kRule);
  bool lower = false, upper = false;
  for (char c : text.substr(2)) {
    if (c >= 'a' && c <= 'f') {
      lower = true;
    } else if (c >= 'A' && c <= 'F') {
      upper = true;
    } else if (!is_digit(c)) {
      return bad(path, kRule);
    }
  }
  auto address = state::parse_address(text);
  if (!address) return bad(path, kRule);
  if (lower && upper) {
    std::string expected = state::to_checksum_address(*address);
    if (expected != text) return bad(path, "bad EIP-55 checksum (expected " + expected + ")");
  }
  if (address->is_zero()) return bad(path, "the zero address is not an account");
  return *address;
}

// "host:port": a DNS name or IPv4 address, or an IPv6 address in brackets; port 1..65535.
bool valid_p2p(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port[0] == '0') return false;
  unsigned number = 0;
  for (char c : port) {
    if (!is_digit(c)) return false;
    number = number * 10 + static_cast<unsigned>(c - '0');
  }
  if (number < 1 || number > 65535) return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.empty()) return false;
    for (char c : host) {
      bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return false;
    }
    return true;
  }
  if (host.empty() || host.size() > kMaxHostLength) return false;
  for (char c : host) {
    bool alnum = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && c != '.' && c != '-') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Sections.

Result<GenesisValidator> read_validator(const json::value& value, const std::string& path) {
  auto object = read_object(value, path);
  if (!object) return object.error();
  const json::object& o = **object;
  PERPD_TRY(check_members(o, path, {"address", "power", "p2p"}, {"address", "power", "p2p"}));
  GenesisValidator v;
  auto address = read_address(o.at("address"), member(path, "address"));
  if (!address) return address.error();
  v.address = *address;
  if (v.address.bytes == std::to_array(perps::kBackstopVaultAddress))
    return bad(member(path, "address"), "the backstop vault has no key and cannot validate");
  auto power = read_integer(o.at("power"), member(path, "power"), 1,
                            static_cast<std::uint64_t>(kInt64Max), "must be a positive integer");
  if (!power) return power.error();
  v.power = *power;
  constexpr std::string_view kP2pRule = "must be \"host:port\" with port 1..65535";
  auto p2p = read_string(o.at("p2p"), member(path, "p2p"), kP2pRule);
  if (!p2p) return p2p.error();
  if (!valid_p2p(*p2p)) return bad(member(path, "p2p"), kP2pRule);
  v.p2p = std::move(*p2p);
  return v;
}

Result<GenesisBalance> read_balance(const json::value& value, const std::string& path) {
  auto object = read_object(value, path);
  if (!object) return object.error();
  const json::object& o = **object;
  // stake is optional: most funded accounts (traders, the vault) hold no stake token.
  PERPD_TRY(check_members(o, path, {"address", "usd", "stake"}, {"address", "usd"}));
  GenesisBalance b;
  auto address = read_address(o.at("address"), member(path, "address"));
  if (!address) return address.error();
  b.address = *address;
  auto usd = read_amount(o.at("usd"), member(path, "usd"), false);
  if (!usd) return usd.error();
  b.usd = *usd;
  if (const json::value* stake = o.if_contains("stake")) {
    auto units = read_amount(*stake, member(path, "stake"), false);
    if (!units) return units.error();
    b.stake = *units;
  }
  return b;
}

Result<GenesisMarket> read_market(const json::value& value, const std::string& path) {
  auto object = read_object(value, path);
  if (!object) return object.error();
  const json::object& o = **object;
  PERPD_TRY(check_members(o, path,
                          {"name", "szDecimals", "maxLeverage", "oraclePx", "impactNotional"},
                          {"name", "szDecimals", "maxLeverage", "oraclePx", "impactNotional"}));
  GenesisMarket m;
  constexpr std::string_view kNameRule = "must be 1..20 uppercase letters or digits";
  auto name = read_string(o.at("name"), member(path, "name"), kNameRule);
  if (!name) return name.error();
  if (name->empty() || name->size() > kMaxMarketNameLength)
    return bad(member(path, "name"), kNameRule);
  for (char c : *name)
    if (!is_upper_or_digit(c)) return bad(member(path, "name"), kNameRule);
  m.name = std::move(*name);
  auto sz_decimals = read_integer(o.at("szDecimals"), member(path, "szDecimals"), 0,
                                  perps::kMaxSzDecimals, "must be an integer 0..6");
  if (!sz_decimals) return sz_decimals.error();
  m.sz_decimals = static_cast<unsigned>(*sz_decimals);
  auto max_leverage =
      read_integer(o.at("maxLeverage"), member(path, "maxLeverage"), perps::kMinLeverage,
                   perps::kMaxLeverage, "must be an integer 1..50");
  if (!max_leverage) return max_leverage.error();
  m.max_leverage = static_cast<std::uint32_t>(*max_leverage);
  auto oracle_px = read_amount(o.at("oraclePx"), member(path, "oraclePx"), true);
  if (!oracle_px) return oracle_px.error();
  if (*oracle_px > kMaxOraclePx) return bad(member(path, "oraclePx"), "too large");
  if (!perps::PriceGrid::significant_figures(m.sz_decimals).valid(*oracle_px))
    return bad(member(path, "oraclePx"),
               "not a valid price (at most 5 significant figures and at most " +
                   std::to_string(perps::kPriceDecimals - m.sz_decimals) +
                   " decimals, unless an integer)");
  m.oracle_px = *oracle_px;
  auto impact = read_amount(o.at("impactNotional"), member(path, "impactNotional"), true);
  if (!impact) return impact.error();
  m.impact_notional = *impact;
  return m;
}

Result<GenesisState> read_genesis(const json::value& root) {
  auto object = read_object(root, "genesis");
  if (!object) return object.error();
  const json::object& o = **object;
  PERPD_TRY(check_members(
      o, "", {"chainId", "genesisTime", "stakeToken", "validators", "balances", "markets"},
      {"chainId", "genesisTime", "validators", "balances", "markets"}));
  GenesisState g;

  auto chain_id = read_integer_or_digits(o.at("chainId"), "chainId", 1,
                                         std::numeric_limits<std::uint64_t>::max(),
                                         "must be a positive integer");
  if (!chain_id) return chain_id.error();
  g.chain_id = *chain_id;
  auto time = read_integer_or_digits(
      o.at("genesisTime"), "genesisTime", kMinGenesisTimeMs, kMaxGenesisTimeMs,
      "must be an integer Unix time in milliseconds (1000000000000..253402300799999)");
  if (!time) return time.error();
  g.genesis_time_ms = *time;

  if (const json::value* token = o.if_contains("stakeToken")) {
    constexpr std::string_view kRule = "must be 1..16 uppercase letters or digits";
    auto text = read_string(*token, "stakeToken", kRule);
    if (!text) return text.error();
    if (text->empty() || text->size() > kMaxStakeTokenLength) return bad("stakeToken", kRule);
    for (char c : *text)
      if (!is_upper_or_digit(c)) return bad("stakeToken", kRule);
    g.stake_token = std::move(*text);
  }

  auto validators = read_array(o.at("validators"), "validators");
  if (!validators) return validators.error();
  if ((*validators)->empty()) return bad("validators", "must not be empty");
  std::set<Address> validator_addresses;
  std::set<std::string, std::less<>> endpoints;
  std::uint64_t total_power = 0;
  for (std::size_t i = 0; i < (*validators)->size(); ++i) {
    const std::string path = element("validators", i);
    auto v = read_validator((**validators)[i], path);
    if (!v) return v.error();
    if (!validator_addresses.insert(v->address).second)
      return bad(member(path, "address"), "duplicate");
    // Two validators on one endpoint is a copy-paste slip; peers could reach only one of them.
    if (!endpoints.insert(v->p2p).second) return bad(member(path, "p2p"), "duplicate");
    if (v->power > static_cast<std::uint64_t>(kInt64Max) - total_power)
      return bad(member(path, "power"), "total power of all validators does not fit 63 bits");
    total_power += v->power;
    g.validators.push_back(std::move(*v));
  }

  auto balances = read_array(o.at("balances"), "balances");
  if (!balances) return balances.error();
  std::set<Address> balance_addresses;
  std::int64_t total_usd = 0, total_stake = 0;
  for (std::size_t i = 0; i < (*balances)->size(); ++i) {
    const std::string path = element("balances", i);
    auto b = read_balance((**balances)[i], path);
    if (!b) return b.error();
    if (!balance_addresses.insert(b->address).second)
      return bad(member(path, "address"), "duplicate");
    // The sum of all balances is an invariant the exchange checks; it must be representable.
    if (b->usd > kInt64Max - total_usd)
      return bad(member(path, "usd"), "total of all balances does not fit 64 bits");
    if (b->stake > kInt64Max - total_stake)
      return bad(member(path, "stake"), "total of all balances does not fit 64 bits");
    total_usd += b->usd;
    total_stake += b->stake;
    g.balances.push_back(*b);
  }

  auto markets = read_array(o.at("markets"), "markets");
  if (!markets) return markets.error();
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < (*markets)->size(); ++i) {
    const std::string path = element("markets", i);
    auto m = read_market((**markets)[i], path);
    if (!m) return m.error();
    if (!names.insert(m->name).second) return bad(member(path, "name"), "duplicate");
    g.markets.push_back(std::move(*m));
  }
  return g;
}

// A JSON string literal, escaped as Boost.JSON escapes it.
std::string quoted(std::string_view text) {
  return json::serialize(json::string_view(text.data(), text.size()));
}

}  // namespace

Result<GenesisState> parse_genesis(std::string_view json_text) {
  if (json_text.size() > kMaxGenesisBytes)
    return bad("genesis", "larger than " + std::to_string(kMaxGenesisBytes) + " bytes");
  // Nothing below is meant to throw, but allocation can; an exception must not cross into the
  // node's startup path as anything but an error value.
  try {
    PERPD_TRY(check_syntax(json_text));
    json::monotonic_resource resource;
    json::parse_options options;
    options.max_depth = kMaxGenesisDepth;
    json::error_code ec;
    json::value root = json::parse(json_text, ec, &resource, options);
    if (ec) return bad("genesis", "not JSON (" + ec.message() + ")");
    return read_genesis(root);
  } catch (const std::bad_alloc&) {
    return bad("genesis", "out of memory");
  } catch (const std::exception& e) {
    return bad("genesis", std::string("cannot be read: ") + e.what());
  }
}

Result<GenesisState> load_genesis_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return bad(path, std::string("cannot open: ") + std::strerror(errno));
  // Read in chunks and stop past the limit: the file may be a pipe, or far too large to hold.
  std::string text;
  std::array<char, 64 * 1024> chunk;
  while (file.read(chunk.data(), chunk.size()) || file.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(file.gcount()));
    if (text.size() > kMaxGenesisBytes)
      return bad("genesis", "larger than " + std::to_string(kMaxGenesisBytes) + " bytes");
  }
  if (file.bad()) return bad(path, "read error");
  return parse_genesis(text);
}

std::string genesis_to_json(const GenesisState& g) {
  auto amount = [](std::int64_t units) { return quoted(state::format_decimal(units, 6)); };
  std::string out = "{\n";
  out += "  \"chainId\": " + std::to_string(g.chain_id) + ",\n";
  out += "  \"genesisTime\": " + std::to_string(g.genesis_time_ms) + ",\n";
  out += "  \"stakeToken\": " + quoted(g.stake_token) + ",\n";
  // Arrays hold one element per line: short enough to read, and a diff shows one entry changed.
  auto list = [&out](std::string_view name, std::size_t count, auto&& write) {
    out += "  \"" + std::string(name) + "\": [";
    for (std::size_t i = 0; i < count; ++i) {
      out += i == 0 ? "\n    " : ",\n    ";
      write(i);
    }
    out += count == 0 ? "]" : "\n  ]";
  };
  list("validators", g.validators.size(), [&](std::size_t i) {
    const GenesisValidator& v = g.validators[i];
    out += "{\"address\": " + quoted(state::to_checksum_address(v.address)) +
           ", \"power\": " + std::to_string(v.power) + ", \"p2p\": " + quoted(v.p2p) + "}";
  });
  out += ",\n";
  list("balances", g.balances.size(), [&](std::size_t i) {
    const GenesisBalance& b = g.balances[i];
    out += "{\"address\": " + quoted(state::to_checksum_address(b.address)) +
           ", \"usd\": " + amount(b.usd) + ", \"stake\": " + amount(b.stake) + "}";
  });
  out += ",\n";
  list("markets", g.markets.size(), [&](std::size_t i) {
    const GenesisMarket& m = g.markets[i];
    out += "{\"name\": " + quoted(m.name) + ", \"szDecimals\": " + std::to_string(m.sz_decimals) +
           ", \"maxLeverage\": " + std::to_string(m.max_leverage) +
           ", \"oraclePx\": " + amount(m.oracle_px) +
           ", \"impactNotional\": " + amount(m.impact_notional) + "}";
  });
  out += "\n}\n";
  return out;
}

}  // namespace genesis
