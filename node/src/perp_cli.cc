// perp-cli: keys, signing and (with the node issue) talking to a node over JSON-RPC.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <iostream>

#include "node/cli_commands.h"
#include "node/key_file.h"
#include "state/envelope.h"

namespace {
namespace json = boost::json;

using node::read_input;
using node::report_error;

int keygen(const std::string& out) {
  state::SecretKey key = node::generate_secret_key();
  if (auto status = node::write_key_file(out, key); !status) return report_error(status.error());
  std::cout << state::to_checksum_address(state::address_of(key)) << "\n";
  return 0;
}

int sign(const std::string& key_path, std::uint64_t chain_id, std::optional<std::uint64_t> nonce,
         const std::string& action_path) {
  auto key = node::read_key_file(key_path);
  if (!key) return report_error(key.error());
  auto text = read_input(action_path);
  if (!text) return report_error(text.error());
  std::error_code ec;
  json::value value = json::parse(*text, ec);
  if (ec)
    return report_error(state::make_error(state::Reason::BadJson, "invalid JSON: " + ec.message()));
  auto action = state::action_from_json(value);
  if (!action) return report_error(action.error());
  // determinism: the CLI picks a nonce from the wall clock; execution never reads it.
  std::uint64_t chosen_nonce = nonce.value_or(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()));
  state::EnvelopeVerifier verifier(chain_id);
  std::cout << json::serialize(
                   state::envelope_to_json(verifier.sign(std::move(*action), chosen_nonce, *key)))
            << "\n";
  return 0;
}

int recover(std::uint64_t chain_id, const std::string& envelope_path) {
  auto text = read_input(envelope_path);
  if (!text) return report_error(text.error());
  auto verified = state::EnvelopeVerifier(chain_id).verify_json(*text);
  if (!verified) return report_error(verified.error());
  std::cout << state::to_checksum_address(verified->signer) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"perp-cli: keys, signed actions and node queries for perpd"};
  app.require_subcommand(1);

  node::CliOptions options;
  auto run_node_command = node::add_node_commands(app, options);

  std::string out;
  auto* keygen_cmd =
      app.add_subcommand("keygen", "write a new key file (mode 0600) and print its address");
  keygen_cmd->add_option("--out", out, "key file to create (must not exist)")->required();

  std::string key_path, input_path;
  std::uint64_t chain_id = 0;
  std::optional<std::uint64_t> nonce;
  auto* sign_cmd =
      app.add_subcommand("sign", "sign an action (JSON with \"type\") and print the envelope");
  sign_cmd->add_option("--key", key_path, "key file")->required();
  sign_cmd->add_option("--chain-id", chain_id, "chain id of the EIP-712 domain")->required();
  sign_cmd->add_option("--nonce", nonce, "nonce (default: current time in ms)");
  sign_cmd->add_option("action", input_path, "ACTION.json, or - for standard input")->required();

  auto* recover_cmd =
      app.add_subcommand("recover", "print the signer of an envelope, or a named error");
  recover_cmd->add_option("--chain-id", chain_id, "chain id of the EIP-712 domain")->required();
  recover_cmd->add_option("envelope", input_path, "ENVELOPE.json, or - for standard input")
      ->required();

  auto* schema_cmd = app.add_subcommand("schema", "print the EIP-712 domain and types as JSON");
  schema_cmd->add_option("--chain-id", chain_id, "chain id of the EIP-712 domain")->required();

  CLI11_PARSE(app, argc, argv);
  // An answer of an unexpected shape (another server at --rpc, a node of another version) is an
  // error line, not an abort.
  try {
    if (*keygen_cmd) return keygen(out);
    if (*sign_cmd) return sign(key_path, chain_id, nonce, input_path);
    if (*recover_cmd) return recover(chain_id, input_path);
    if (*schema_cmd) {
      std::cout << json::serialize(state::eip712_schema(chain_id)) << "\n";
      return 0;
    }
    if (int code = run_node_command(); code >= 0) return code;
  } catch (const std::exception& e) {
    std::cerr << "error: unexpected answer from the node: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
