// read_plain_envelope: an envelope from JSON text in one pass, without a JSON tree. Every value
// goes through the same text rules as envelope_from_json (detail::parse_text, parse_fixed_hex,
// parse_signature_hex, validate_struct); what this reader does not take the same way, it leaves
// to that path by answering nothing.
#include <array>
#include <bitset>
#include <limits>
#include <tuple>

#include "action_fields.h"
#include "state/envelope.h"
#include "state/plain_json.h"

namespace state {
namespace {

using detail::FieldStruct;

template <class T>
bool read_value(PlainJsonReader& in, T& out);

template <FieldStruct S>
constexpr std::size_t kFieldCount = std::tuple_size_v<decltype(S::fields())>;

template <FieldStruct S>
constexpr auto kFieldNames = std::apply(
    [](auto... spec) { return std::array<std::string_view, sizeof...(spec)>{spec.name...}; },
    S::fields());

// Reads each member of S by its field name: each field once, no other member. The caller
// checks that every field came (seen.all()) and the struct's own rules. Clients write the fields
// in their declared order, so the one after the last is tried first.
template <FieldStruct S>
auto field_reader(PlainJsonReader& in, S& out, std::bitset<kFieldCount<S>>& seen) {
  return [&in, &out, &seen, next = std::size_t{0}](std::string_view key) mutable {
    constexpr auto& names = kFieldNames<S>;
    std::size_t found = next < names.size() && names[next] == key ? next : names.size();
    for (std::size_t i = 0; found == names.size() && i < names.size(); ++i)
      if (names[i] == key) found = i;
    if (found == names.size() || seen[found]) return false;
    seen[found] = true;
    next = found + 1;
    bool ok = false;
    std::size_t index = 0;
    detail::visit_fields(out, [&](std::string_view, auto& member) {
      if (index++ == found) ok = read_value(in, member);
    });
    return ok;
  };
}

template <FieldStruct S>
bool complete(const S& out, const std::bitset<kFieldCount<S>>& seen) {
  return seen.all() && detail::validate_struct(out).ok();
}

template <class T>
bool read_value(PlainJsonReader& in, T& out) {
  if constexpr (FieldStruct<T>) {
    std::bitset<kFieldCount<T>> seen;
    return in.expect('{') && in.members(field_reader(in, out, seen)) &&
           (complete(out, seen) || in.fail());
  } else if constexpr (detail::IsList<T>::value) {
    if (!in.expect('[')) return false;
    out.items.clear();
    if (in.take(']')) return true;
    do {
      if (out.items.size() == T::kMax) return in.fail();  // TooManyItems: the full path names it
      if (!read_value(in, out.items.emplace_back())) return false;
    } while (in.take(','));
    return in.expect(']');
  } else if constexpr (std::is_same_v<T, bool>) {
    const auto value = in.boolean();
    if (value) out = *value;
    return value.has_value();
  } else if constexpr (detail::UnsignedField<T>) {
    // A uint64 may also come as a string of digits; that form is the full path's.
    const auto value = in.integer();
    if (!value || value->negative || value->magnitude > std::numeric_limits<T>::max())
      return in.fail();
    out = static_cast<T>(value->magnitude);
    return true;
  } else if constexpr (std::is_same_v<T, Address> || std::is_same_v<T, Bytes16>) {
    const auto text = in.string();
    if (!text) return false;
    auto parsed = parse_fixed_hex<T{}.size()>(*text);
    if (!parsed) return in.fail();
    out = *parsed;
    return true;
  } else {
    const auto text = in.string();
    return text && (detail::parse_text(*text, out).ok() || in.fail());
  }
}

// {"type": "<type>", fields...}: the type must come first, so the fields can be read straight
// into their struct.
bool read_action(PlainJsonReader& in, Action& out) {
  if (!in.expect('{')) return false;
  const auto key = in.string();
  if (!key || *key != "type" || !in.expect(':')) return in.fail();
  const auto type = in.string();
  if (!type) return false;
  const std::size_t index = detail::action_index(*type);
  if (index == std::variant_size_v<Action>) return in.fail();
  return detail::with_action_alternative(index, [&]<class A>(std::type_identity<A>) {
    A typed;
    std::bitset<kFieldCount<A>> seen;
    if (!in.more_members(field_reader(in, typed, seen)) || !complete(typed, seen)) return in.fail();
    out = std::move(typed);
    return true;
  });
}

}  // namespace

std::optional<SignedAction> read_plain_envelope(std::string_view text) {
  PlainJsonReader in(text);
  auto envelope = read_plain_envelope(in);
  if (!envelope || !in.at_end()) return std::nullopt;
  return envelope;
}

std::optional<SignedAction> read_plain_envelope(PlainJsonReader& in) {
  SignedAction out;
  bool action = false, nonce = false, signature = false;
  const bool read = in.expect('{') && in.members([&](std::string_view key) {
    if (key == "action") {
      if (action) return false;
      action = true;
      return read_action(in, out.action);
    }
    if (key == "nonce") {
      if (nonce) return false;
      nonce = true;
      const auto value = in.integer();
      if (!value || value->negative) return false;
      out.nonce = value->magnitude;
      return true;
    }
    if (key == "signature") {
      if (signature) return false;
      signature = true;
      const auto value = in.string();
      if (!value) return false;
      auto parsed = parse_signature_hex(*value);
      if (!parsed) return false;
      out.signature = *parsed;
      return true;
    }
    return false;
  });
  if (!read || !action || !nonce || !signature) {
    in.fail();
    return std::nullopt;
  }
  return out;
}

}  // namespace state
