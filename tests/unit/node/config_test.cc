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
  const auto path = std::filesystem::temp_directory_path() /
                    ("perpd-config-test-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path, std::ios::trunc) << text;
  return path.string();
}

}  // namespace

TEST_CASE("config: saved defaults load back - rpcThreadNice among them", "[config]") {
  node::NodeConfig defaults;
  const std::string path = temp_config("");
  REQUIRE(node::save_config(path, defaults));
  auto loaded = node::load_config(path);
  REQUIRE(loaded);
  CHECK(loaded->rpc_thread_nice == 10);
  CHECK(loaded->block_interval_ms == 100);
  CHECK(loaded->rpc_listen == defaults.rpc_listen);
  std::filesystem::remove(path);
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
