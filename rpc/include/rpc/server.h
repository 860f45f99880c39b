// The node's RPC endpoint on Boost.Beast: HTTP POST / (JSON-RPC, single or batch), WebSocket
// GET /ws (the same methods plus perp_subscribe / perp_unsubscribe), GET /metrics (Prometheus
// text), CORS for browser pages. Bounded: body size, connections, idle time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rpc/json_rpc.h"

namespace rpc {

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (tests); read it back with Server::port()
  std::size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{30'000};  // a connection silent this long is closed
  std::size_t max_subscriptions_per_connection = 64;
  // Answers built but not yet taken by their clients, all connections together: past this, new
  // requests are answered "server busy" instead of run, so clients that ask for large answers
  // and never read them cannot hold the node's memory (each connection alone is bounded).
  std::size_t max_unsent_answer_bytes = 256 << 20;
};

// What a WebSocket client can subscribe to (SPEC section 5: l2Book, trades, user, blocks): a
// topic type and its key (market name for l2Book/trades, checksummed or lower-case address for
// user, empty for blocks).
struct Topic {
  std::string type;
  std::string key;
  bool operator<(const Topic& other) const {
    return type != other.type ? type < other.type : key < other.key;
  }
};

class Server {
 public:
  // Validates perp_subscribe params into a topic, or answers an error (-32602).
  using TopicParser =
      std::function<std::optional<Topic>(const boost::json::object& params, Error& error)>;
  // Extra text appended to GET /metrics (the node's gauges and histograms).
  using MetricsSource = std::function<std::string()>;

  Server(boost::asio::io_context& io, ServerConfig config, const MethodTable& methods,
         TopicParser topics, MetricsSource metrics);
  ~Server();

  // Binds and starts accepting; a bind failure is returned as text (port in use, ...).
  std::optional<std::string> start();
  std::uint16_t port() const;
  // Stops accepting and closes every connection.
  void stop();

  // Sends {"jsonrpc":"2.0","method":"perp_subscription","params":{"subscription":id,"result":r}}
  // to every WebSocket subscribed to topic. Thread-safe (posts onto the io_context).
  void publish(const Topic& topic, boost::json::value result);
  // Whether any WebSocket is subscribed to topic now (so a publisher can skip building it).
  bool has_subscribers(const Topic& topic) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rpc
