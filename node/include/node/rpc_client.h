// A small synchronous JSON-RPC client over one keep-alive HTTP connection (Boost.Beast), for
// perp-cli, integration tests and the load generator. Not thread-safe: one per thread.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "state/result.h"

namespace node {

struct RpcError {
  int code = 0;
  std::string message;
  boost::json::value data;  // null when absent
};

class RpcClient {
 public:
  // url: http://HOST:PORT (a trailing slash is fine).
  static state::Result<RpcClient> create(
      const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  RpcClient(RpcClient&&) noexcept;
  RpcClient& operator=(RpcClient&&) noexcept;
  ~RpcClient();

  // One call: the result, or the server's JSON-RPC error; a transport failure is an RpcError
  // with code 0 and the reason in the message.
  std::variant<boost::json::value, RpcError> call(const std::string& method,
                                                  boost::json::value params);

  // Raw exchange for tests: POSTs body to path and returns (HTTP status, response body).
  state::Result<std::pair<int, std::string>> post(const std::string& path, const std::string& body,
                                                  const std::string& method = "POST");

 private:
  RpcClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace node
