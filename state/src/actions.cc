// JSON codec, names and EIP-712 hashing of the typed actions, all derived from fields().
#include "state/actions.h"

#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>
#include <boost/json.hpp>
#include <cstring>

#include "action_fields.h"
#include "state/crypto.h"
#include "state/keccak.h"
#include "state/utf8.h"

namespace state {
namespace json = boost::json;
using detail::FieldPath;
using detail::FieldStruct;

namespace {
template <std::size_t... I>
constexpr auto make_type_table(std::index_sequence<I...>) {
  return std::array<std::pair<std::string_view, std::string_view>, sizeof...(I)>{
      std::pair{std::variant_alternative_t<I, Action>::kActionType,
                std::variant_alternative_t<I, Action>::kTypeName}...};
}
constexpr auto kTypeTable =
    make_type_table(std::make_index_sequence<std::variant_size_v<Action>>{});
}  // namespace

std::string_view tif_name(Tif tif) {
  switch (tif) {
    case Tif::Gtc:
      return "Gtc";
    case Tif::Ioc:
      return "Ioc";
    case Tif::Alo:
      return "Alo";
  }
  return "Gtc";
}

std::string_view tpsl_name(TpSl tpsl) {
  switch (tpsl) {
    case TpSl::None:
      return "";
    case TpSl::Tp:
      return "tp";
    case TpSl::Sl:
      return "sl";
  }
  return "";
}

Status OrderSpec::validate(const OrderSpec& order) {
  if (order.trigger_px.empty() != (order.tpsl == TpSl::None))
    return make_error(Reason::BadFieldValue, "triggerPx and tpsl must both be empty or both set");
  return Status::Ok();
}

namespace detail {

std::size_t action_index(std::string_view name) {
  for (std::size_t i = 0; i < kTypeTable.size(); ++i)
    if (kTypeTable[i].first == name) return i;
  return kTypeTable.size();
}

Status parse_text(std::string_view text, std::string& out) {
  if (text.size() > kMaxStringBytes)
    return make_error(Reason::StringTooLong,
                      "at most " + std::to_string(kMaxStringBytes) + " bytes");
  if (!is_valid_utf8(text)) return make_error(Reason::BadEncoding, "text is not valid UTF-8");
  out.assign(text);
  return Status::Ok();
}

Status parse_text(std::string_view text, Tif& out) {
  for (Tif tif : {Tif::Gtc, Tif::Ioc, Tif::Alo})
    if (text == tif_name(tif)) {
      out = tif;
      return Status::Ok();
    }
  return make_error(Reason::BadFieldValue, "tif must be Gtc, Ioc or Alo");
}

Status parse_text(std::string_view text, TpSl& out) {
  for (TpSl tpsl : {TpSl::None, TpSl::Tp, TpSl::Sl})
    if (text == tpsl_name(tpsl)) {
      out = tpsl;
      return Status::Ok();
    }
  return make_error(Reason::BadFieldValue, "tpsl must be \"\", \"tp\" or \"sl\"");
}

}  // namespace detail

namespace {

// ---- JSON decoding ----------------------------------------------------------------------------

template <class T>
Status from_json(const json::value& value, T& out, FieldPath& path);

template <detail::TextField T>
Status text_from_json(const json::value& value, T& out, FieldPath& path) {
  if (!value.is_string()) return path.error(Reason::BadFieldType, "string expected");
  Status status = detail::parse_text(value.get_string(), out);
  return status.ok() ? status : path.wrap(status.error());
}

template <detail::UnsignedField T>
Status uint_from_json(const json::value& value, T& out, FieldPath& path) {
  std::uint64_t wide = 0;
  if (value.is_uint64()) {
    wide = value.get_uint64();
  } else if (value.is_int64()) {
    if (value.get_int64() < 0) return path.error(Reason::Overflow, "must not be negative");
    wide = static_cast<std::uint64_t>(value.get_int64());
  } else if (value.is_string()) {
    // Decimal digits in a string, for values past JavaScript's 2^53.
    std::string_view text = value.get_string();
    if (text.empty() || text.size() > 20)
      return path.error(Reason::BadFieldType, "integer expected");
    unsigned __int128 acc = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return path.error(Reason::BadFieldType, "integer expected");
      acc = acc * 10 + static_cast<unsigned>(c - '0');
    }
    if (acc > std::numeric_limits<std::uint64_t>::max())
      return path.error(Reason::Overflow, "does not fit in 64 bits");
    wide = static_cast<std::uint64_t>(acc);
  } else {
    return path.error(Reason::BadFieldType, "integer expected");
  }
  if (wide > std::numeric_limits<T>::max())
    return path.error(Reason::Overflow, "above " + std::to_string(std::numeric_limits<T>::max()));
  out = static_cast<T>(wide);
  return Status::Ok();
}

template <std::size_t N>
Status bytes_from_json(const json::value& value, FixedBytes<N>& out, FieldPath& path) {
  if (!value.is_string()) return path.error(Reason::BadFieldType, "hex string expected");
  auto parsed = parse_fixed_hex<N>(value.get_string());
  if (!parsed) return path.wrap(parsed.error());
  out = *parsed;
  return Status::Ok();
}

template <FieldStruct S>
Status struct_from_json(const json::value& value, S& out, FieldPath& path,
                        std::string_view allowed_extra = {}) {
  const json::object* object = value.if_object();
  if (!object) return path.error(Reason::BadFieldType, "object expected");
  std::size_t matched = 0;
  Status status = detail::for_each_field(out, [&](std::string_view name, auto& member) -> Status {
    const json::value* field_value = object->if_contains(name);
    path.push(name);
    Status field_status = field_value ? from_json(*field_value, member, path)
                                      : path.error(Reason::MissingField, "missing");
    path.pop();
    matched += field_value != nullptr;
    return field_status;
  });
  if (!status) return status;
  std::size_t extra = !allowed_extra.empty() && object->contains(allowed_extra);
  if (matched + extra != object->size()) {
    for (const auto& entry : *object) {
      std::string_view key = entry.key();
      bool known = key == allowed_extra && !key.empty();
      detail::visit_fields(out,
                           [&](std::string_view name, auto&) { known = known || name == key; });
      if (!known)
        return path.error(Reason::UnknownField, "unknown field \"" + std::string(key) + "\"");
    }
  }
  Status valid = detail::validate_struct(out);
  return valid.ok() ? valid : path.wrap(valid.error());
}

template <class T>
Status from_json(const json::value& value, T& out, FieldPath& path) {
  if constexpr (FieldStruct<T>) {
    return struct_from_json(value, out, path);
  } else if constexpr (detail::IsList<T>::value) {
    const json::array* array = value.if_array();
    if (!array) return path.error(Reason::BadFieldType, "array expected");
    if (array->size() > T::kMax)
      return path.error(Reason::TooManyItems, "at most " + std::to_string(T::kMax) + " items");
    out.items.resize(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
      path.push_index(i);
      Status status = from_json((*array)[i], out.items[i], path);
      path.pop();
      if (!status) return status;
    }
    return Status::Ok();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_bool()) return path.error(Reason::BadFieldType, "true or false expected");
    out = value.get_bool();
    return Status::Ok();
  } else if constexpr (detail::UnsignedField<T>) {
    return uint_from_json(value, out, path);
  } else if constexpr (std::is_same_v<T, Address> || std::is_same_v<T, Bytes16>) {
    return bytes_from_json(value, out, path);
  } else {
    return text_from_json(value, out, path);
  }
}

// ---- JSON encoding ----------------------------------------------------------------------------

template <class T>
json::value to_json(const T& value) {
  if constexpr (FieldStruct<T>) {
    json::object object;
    detail::visit_fields(value, [&](std::string_view name, const auto& member) {
      object.emplace(name, to_json(member));
    });
    return object;
  } else if constexpr (detail::IsList<T>::value) {
    json::array array;
    array.reserve(value.items.size());
    for (const auto& item : value.items) array.push_back(to_json(item));
    return array;
  } else if constexpr (std::is_same_v<T, bool>) {
    return json::value(value);
  } else if constexpr (detail::UnsignedField<T>) {
    return json::value(static_cast<std::uint64_t>(value));
  } else if constexpr (std::is_same_v<T, Address>) {
    return json::value(to_checksum_address(value));
  } else if constexpr (std::is_same_v<T, Bytes16>) {
    return json::value(to_hex(value));
  } else {
    return json::value(detail::text_of(value));
  }
}

// ---- EIP-712 ----------------------------------------------------------------------------------

template <class T>
void add_types(Eip712Types& types) {
  if constexpr (detail::IsList<T>::value) {
    add_types<typename T::value_type>(types);
  } else if constexpr (FieldStruct<T>) {
    if (types.contains(T::kTypeName)) return;
    auto& members = types[std::string(T::kTypeName)];
    T probe{};
    detail::visit_fields(probe, [&](std::string_view name, const auto& member) {
      using M = std::remove_cvref_t<decltype(member)>;
      members.push_back({std::string(name), detail::eip712_type_name<M>()});
      add_types<M>(types);
    });
    if constexpr (requires { T::kActionType; }) members.push_back({"nonce", "uint64"});
  }
}

template <FieldStruct S>
const Hash256& type_hash() {
  static const Hash256 hash = [] {
    Eip712Types types;
    add_types<S>(types);
    return keccak256(*encode_type(types, S::kTypeName));
  }();
  return hash;
}

// keccak256 of a short text field (market, price, size), remembered per thread: order flow
// repeats the same few markets and prices near the touch, and a hit costs a probe instead of a
// Keccak-f permutation (about 0.35 us, two or three per order). A pure function's memo, so it
// cannot change a result; a slot is simply overwritten on collision.
Hash256 keccak_of_text(std::string_view text) {
  struct Slot {
    std::uint8_t size = 0xff;  // no text is this long: the slot is empty
    std::array<char, 31> text;
    Hash256 hash;
  };
  constexpr std::size_t kSlots = 512;
  if (text.size() > 31) return keccak256(text);
  thread_local std::array<Slot, kSlots> memo;
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : text) h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ULL;
  Slot& slot = memo[(h ^ (h >> 29)) % kSlots];
  if (slot.size == text.size() && std::memcmp(slot.text.data(), text.data(), text.size()) == 0)
    return slot.hash;
  slot.hash = keccak256(text);
  slot.size = static_cast<std::uint8_t>(text.size());
  std::memcpy(slot.text.data(), text.data(), text.size());
  return slot.hash;
}

// The 32-byte word of a scalar field (structs and lists are hashed by StructHashPlan).
template <class T>
Word eip712_word(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return word_from_bool(value);
  } else if constexpr (detail::UnsignedField<T>) {
    return word_from_u64(value);
  } else if constexpr (std::is_same_v<T, Address>) {
    return word_from_address(value);
  } else if constexpr (std::is_same_v<T, Bytes16>) {
    return word_from_fixed_bytes(value.bytes);
  } else if constexpr (std::is_same_v<T, Tif> || std::is_same_v<T, TpSl>) {
    // A handful of fixed texts: hash each once, not once per order.
    static const auto table = [] {
      std::array<Hash256, 3> hashes;
      for (std::size_t i = 0; i < hashes.size(); ++i)
        hashes[i] = keccak256(detail::text_of(static_cast<T>(i)));
      return hashes;
    }();
    return table[static_cast<std::size_t>(value)];
  } else {
    static const Hash256 empty_hash = keccak256(std::string_view());
    std::string_view text = detail::text_of(value);
    return text.empty() ? empty_hash : keccak_of_text(text);
  }
}

// EIP-712 struct hashes of one action or many. Each struct or list to hash becomes a node:
// its message with a 32-byte hole where each nested struct's or list's hash goes. Nodes are
// hashed by height (leaves first) with keccak256_many, each hash written into its parent's hole,
// so one level of every action in the batch shares permutations. Messages are built on the stack
// and kept in one buffer: a batch allocates a few times, not per node.
class StructHashPlan {
 public:
  explicit StructHashPlan(std::size_t roots) {
    nodes_.reserve(roots * 3);
    bytes_.reserve(roots * 512);
  }

  // The root's hash comes out of run() at the position of this call among add_root calls.
  template <FieldStruct S>
  void add_root(const S& value, std::uint64_t nonce) {
    add_struct(value, &nonce, kNoParent, roots_++);
  }

  std::vector<Hash256> run() {
    // Children come after their parents, so one backward pass settles every height.
    std::size_t max_height = 0;
    for (std::size_t i = nodes_.size(); i-- > 0;) {
      const Node& node = nodes_[i];
      max_height = std::max(max_height, node.height);
      if (node.parent != kNoParent)
        nodes_[node.parent].height = std::max(nodes_[node.parent].height, node.height + 1);
    }
    std::vector<Hash256> roots(roots_);
    boost::container::small_vector<std::size_t, 8> level;
    boost::container::small_vector<std::span<const std::uint8_t>, 8> messages;
    boost::container::small_vector<Hash256, 8> hashes;
    for (std::size_t height = 0; height <= max_height; ++height) {
      level.clear();
      messages.clear();
      for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].height == height) {
          level.push_back(i);
          messages.emplace_back(bytes_.data() + nodes_[i].begin, nodes_[i].size);
        }
      hashes.resize(level.size());
      keccak256_many(messages, hashes);
      for (std::size_t k = 0; k < level.size(); ++k) {
        const Node& node = nodes_[level[k]];
        if (node.parent == kNoParent)
          roots[node.offset] = hashes[k];
        else
          std::memcpy(bytes_.data() + nodes_[node.parent].begin + node.offset, hashes[k].data(),
                      32);
      }
    }
    return roots;
  }

 private:
  static constexpr std::size_t kNoParent = SIZE_MAX;
  using Message = boost::container::small_vector<std::uint8_t, 384>;
  struct Node {
    std::size_t parent;
    std::size_t offset;  // of this node's hash in the parent's message; a root's ordinal
    std::size_t begin = 0, size = 0;  // the message in bytes_, once complete
    std::size_t height = 0;
  };

  // Nodes are named by index: nodes_ grows while a parent's message is still being built.
  std::size_t add_node(std::size_t parent, std::size_t offset) {
    nodes_.push_back({parent, offset});
    return nodes_.size() - 1;
  }
  void complete(std::size_t node, const Message& message) {
    nodes_[node].begin = bytes_.size();
    nodes_[node].size = message.size();
    bytes_.insert(bytes_.end(), message.begin(), message.end());
  }
  static void append(Message& message, const Word& word) {
    message.insert(message.end(), word.bytes.begin(), word.bytes.end());
  }
  static std::size_t hole(Message& message) {
    const std::size_t offset = message.size();
    message.resize(offset + 32);
    return offset;
  }

  template <FieldStruct S>
  void add_struct(const S& value, const std::uint64_t* nonce, std::size_t parent,
                  std::size_t offset) {
    const std::size_t node = add_node(parent, offset);
    Message message;
    append(message, type_hash<S>());
    detail::visit_fields(
        value, [&](std::string_view, const auto& member) { add_word(node, message, member); });
    if (nonce) append(message, word_from_u64(*nonce));
    complete(node, message);
  }

  template <class T>
  void add_word(std::size_t node, Message& message, const T& value) {
    if constexpr (FieldStruct<T>) {
      add_struct(value, nullptr, node, hole(message));
    } else if constexpr (detail::IsList<T>::value) {
      const std::size_t list = add_node(node, hole(message));
      Message items;
      for (const auto& item : value.items) add_word(list, items, item);
      complete(list, items);
    } else {
      append(message, eip712_word(value));
    }
  }

  // One action is a handful of nodes and under a kilobyte: it allocates nothing here.
  boost::container::small_vector<Node, 4> nodes_;
  boost::container::small_vector<std::uint8_t, 1024> bytes_;  // every node's message in turn
  std::size_t roots_ = 0;
};

}  // namespace

std::string_view action_type(const Action& action) {
  return kTypeTable[action.index()].first;
}
std::string_view primary_type(const Action& action) {
  return kTypeTable[action.index()].second;
}

std::vector<std::pair<std::string_view, std::string_view>> action_type_names() {
  return {kTypeTable.begin(), kTypeTable.end()};
}

Result<Action> action_from_json(const json::value& value) {
  const json::object* object = value.if_object();
  if (!object) return make_error(Reason::BadFieldType, "action must be an object");
  const json::value* type = object->if_contains("type");
  if (!type) return make_error(Reason::MissingField, "type: missing");
  if (!type->is_string()) return make_error(Reason::BadFieldType, "type: string expected");
  std::string_view name = type->get_string();
  std::size_t index = detail::action_index(name);
  if (index == std::variant_size_v<Action>)
    return make_error(Reason::UnknownActionType,
                      "unknown action type \"" + std::string(name) + "\"");
  return detail::with_action_alternative(
      index, [&]<class A>(std::type_identity<A>) -> Result<Action> {
        A typed;
        FieldPath path;
        Status status = struct_from_json(value, typed, path, "type");
        if (!status) return status.error();
        return Action(std::move(typed));
      });
}

json::object action_to_json(const Action& action) {
  json::object out;
  out.emplace("type", action_type(action));
  std::visit(
      [&](const auto& typed) {
        json::value fields = to_json(typed);
        for (auto& entry : fields.get_object()) out.emplace(entry.key(), std::move(entry.value()));
      },
      action);
  return out;
}

const Eip712Types& action_eip712_types() {
  static const Eip712Types types = [] {
    Eip712Types all{{"EIP712Domain", perpd_domain_members()}};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (add_types<std::variant_alternative_t<I, Action>>(all), ...);
    }
    (std::make_index_sequence<std::variant_size_v<Action>>{});
    return all;
  }();
  return types;
}

Hash256 action_struct_hash(const Action& action, std::uint64_t nonce) {
  const Action* one = &action;
  return action_struct_hashes({&one, 1}, {&nonce, 1})[0];
}

std::vector<Hash256> action_struct_hashes(std::span<const Action* const> actions,
                                          std::span<const std::uint64_t> nonces) {
  StructHashPlan plan(actions.size());
  for (std::size_t i = 0; i < actions.size() && i < nonces.size(); ++i)
    std::visit([&](const auto& typed) { plan.add_root(typed, nonces[i]); }, *actions[i]);
  return plan.run();
}

}  // namespace state
