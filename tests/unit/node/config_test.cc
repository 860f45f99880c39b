// The node's config file: defaults written by init load back unchanged, and a bad value is an
// error naming its field.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "node/config.h"

namespace {

std::string temp_config(const std::string& text) {
  static int serial = 0;  // several files per process; the pid keeps processes apart
  const auto path =
      std::filesystem::temp_directory_path() / ("perpd-config-test-" + std::to_string(::getpid()) +
                                                "-" + std::to_string(++serial) + ".json");
  std::ofstream(path, std::ios::trunc) << text;
  return path.string();
}

}  // namespace

TEST_CASE("config: every field saved loads back - defaults and changed values", "[config]") {
  node::NodeConfig defaults;
  node::NodeConfig changed;
  changed.rpc_listen = "127.0.0.1:9000";
  changed.p2p_listen = "127.0.0.1:9001";
  changed.block_interval_ms = 250;
  changed.max_idle_ms = 2'000;
  changed.send_action_timeout_ms = 5'000;
  changed.rpc_max_connections = 64;
  changed.rpc_idle_timeout_ms = 7'000;
  changed.rpc_max_unsent_bytes = 1'000'000;
  changed.rpc_thread_nice = 3;
  changed.mempool.max_txs = 123;
  changed.mempool.max_bytes = 4'567;
  changed.mempool.max_per_signer = 89;
  changed.log_level = "warn";
  for (const node::NodeConfig& saved : {defaults, changed}) {
    const std::string path = temp_config("");
    REQUIRE(node::save_config(path, saved));
    auto loaded = node::load_config(path);
    std::filesystem::remove(path);
    REQUIRE(loaded);
    CHECK(loaded->rpc_listen == saved.rpc_listen);
    CHECK(loaded->p2p_listen == saved.p2p_listen);
    CHECK(loaded->block_interval_ms == saved.block_interval_ms);
    CHECK(loaded->max_idle_ms == saved.max_idle_ms);
    CHECK(loaded->send_action_timeout_ms == saved.send_action_timeout_ms);
    CHECK(loaded->rpc_max_connections == saved.rpc_max_connections);
    CHECK(loaded->rpc_idle_timeout_ms == saved.rpc_idle_timeout_ms);
    CHECK(loaded->rpc_max_unsent_bytes == saved.rpc_max_unsent_bytes);
    CHECK(loaded->rpc_thread_nice == saved.rpc_thread_nice);
    CHECK(loaded->mempool.max_txs == saved.mempool.max_txs);
    CHECK(loaded->mempool.max_bytes == saved.mempool.max_bytes);
    CHECK(loaded->mempool.max_per_signer == saved.mempool.max_per_signer);
    CHECK(loaded->log_level == saved.log_level);
  }
  CHECK(defaults.rpc_thread_nice == 10);
}

TEST_CASE("config: rpcThreadNice takes 0 to 19 and names itself otherwise", "[config]") {
  for (const char* good : {"0", "19"}) {
    const std::string path = temp_config(std::string(R"({"rpcThreadNice": )") + good + "}");
    auto loaded = node::load_config(path);
    REQUIRE(loaded);
    CHECK(loaded->rpc_thread_nice == std::stoi(good));
    std::filesystem::remove(path);
  }
  for (const char* bad : {"20", "-1", "\"low\"", "1.5"}) {
    INFO(bad);
    const std::string path = temp_config(std::string(R"({"rpcThreadNice": )") + bad + "}");
    auto loaded = node::load_config(path);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().message.find("rpcThreadNice") != std::string::npos);
    std::filesystem::remove(path);
  }
}

TEST_CASE("config: maxIdleMs below blockIntervalMs is refused by name", "[config]") {
  // Blocks are made on the interval only: an idle bound shorter than it could not be kept.
  const std::string equal = temp_config(R"({"blockIntervalMs": 2000, "maxIdleMs": 2000})");
  CHECK(node::load_config(equal));
  const std::string shorter = temp_config(R"({"blockIntervalMs": 5000, "maxIdleMs": 1000})");
  auto loaded = node::load_config(shorter);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().message.find("maxIdleMs") != std::string::npos);
  CHECK(loaded.error().message.find("blockIntervalMs (5000)") != std::string::npos);
  std::filesystem::remove(equal);
  std::filesystem::remove(shorter);
}
