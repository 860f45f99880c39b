// The node's config file (home/config.json): listen addresses, block interval, limits, log level.
// Unknown fields are errors, as in genesis files, so a typo never passes silently.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "node/mempool.h"
#include "state/result.h"

namespace node {

struct NodeConfig {
  std::string rpc_listen = "127.0.0.1:8545";
  std::string p2p_listen = "127.0.0.1:26656";  // for the BFT engine (next issue)
  std::uint64_t block_interval_ms = 100;
  std::uint64_t max_idle_ms = 1'000;  // an empty block at least this often: block time advances
  std::uint64_t send_action_timeout_ms = 10'000;
  std::size_t rpc_max_connections = 1'024;
  std::uint64_t rpc_idle_timeout_ms = 30'000;
  // Answers waiting for their clients, all connections together, before new requests are
  // refused as busy (rpc::ServerConfig::max_unsent_answer_bytes).
  std::uint64_t rpc_max_unsent_bytes = 256ull << 20;
  // Added to perpd's nice value for the RPC threads (0-19), so the consensus thread runs first
  // when both want a core: see perpd start.
  int rpc_thread_nice = 10;
  MempoolLimits mempool;
  std::string log_level = "info";
};

// BadConfig naming the field on any error.
state::Result<NodeConfig> load_config(const std::string& path);
state::Status save_config(const std::string& path, const NodeConfig& config);
// "host:port" -> (host, port); BadConfig when malformed.
state::Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text);

}  // namespace node
