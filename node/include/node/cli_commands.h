// perp-cli's node commands (`perp-cli --rpc URL ...`): queries printed as tables (or JSON with
// --json) and signed actions sent with perp_sendAction.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "state/result.h"

namespace node {

struct CliOptions {
  std::string rpc = "http://127.0.0.1:8545";
  std::string key;  // key file for signed commands (and the default account)
  bool json = false;
};

// Prints "error: <Reason>: <message>" and returns 1, the exit code for rejected input.
int report_error(const state::Error& error);

// Reads a whole file, or standard input for "-" (BadJson naming the file it cannot read).
state::Result<std::string> read_input(const std::string& path);

// Adds the node commands to app; returns a function that runs whichever was chosen (or -1 when
// none of them was).
std::function<int()> add_node_commands(CLI::App& app, CliOptions& options);

}  // namespace node
