// perp-cli's node commands (`perp-cli --rpc URL ...`): queries printed as tables (or JSON with
// --json) and signed actions sent with perp_sendAction.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace node {

struct CliOptions {
  std::string rpc = "http://127.0.0.1:8545";
  std::string key;  // key file for signed commands (and the default account)
  bool json = false;
};

// Adds the node commands to app; returns a function that runs whichever was chosen (or -1 when
// none of them was).
std::function<int()> add_node_commands(CLI::App& app, CliOptions& options);

}  // namespace node
