#include "node/config.h"

#include "node/atomic_file.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace node {
namespace json = boost::json;
using state::make_error;
using state::Reason;

namespace {

state::Error bad(const std::string& field, const std::string& why) {
  return make_error(Reason::BadConfig, field + ": " + why);
}

}  // namespace

state::Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return bad("address", "expected HOST:PORT, got \"" + text + "\"");
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return bad("address", "port must be 0..65535 in \"" + text + "\"");
  const unsigned long value = std::stoul(port);
  if (value > 65535) return bad("address", "port must be 0..65535 in \"" + text + "\"");
  return std::pair{text.substr(0, colon), static_cast<std::uint16_t>(value)};
}

state::Result<NodeConfig> load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return bad(path, "cannot read the config file");
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value doc = json::parse(text.str(), ec);
  if (ec || !doc.is_object()) return bad(path, "not a JSON object");
  NodeConfig c;
  auto number = [&](const json::value& v, const std::string& field, std::uint64_t max,
                    std::uint64_t& out) -> state::Status {
    if (!v.is_uint64() && !(v.is_int64() && v.get_int64() >= 0))
      return bad(field, "a non-negative integer");
    const std::uint64_t n =
        v.is_uint64() ? v.get_uint64() : static_cast<std::uint64_t>(v.get_int64());
    if (n == 0 || n > max) return bad(field, "must be 1.." + std::to_string(max));
    out = n;
    return state::Status::Ok();
  };
  for (const auto& [key, value] : doc.as_object()) {
    const std::string field(key);
    std::uint64_t n = 0;
    if (field == "rpc" || field == "p2p") {
      if (!value.is_string()) return bad(field, "a \"HOST:PORT\" string");
      PERPD_TRY(split_host_port(std::string(value.get_string())));
      (field == "rpc" ? c.rpc_listen : c.p2p_listen) = std::string(value.get_string());
    } else if (field == "blockIntervalMs") {
      PERPD_TRY(number(value, field, 60'000, c.block_interval_ms));
    } else if (field == "maxIdleMs") {
      PERPD_TRY(number(value, field, 60'000, c.max_idle_ms));
    } else if (field == "sendActionTimeoutMs") {
      PERPD_TRY(number(value, field, 600'000, c.send_action_timeout_ms));
    } else if (field == "rpcMaxConnections") {
      PERPD_TRY(number(value, field, 100'000, n));
      c.rpc_max_connections = n;
    } else if (field == "rpcMaxUnsentBytes") {
      PERPD_TRY(number(value, field, 64ull << 30, c.rpc_max_unsent_bytes));
    } else if (field == "rpcIdleTimeoutMs") {
      PERPD_TRY(number(value, field, 3'600'000, c.rpc_idle_timeout_ms));
    } else if (field == "rpcThreadNice") {
      if (!value.is_int64() || value.get_int64() < 0 || value.get_int64() > 19)
        return bad(field, "an integer 0..19");
      c.rpc_thread_nice = static_cast<int>(value.get_int64());
    } else if (field == "mempoolMaxTxs") {
      PERPD_TRY(number(value, field, 10'000'000, n));
      c.mempool.max_txs = n;
    } else if (field == "mempoolMaxBytes") {
      PERPD_TRY(number(value, field, 1ULL << 34, n));
      c.mempool.max_bytes = n;
    } else if (field == "mempoolMaxPerSigner") {
      PERPD_TRY(number(value, field, 1'000'000, n));
      c.mempool.max_per_signer = n;
    } else if (field == "logLevel") {
      if (!value.is_string() || (value.get_string() != "info" && value.get_string() != "warn" &&
                                 value.get_string() != "debug"))
        return bad(field, "one of debug, info, warn");
      c.log_level = std::string(value.get_string());
    } else {
      return bad(field, "unknown field");
    }
  }
  // An empty block comes at least every maxIdleMs, but blocks are only made on the interval.
  if (c.max_idle_ms < c.block_interval_ms)
    return bad("maxIdleMs",
               "must be at least blockIntervalMs (" + std::to_string(c.block_interval_ms) + ")");
  return c;
}

state::Status save_config(const std::string& path, const NodeConfig& c) {
  json::object o{{"rpc", c.rpc_listen},
                 {"p2p", c.p2p_listen},
                 {"blockIntervalMs", c.block_interval_ms},
                 {"maxIdleMs", c.max_idle_ms},
                 {"sendActionTimeoutMs", c.send_action_timeout_ms},
                 {"rpcMaxConnections", c.rpc_max_connections},
                 {"rpcIdleTimeoutMs", c.rpc_idle_timeout_ms},
                 {"rpcMaxUnsentBytes", c.rpc_max_unsent_bytes},
                 {"rpcThreadNice", c.rpc_thread_nice},
                 {"mempoolMaxTxs", c.mempool.max_txs},
                 {"mempoolMaxBytes", c.mempool.max_bytes},
                 {"mempoolMaxPerSigner", c.mempool.max_per_signer},
                 {"logLevel", c.log_level}};
  return write_file_atomically(path, json::serialize(o) + "\n", 0644);
}

}  // namespace node
