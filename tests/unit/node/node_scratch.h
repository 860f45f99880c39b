// What the node tests start from: the repository's local one-validator genesis, a fresh
// directory name under the system's temporary folder (the caller creates and removes it), and
// node options that create the database there and log no blocks.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>

#include "genesis/genesis_file.h"
#include "node/node.h"

namespace test_support {

inline perps::GenesisState local_genesis() {
  auto genesis = genesis::load_genesis_file(PERPD_TEST_DATA_DIR "/../../genesis/local.json");
  REQUIRE(genesis.ok());
  return std::move(*genesis);
}

inline std::filesystem::path scratch_dir(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         (name + "-" + std::to_string(std::random_device{}()));
}

inline node::NodeOptions node_options() {
  node::NodeOptions options;
  options.create_database = true;
  options.log_blocks = false;
  return options;
}

}  // namespace test_support
