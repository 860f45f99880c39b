// Private to state/: walking an action struct's fields() and the per-type rules shared by the
// JSON and Protobuf codecs.
#pragma once

#include <boost/container/small_vector.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "state/actions.h"

namespace state::detail {

template <class T>
concept FieldStruct = requires {
  T::fields();
  T::kTypeName;
};

template <class T>
struct IsList : std::false_type {};
template <class T, std::size_t M>
struct IsList<List<T, M>> : std::true_type {};

template <class T>
struct IsDecimalText : std::false_type {};
template <unsigned D, Sign S, bool E>
struct IsDecimalText<DecimalText<D, S, E>> : std::true_type {};

template <class T>
concept UnsignedField = std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint32_t> ||
    std::is_same_v<T, std::uint64_t>;

// Calls f(name, member) for each field in order; stops at the first error f returns.
template <class S, class F>
Status for_each_field(S& s, F&& f) {
  Status status;
  std::apply(
      [&](auto... spec) {
        ((status.ok() ? (void)(status = f(spec.name, s.*(spec.member))) : void()), ...);
      },
      std::remove_cvref_t<S>::fields());
  return status;
}

// Calls f(name, member) for each field in order.
template <class S, class F>
void visit_fields(S& s, F&& f) {
  std::apply([&](auto... spec) { (f(spec.name, s.*(spec.member)), ...); },
             std::remove_cvref_t<S>::fields());
}

template <class T>
std::string eip712_type_name() {
  if constexpr (FieldStruct<T>)
    return std::string(T::kTypeName);
  else if constexpr (IsList<T>::value)
    return eip712_type_name<typename T::value_type>() + "[]";
  else if constexpr (std::is_same_v<T, bool>)
    return "bool";
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return "uint8";
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return "uint32";
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return "uint64";
  else if constexpr (std::is_same_v<T, Address>)
    return "address";
  else if constexpr (std::is_same_v<T, Bytes16>)
    return "bytes16";
  else
    return "string";  // std::string, DecimalText, Tif, TpSl
}

// Builds "orders[0].px" style paths for error messages, only as deep as decoding has gone.
class FieldPath {
 public:
  // Names are fields() names (static storage), so the path keeps views and only formats them
  // into text when there is an error to report: decoding a valid envelope builds no strings.
  void push(std::string_view name) { segments_.push_back({name, 0}); }
  void push_index(std::size_t index) { segments_.push_back({{}, index}); }
  void pop() { segments_.pop_back(); }
  Error wrap(const Error& error) const {
    return segments_.empty() ? error : make_error(error.reason, text() + ": " + error.message);
  }
  Error error(Reason reason, std::string_view text) const {
    return wrap(make_error(reason, std::string(text)));
  }

 private:
  struct Segment {
    std::string_view name;  // empty: an index into a list
    std::size_t index;
  };
  std::string text() const {
    std::string out;
    for (const Segment& s : segments_) {
      if (s.name.empty()) {
        out += '[' + std::to_string(s.index) + ']';
      } else {
        if (!out.empty()) out += '.';
        out += s.name;
      }
    }
    return out;
  }
  boost::container::small_vector<Segment, 6> segments_;
};

// Text rules shared by every codec: a value's text form is valid in one place only.
Status parse_text(std::string_view text, std::string& out);
Status parse_text(std::string_view text, Tif& out);
Status parse_text(std::string_view text, TpSl& out);
template <unsigned D, Sign S, bool E>
Status parse_text(std::string_view text, DecimalText<D, S, E>& out) {
  if (E && text.empty()) {
    out = {};
    return Status::Ok();
  }
  auto units = parse_decimal(text, D, S);
  if (!units) return units.error();
  out.text.assign(text);
  out.units = *units;
  return Status::Ok();
}

inline std::string_view text_of(const std::string& value) {
  return value;
}
inline std::string_view text_of(Tif value) {
  return tif_name(value);
}
inline std::string_view text_of(TpSl value) {
  return tpsl_name(value);
}
template <unsigned D, Sign S, bool E>
std::string_view text_of(const DecimalText<D, S, E>& value) {
  return value.text;
}

template <class T>
concept TextField = requires(const T& v) {
  text_of(v);
};

// Struct-level rules beyond single fields (OrderSpec's trigger pair).
template <class S>
Status validate_struct(const S& s) {
  if constexpr (requires { S::validate(s); }) return S::validate(s);
  return Status::Ok();
}

// Calls f(std::type_identity<A>{}) for the action alternative A at index (index < variant size).
template <std::size_t I = 0, class F>
decltype(auto) with_action_alternative(std::size_t index, F&& f) {
  if constexpr (I + 1 < std::variant_size_v<Action>) {
    if (index != I) return with_action_alternative<I + 1>(index, std::forward<F>(f));
  }
  return f(std::type_identity<std::variant_alternative_t<I, Action>>{});
}

// Index in Action of the alternative whose kActionType is name, or variant size if none.
std::size_t action_index(std::string_view name);

}  // namespace state::detail
