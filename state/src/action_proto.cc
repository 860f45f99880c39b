// Protobuf binary codec of envelopes, matched to the typed structs by field name through
// Protobuf descriptors, so adding a field to fields() and to actions.proto is the whole change.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <utility>

#include "action_fields.h"
#include "state/actions.pb.h"
#include "state/envelope.h"

namespace state {
namespace pb = google::protobuf;
using detail::FieldPath;
using detail::FieldStruct;

namespace {

const pb::FieldDescriptor* field_of(const pb::Descriptor* descriptor, std::string_view name) {
  // Field names come from the fields() lists and kActionType (static storage: callers must not
  // pass anything else), so (descriptor, name pointer) identifies a lookup; caching it per thread
  // spares the descriptor's name table on every field of every envelope the mempool encodes.
  // determinism: looked up only, never iterated.
  using Key = std::pair<const pb::Descriptor*, const char*>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<const void*>{}(k.first) * 31 + std::hash<const void*>{}(k.second);
    }
  };
  thread_local std::unordered_map<Key, const pb::FieldDescriptor*, KeyHash> cache;
  const Key key{descriptor, name.data()};
  if (auto hit = cache.find(key); hit != cache.end()) return hit->second;
  const pb::FieldDescriptor* fd = descriptor->FindFieldByName(std::string(name));
  if (!fd) {
    // actions.proto and fields() disagree: a build defect the round-trip tests catch.
    std::fprintf(stderr, "actions.proto: %s has no field %.*s\n", descriptor->full_name().c_str(),
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  cache.emplace(key, fd);
  return fd;
}

// ---- encoding ---------------------------------------------------------------------------------
// Written straight in the wire format (what SerializeToString of the generated message emits:
// fields in number order, which fields() follows, proto3 defaults left out, sub-messages always
// present): building the message through reflection and serializing it cost ~2 us per envelope.

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, const pb::FieldDescriptor* fd, int wire_type) {
  put_varint(out, static_cast<std::uint64_t>(fd->number()) << 3 | static_cast<unsigned>(wire_type));
}

constexpr int kVarint = 0, kLengthDelimited = 2;

void put_bytes(std::string& out, const pb::FieldDescriptor* fd, std::string_view bytes) {
  if (bytes.empty()) return;
  put_tag(out, fd, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

template <FieldStruct S>
void struct_to_wire(const S& value, const pb::Descriptor* descriptor, std::string& out);

// A sub-message: its length goes before it, known only once it is written, so the bytes are
// written in place and the length varint is slid in front of them.
template <FieldStruct S>
void message_to_wire(const S& value, const pb::FieldDescriptor* fd, std::string& out) {
  put_tag(out, fd, kLengthDelimited);
  const std::size_t start = out.size();
  struct_to_wire(value, fd->message_type(), out);
  std::string length;
  put_varint(length, out.size() - start);
  out.insert(start, length);
}

template <class T>
void field_to_wire(const T& value, const pb::FieldDescriptor* fd, std::string& out) {
  if constexpr (FieldStruct<T>) {
    message_to_wire(value, fd, out);
  } else if constexpr (detail::IsList<T>::value) {
    for (const auto& item : value.items) message_to_wire(item, fd, out);
  } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::uint64_t> ||
                       detail::UnsignedField<T>) {
    if (value == 0) return;
    put_tag(out, fd, kVarint);
    put_varint(out, static_cast<std::uint64_t>(value));
  } else if constexpr (std::is_same_v<T, Address> || std::is_same_v<T, Bytes16>) {
    put_bytes(out, fd,
              std::string_view(reinterpret_cast<const char*>(value.bytes.data()), value.size()));
  } else {
    put_bytes(out, fd, detail::text_of(value));
  }
}

template <FieldStruct S>
void struct_to_wire(const S& value, const pb::Descriptor* descriptor, std::string& out) {
  detail::visit_fields(value, [&](std::string_view name, const auto& member) {
    field_to_wire(member, field_of(descriptor, name), out);
  });
}

// ---- decoding ---------------------------------------------------------------------------------

template <FieldStruct S>
Status struct_from_proto(const pb::Message& message, S& out, FieldPath& path);

template <class T>
Status field_from_proto(const pb::Message& message, const pb::FieldDescriptor* fd, T& out,
                        FieldPath& path) {
  const pb::Reflection* refl = message.GetReflection();
  if constexpr (FieldStruct<T>) {
    return struct_from_proto(refl->GetMessage(message, fd), out, path);
  } else if constexpr (detail::IsList<T>::value) {
    int size = refl->FieldSize(message, fd);
    if (static_cast<std::size_t>(size) > T::kMax)
      return path.error(Reason::TooManyItems, "at most " + std::to_string(T::kMax) + " items");
    out.items.resize(static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) {
      path.push_index(static_cast<std::size_t>(i));
      Status status = struct_from_proto(refl->GetRepeatedMessage(message, fd, i),
                                        out.items[static_cast<std::size_t>(i)], path);
      path.pop();
      if (!status) return status;
    }
    return Status::Ok();
  } else if constexpr (std::is_same_v<T, bool>) {
    out = refl->GetBool(message, fd);
    return Status::Ok();
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    out = refl->GetUInt64(message, fd);
    return Status::Ok();
  } else if constexpr (detail::UnsignedField<T>) {
    std::uint32_t wide = refl->GetUInt32(message, fd);
    if (wide > std::numeric_limits<T>::max()) return path.error(Reason::Overflow, "out of range");
    out = static_cast<T>(wide);
    return Status::Ok();
  } else if constexpr (std::is_same_v<T, Address> || std::is_same_v<T, Bytes16>) {
    std::string bytes = refl->GetString(message, fd);
    if (bytes.size() != T::size())
      return path.error(Reason::BadEncoding, "expected " + std::to_string(T::size()) + " bytes");
    std::memcpy(out.data(), bytes.data(), T::size());
    return Status::Ok();
  } else {
    Status status = detail::parse_text(refl->GetString(message, fd), out);
    return status.ok() ? status : path.wrap(status.error());
  }
}

template <FieldStruct S>
Status struct_from_proto(const pb::Message& message, S& out, FieldPath& path) {
  PERPD_TRY(detail::for_each_field(out, [&](std::string_view name, auto& member) -> Status {
    path.push(name);
    Status status =
        field_from_proto(message, field_of(message.GetDescriptor(), name), member, path);
    path.pop();
    return status;
  }));
  Status valid = detail::validate_struct(out);
  return valid.ok() ? valid : path.wrap(valid.error());
}

}  // namespace

std::string encode_envelope_binary(const SignedAction& envelope) {
  const pb::Descriptor* descriptor = perpd::wire::Envelope::descriptor();
  std::string out;
  out.reserve(256);
  std::visit(
      [&](const auto& typed) {
        message_to_wire(typed, field_of(descriptor, action_type(envelope.action)), out);
      },
      envelope.action);
  if (envelope.nonce != 0) {
    put_tag(out, field_of(descriptor, "nonce"), kVarint);
    put_varint(out, envelope.nonce);
  }
  const auto signature = envelope.signature.to_bytes();
  put_bytes(out, field_of(descriptor, "signature"),
            std::string_view(reinterpret_cast<const char*>(signature.bytes.data()),
                             signature.bytes.size()));
  return out;
}

Result<SignedAction> decode_envelope_binary(std::string_view bytes) {
  if (bytes.size() > kMaxEnvelopeBytes)
    return make_error(Reason::EnvelopeTooLarge, "binary envelope too large");
  perpd::wire::Envelope message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return make_error(Reason::BadEncoding, "not a binary envelope");
  const pb::OneofDescriptor* oneof = message.GetDescriptor()->FindOneofByName("action");
  const pb::FieldDescriptor* set = message.GetReflection()->GetOneofFieldDescriptor(message, oneof);
  if (!set) return make_error(Reason::BadEncoding, "envelope holds no action");
  std::size_t index = detail::action_index(set->name());
  if (index == std::variant_size_v<Action>)
    return make_error(Reason::UnknownActionType, "unknown action " + set->name());

  const std::string& raw_signature = message.signature();
  auto signature = parse_signature(
      {reinterpret_cast<const std::uint8_t*>(raw_signature.data()), raw_signature.size()});
  if (!signature) return signature.error();

  return detail::with_action_alternative(
      index, [&]<class A>(std::type_identity<A>) -> Result<SignedAction> {
        A typed;
        FieldPath path;
        Status status =
            struct_from_proto(message.GetReflection()->GetMessage(message, set), typed, path);
        if (!status) return status.error();
        return SignedAction{Action(std::move(typed)), message.nonce(), *signature};
      });
}

}  // namespace state
