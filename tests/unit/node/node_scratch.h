// What the node tests start from: the repository's local one-validator genesis, and a fresh
// directory name under the system's temporary folder (the caller creates and removes it).
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>

#include "genesis/genesis_file.h"

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

}  // namespace test_support
