// The fast path's reading of a JSON-RPC request text (MethodTable::dispatch): a single call or a
// batch, every call in the plain subset of JSON (state/plain_json.h) with exactly "jsonrpc":
// "2.0", an integer or string "id", a string "method" and then "params", which that method's
// reader reads in the same pass. Nothing for any other request, which the general path then
// reads as it always does: notifications, other members, params before the method, a method
// without a reader, a batch that is empty or over the limit, params the reader leaves, and
// everything not plain.
#pragma once

#include <any>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "rpc/json_rpc.h"

namespace rpc {

struct PlainCall {
  boost::json::value id;  // as the general path's tree holds it (int64, uint64 or string)
  std::string_view method;
  std::any read;  // what the method's params reader made of the params
};

struct PlainRequest {
  bool batch = false;
  std::vector<PlainCall> calls;
};

// reader_of(method) is the method's params reader, or null when it has none.
using ReaderOf = std::function<const ParamsReader*(std::string_view method)>;
std::optional<PlainRequest> read_plain_request(std::string_view text, std::size_t max_batch,
                                               const ReaderOf& reader_of);

}  // namespace rpc
