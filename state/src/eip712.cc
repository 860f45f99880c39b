#include "state/eip712.h"

#include <bit>
#include <boost/json.hpp>
#include <charconv>
#include <cstring>
#include <set>

#include "state/crypto.h"

namespace state {
namespace json = boost::json;
namespace {

Error bad(std::string message) {
  return make_error(Reason::BadEip712, std::move(message));
}

// A 256-bit big-endian integer being built from text, for uintN/intN values.
struct Uint256 {
  std::uint8_t be[32] = {};

  // this = this * mul + add; false when the result needs more than 256 bits.
  bool mul_add(unsigned mul, unsigned add) {
    unsigned carry = add;
    for (int i = 31; i >= 0; --i) {
      unsigned v = be[i] * mul + carry;
      be[i] = static_cast<std::uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    return carry == 0;
  }
  // Number of significant bits.
  unsigned bit_length() const {
    for (int i = 0; i < 32; ++i)
      if (be[i]) return static_cast<unsigned>((31 - i) * 8 + std::bit_width(be[i]));
    return 0;
  }
  void negate() {  // two's complement
    for (auto& b : be) b = static_cast<std::uint8_t>(~b);
    mul_add(1, 1);
  }
};

Result<Uint256> parse_uint256_text(std::string_view text) {
  Uint256 out;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    for (char c : text.substr(2)) {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return bad("bad hex integer");
      if (!out.mul_add(16, static_cast<unsigned>(d))) return bad("integer above 256 bits");
    }
    return out;
  }
  if (text.empty()) return bad("empty integer");
  for (char c : text) {
    if (c < '0' || c > '9') return bad("bad decimal integer");
    if (!out.mul_add(10, static_cast<unsigned>(c - '0'))) return bad("integer above 256 bits");
  }
  return out;
}

// uintN / intN value: JSON integer, or a decimal / 0x-hex string (ethers' BigNumberish).
Result<Word> encode_integer(const json::value& value, bool is_signed, unsigned bits) {
  bool negative = false;
  Uint256 magnitude;
  if (value.is_uint64() || value.is_int64()) {
    std::uint64_t m;
    if (value.is_int64() && value.get_int64() < 0) {
      negative = true;
      m = 0 - static_cast<std::uint64_t>(value.get_int64());
    } else {
      m = value.is_uint64() ? value.get_uint64() : static_cast<std::uint64_t>(value.get_int64());
    }
    for (int i = 0; i < 8; ++i) magnitude.be[31 - i] = static_cast<std::uint8_t>(m >> (8 * i));
  } else if (value.is_string()) {
    std::string_view text = value.get_string();
    if (!text.empty() && text.front() == '-') {
      negative = true;
      text.remove_prefix(1);
    }
    auto parsed = parse_uint256_text(text);
    if (!parsed) return parsed.error();
    magnitude = *parsed;
  } else {
    return bad("integer must be a JSON integer or a string");
  }
  unsigned len = magnitude.bit_length();
  if (!is_signed) {
    if (negative && len > 0) return bad("negative value for unsigned integer");
    if (len > bits) return bad("value out of range for uint" + std::to_string(bits));
  } else {
    // Range [-2^(bits-1), 2^(bits-1) - 1]: a negative magnitude may be exactly 2^(bits-1).
    unsigned ones = 0;
    for (auto b : magnitude.be) ones += static_cast<unsigned>(std::popcount(b));
    bool fits = negative ? (len < bits || (len == bits && ones == 1)) : len < bits;
    if (!fits) return bad("value out of range for int" + std::to_string(bits));
    if (negative) magnitude.negate();
  }
  Word word;
  std::memcpy(word.data(), magnitude.be, 32);
  return word;
}

// "uint64" -> {false, 64}; "int" forms have no bare alias in EIP-712's strict form but ethers
// accepts "uint"/"int" as 256.
bool parse_int_type(std::string_view type, bool& is_signed, unsigned& bits) {
  is_signed = type.starts_with("int");
  if (!is_signed && !type.starts_with("uint")) return false;
  std::string_view digits = type.substr(is_signed ? 3 : 4);
  if (digits.empty()) {
    bits = 256;
    return true;
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  return ec == std::errc() && ptr == digits.data() + digits.size() && bits % 8 == 0 && bits >= 8 &&
         bits <= 256;
}

void collect_dependencies(const Eip712Types& types, std::string_view type,
                          std::set<std::string, std::less<>>& found) {
  std::string_view base = type.substr(0, type.find('['));
  if (found.contains(base)) return;
  auto it = types.find(base);
  if (it == types.end()) return;  // atomic type, or unknown (reported by the encoder)
  found.insert(std::string(base));
  for (const auto& member : it->second) {
    std::string_view member_base = std::string_view(member.type).substr(0, member.type.find('['));
    collect_dependencies(types, member_base, found);
  }
}

Result<Word> encode_value(const Eip712Types& types, std::string_view type, const json::value& value,
                          int depth);

Result<Hash256> hash_struct_at(const Eip712Types& types, std::string_view primary,
                               const json::value& message, int depth) {
  if (depth > 32) return bad("types nested too deep");
  auto it = types.find(primary);
  if (it == types.end()) return bad("unknown struct type " + std::string(primary));
  if (!message.is_object()) return bad(std::string(primary) + " value must be an object");
  auto type_string = encode_type(types, primary);
  if (!type_string) return type_string.error();
  Keccak256 hasher;
  hasher.update(keccak256(*type_string).bytes);
  const auto& object = message.get_object();
  for (const auto& member : it->second) {
    auto found = object.find(member.name);
    if (found == object.end()) return bad("missing member " + member.name + " of " + it->first);
    auto word = encode_value(types, member.type, found->value(), depth + 1);
    if (!word) return make_error(Reason::BadEip712, member.name + ": " + word.error().message);
    hasher.update(word->bytes);
  }
  return hasher.finish();
}

Result<Word> encode_value(const Eip712Types& types, std::string_view type, const json::value& value,
                          int depth) {
  if (type.ends_with(']')) {
    auto open = type.rfind('[');
    if (open == std::string_view::npos) return bad("bad array type");
    std::string_view element = type.substr(0, open);
    std::string_view length = type.substr(open + 1, type.size() - open - 2);
    if (!value.is_array()) return bad("array value expected");
    const auto& array = value.get_array();
    if (!length.empty()) {
      std::size_t expected = 0;
      auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), expected);
      if (ec != std::errc() || ptr != length.data() + length.size()) return bad("bad array length");
      if (array.size() != expected) return bad("fixed array of wrong length");
    }
    Keccak256 hasher;
    for (const auto& item : array) {
      auto word = encode_value(types, element, item, depth + 1);
      if (!word) return word.error();
      hasher.update(word->bytes);
    }
    return hasher.finish();
  }
  if (types.contains(type)) return hash_struct_at(types, type, value, depth + 1);
  if (type == "string") {
    if (!value.is_string()) return bad("string value expected");
    return keccak256(std::string_view(value.get_string()));
  }
  if (type == "bool") {
    if (!value.is_bool()) return bad("bool value expected");
    return word_from_bool(value.get_bool());
  }
  if (type == "address") {
    if (!value.is_string()) return bad("address value expected");
    auto address = parse_address(value.get_string());
    if (!address) return bad(address.error().message);
    return word_from_address(*address);
  }
  if (type.starts_with("bytes")) {
    if (!value.is_string()) return bad("hex string expected for " + std::string(type));
    auto bytes = parse_hex(value.get_string());
    if (!bytes) return bad(bytes.error().message);
    if (type == "bytes") return keccak256(*bytes);
    unsigned n = 0;
    std::string_view digits = type.substr(5);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || n < 1 || n > 32)
      return bad("unknown type " + std::string(type));
    if (bytes->size() != n)
      return bad(std::string(type) + " needs exactly " + std::to_string(n) + " bytes");
    return word_from_fixed_bytes(*bytes);
  }
  bool is_signed = false;
  unsigned bits = 0;
  if (parse_int_type(type, is_signed, bits)) return encode_integer(value, is_signed, bits);
  return bad("unknown type " + std::string(type));
}

}  // namespace

Word word_from_u64(std::uint64_t value) {
  Word word;
  for (int i = 0; i < 8; ++i) word.bytes[31 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  return word;
}

Word word_from_bool(bool value) {
  return word_from_u64(value ? 1 : 0);
}

Word word_from_address(const Address& address) {
  Word word;
  std::memcpy(word.data() + 12, address.data(), 20);
  return word;
}

Word word_from_fixed_bytes(std::span<const std::uint8_t> bytes) {
  Word word;
  std::memcpy(word.data(), bytes.data(), std::min<std::size_t>(bytes.size(), 32));
  return word;
}

Result<std::string> encode_type(const Eip712Types& types, std::string_view primary) {
  std::set<std::string, std::less<>> deps;
  collect_dependencies(types, primary, deps);
  if (!deps.contains(primary)) return bad("unknown struct type " + std::string(primary));
  auto format = [&](const std::string& name) {
    std::string out = name + "(";
    const auto& members = types.find(name)->second;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i) out += ',';
      out += members[i].type + " " + members[i].name;
    }
    return out + ")";
  };
  std::string out = format(std::string(primary));
  for (const auto& dep : deps)
    if (dep != primary) out += format(dep);
  return out;
}

Result<Hash256> hash_struct(const Eip712Types& types, std::string_view primary,
                            const json::value& message) {
  return hash_struct_at(types, primary, message, 0);
}

std::array<std::uint8_t, 66> typed_data_digest_input(const Hash256& domain_separator,
                                                     const Hash256& struct_hash) {
  std::array<std::uint8_t, 66> input{0x19, 0x01};
  std::memcpy(input.data() + 2, domain_separator.data(), 32);
  std::memcpy(input.data() + 34, struct_hash.data(), 32);
  return input;
}

Hash256 typed_data_digest(const Hash256& domain_separator, const Hash256& struct_hash) {
  return keccak256(typed_data_digest_input(domain_separator, struct_hash));
}

Result<Hash256> typed_data_digest(const json::value& typed_data) {
  if (!typed_data.is_object()) return bad("typed data must be an object");
  const auto& obj = typed_data.get_object();
  const auto* types_value = obj.if_contains("types");
  const auto* primary = obj.if_contains("primaryType");
  const auto* domain = obj.if_contains("domain");
  const auto* message = obj.if_contains("message");
  if (!types_value || !types_value->is_object() || !primary || !primary->is_string() || !domain ||
      !message)
    return bad("typed data needs types, primaryType, domain and message");
  Eip712Types types;
  for (const auto& [name, members] : types_value->get_object()) {
    if (!members.is_array()) return bad("type members must be an array");
    auto& list = types[std::string(name)];
    for (const auto& m : members.get_array()) {
      const auto* mo = m.if_object();
      if (!mo || !mo->contains("name") || !mo->contains("type") || !mo->at("name").is_string() ||
          !mo->at("type").is_string())
        return bad("member needs name and type strings");
      list.push_back(
          {std::string(mo->at("name").get_string()), std::string(mo->at("type").get_string())});
    }
  }
  auto domain_hash = hash_struct(types, "EIP712Domain", *domain);
  if (!domain_hash) return domain_hash.error();
  auto message_hash = hash_struct(types, primary->get_string(), *message);
  if (!message_hash) return message_hash.error();
  return typed_data_digest(*domain_hash, *message_hash);
}

std::vector<Eip712Member> perpd_domain_members() {
  return {{"name", "string"}, {"version", "string"}, {"chainId", "uint256"}};
}

Hash256 perpd_domain_separator(std::uint64_t chain_id) {
  Eip712Types types{{"EIP712Domain", perpd_domain_members()}};
  std::string type = *encode_type(types, "EIP712Domain");
  Keccak256 hasher;
  hasher.update(keccak256(type).bytes);
  hasher.update(keccak256(kDomainName).bytes);
  hasher.update(keccak256(kDomainVersion).bytes);
  hasher.update(word_from_u64(chain_id).bytes);
  return hasher.finish();
}

}  // namespace state
