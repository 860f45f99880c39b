#include "plain_request.h"

#include <cstdint>

#include "state/plain_json.h"

namespace rpc {
namespace {

// The id as Boost.JSON's tree would hold it: an integer that fits int64 as int64, a larger
// non-negative one as uint64. A negative one past int64 would be a double: not taken here.
std::optional<boost::json::value> read_id(state::PlainJsonReader& in) {
  if (in.next_is('"')) {
    const auto text = in.string();
    if (!text) return std::nullopt;
    return boost::json::value(boost::json::string_view(text->data(), text->size()));
  }
  const auto integer = in.integer();
  if (!integer) return std::nullopt;
  constexpr std::uint64_t kInt64Max = INT64_MAX;
  if (!integer->negative) {
    if (integer->magnitude <= kInt64Max)
      return boost::json::value(static_cast<std::int64_t>(integer->magnitude));
    return boost::json::value(integer->magnitude);
  }
  if (integer->magnitude > kInt64Max + 1) return std::nullopt;
  return boost::json::value(static_cast<std::int64_t>(0 - integer->magnitude));
}

std::optional<PlainCall> read_call(state::PlainJsonReader& in, const ReaderOf& reader_of) {
  if (!in.expect('{')) return std::nullopt;
  PlainCall call;
  bool version = false, id = false, method = false, params = false;
  const bool read = in.members([&](std::string_view key) {
    if (key == "jsonrpc") {
      if (version) return false;
      version = true;
      const auto value = in.string();
      return value && *value == "2.0";
    }
    if (key == "id") {
      if (id) return false;
      id = true;
      auto value = read_id(in);
      if (!value) return false;
      call.id = std::move(*value);
      return true;
    }
    if (key == "method") {
      if (method) return false;
      method = true;
      const auto value = in.string();
      if (!value) return false;
      call.method = *value;
      return true;
    }
    if (key == "params") {
      if (params || !method || !in.next_is('{')) return false;
      params = true;
      const auto* reader = reader_of(call.method);
      if (!reader) return false;
      call.read = (*reader)(in);
      return call.read.has_value();
    }
    return false;
  });
  if (!read || !version || !id || !method || !params) return std::nullopt;
  return call;
}

}  // namespace

std::optional<PlainRequest> read_plain_request(std::string_view text, std::size_t max_batch,
                                               const ReaderOf& reader_of) {
  state::PlainJsonReader in(text);
  PlainRequest request;
  if (in.take('[')) {
    request.batch = true;
    do {
      if (request.calls.size() == max_batch) return std::nullopt;
      auto call = read_call(in, reader_of);
      if (!call) return std::nullopt;
      request.calls.push_back(std::move(*call));
    } while (in.take(','));
    if (!in.expect(']')) return std::nullopt;
  } else {
    auto call = read_call(in, reader_of);
    if (!call) return std::nullopt;
    request.calls.push_back(std::move(*call));
  }
  if (!in.at_end()) return std::nullopt;
  return request;
}

}  // namespace rpc
