// Protobuf binary codec of envelopes, matched to the typed structs by field name through
// Protobuf reflection, so adding a field to fields() and to actions.proto is the whole change.
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

const pb::FieldDescriptor* field_of(const pb::Message& message, std::string_view name) {
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
  const Key key{message.GetDescriptor(), name.data()};
  if (auto hit = cache.find(key); hit != cache.end()) return hit->second;
  const pb::FieldDescriptor* fd = message.GetDescriptor()->FindFieldByName(std::string(name));
  if (!fd) {
    // actions.proto and fields() disagree: a build defect the round-trip tests catch.
    std::fprintf(stderr, "actions.proto: %s has no field %.*s\n",
                 message.GetDescriptor()->full_name().c_str(), static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  cache.emplace(key, fd);
  return fd;
}

// ---- encoding ---------------------------------------------------------------------------------

template <FieldStruct S>
void struct_to_proto(const S& value, pb::Message& message);

template <class T>
void field_to_proto(const T& value, pb::Message& message, const pb::FieldDescriptor* fd) {
  const pb::Reflection* refl = message.GetReflection();
  if constexpr (FieldStruct<T>) {
    struct_to_proto(value, *refl->MutableMessage(&message, fd));
  } else if constexpr (detail::IsList<T>::value) {
    for (const auto& item : value.items) struct_to_proto(item, *refl->AddMessage(&message, fd));
  } else if constexpr (std::is_same_v<T, bool>) {
    refl->SetBool(&message, fd, value);
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    refl->SetUInt64(&message, fd, value);
  } else if constexpr (detail::UnsignedField<T>) {
    refl->SetUInt32(&message, fd, value);
  } else if constexpr (std::is_same_v<T, Address> || std::is_same_v<T, Bytes16>) {
    refl->SetString(&message, fd, std::string(value.bytes.begin(), value.bytes.end()));
  } else {
    refl->SetString(&message, fd, std::string(detail::text_of(value)));
  }
}

template <FieldStruct S>
void struct_to_proto(const S& value, pb::Message& message) {
  detail::visit_fields(value, [&](std::string_view name, const auto& member) {
    field_to_proto(member, message, field_of(message, name));
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
    Status status = field_from_proto(message, field_of(message, name), member, path);
    path.pop();
    return status;
  }));
  Status valid = detail::validate_struct(out);
  return valid.ok() ? valid : path.wrap(valid.error());
}

}  // namespace

std::string encode_envelope_binary(const SignedAction& envelope) {
  perpd::wire::Envelope message;
  std::visit(
      [&](const auto& typed) {
        const pb::FieldDescriptor* fd = field_of(message, action_type(envelope.action));
        struct_to_proto(typed, *message.GetReflection()->MutableMessage(&message, fd));
      },
      envelope.action);
  message.set_nonce(envelope.nonce);
  auto signature = envelope.signature.to_bytes();
  message.set_signature(std::string(signature.bytes.begin(), signature.bytes.end()));
  std::string out;
  message.SerializeToString(&out);
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
