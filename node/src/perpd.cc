// perpd: the validator node (SPEC section 6). `perpd init` creates a home folder (config, key,
// genesis, data); `perpd start` runs the node until SIGINT or SIGTERM.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "consensus/single_validator.h"
#include "genesis/genesis_file.h"
#include "node/atomic_file.h"
#include "node/block_store.h"
#include "node/config.h"
#include "node/key_file.h"
#include "node/node.h"
#include "perps/protocol_constants.h"
#include "rpc/server.h"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::uint64_t wall_clock_ms() {
  // determinism: the proposer's clock chooses block time; execution reads only block time.
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

// A one-validator chain for local use: the validator funded, the backstop vault funded, the core
// markets BTC, ETH and SOL.
perps::GenesisState local_genesis(const state::Address& validator, const std::string& p2p) {
  perps::GenesisState g;
  g.chain_id = 1337;
  g.genesis_time_ms = wall_clock_ms() / 1000 * 1000;
  g.validators.push_back({validator, 100, p2p});
  state::Address vault;
  std::memcpy(vault.data(), perps::kBackstopVaultAddress, 20);
  g.balances.push_back({validator, 1'000'000 * perps::kMicro, 600'000 * perps::kMicro});
  g.balances.push_back({vault, 1'000'000 * perps::kMicro, 0});
  g.markets.push_back({"BTC", 5, 40, 65'000 * perps::kMicro, 20'000 * perps::kMicro, {}});
  g.markets.push_back({"ETH", 4, 25, 3'500 * perps::kMicro, 20'000 * perps::kMicro, {}});
  g.markets.push_back({"SOL", 2, 20, 150 * perps::kMicro, 6'000 * perps::kMicro, {}});
  return g;
}

// Everything is checked before anything is written, and config.json is written last: a home
// without it is not initialized, and init may be run on it again (a failed or killed init
// leaves at most a key to reuse, a genesis file to replace and a database still at height 0).
// Why this build's perpd start cannot run a home with this genesis and key, if it cannot: it runs
// single-validator networks whose genesis lists the node's own key.
std::optional<std::string> start_refusal(const perps::GenesisState& genesis,
                                         const state::Address& me) {
  if (genesis.validators.size() == 1 && genesis.validators[0].address == me) return std::nullopt;
  return "this build runs single-validator networks: the genesis must list exactly this node's "
         "key " +
         state::to_checksum_address(me) + " (the BFT engine is the next issue)";
}

int init(const std::string& home, const std::string& genesis_file, const std::string& key_file) {
  const fs::path dir(home);
  const std::string key_path = (dir / "validator.key").string();
  const std::string data_path = (dir / "data" / "chain").string();
  if (fs::exists(dir / "config.json"))
    return fail(home + " is already initialized (config.json exists)");
  std::optional<state::SecretKey> key;
  if (!key_file.empty()) {
    auto read = node::read_key_file(key_file);
    if (!read) return fail(read.error().message);
    key = *read;
  }
  if (fs::exists(key_path)) {  // from an init that stopped part way
    auto kept = node::read_key_file(key_path);
    if (!kept) return fail(kept.error().message);
    if (key && *key != *kept)
      return fail(key_path + " exists and holds another key than " + key_file +
                  " (left by an earlier init?): remove it to initialize with " + key_file);
    key = *kept;
  }
  const bool new_key_file = !fs::exists(key_path);  // else it holds key (checked above)
  if (!key) key = node::generate_secret_key();
  const state::Address address = state::address_of(*key);
  node::NodeConfig config;
  perps::GenesisState genesis;
  if (!genesis_file.empty()) {
    auto loaded = genesis::load_genesis_file(genesis_file);
    if (!loaded) return fail(loaded.error().message);
    genesis = *loaded;
  } else {
    genesis = local_genesis(address, config.p2p_listen);
  }

  std::error_code ec;
  if (fs::exists(data_path)) {
    // Left by an init that stopped part way: redone only when it never got past height 0.
    std::string refusal;
    {
      auto left = state::open_leveldb(data_path, /*create_if_missing=*/false);
      if (!left) {
        refusal = left.error().message;
      } else {
        auto info = node::BlockStore(**left).commit_info();
        if (!info)
          refusal = info.error().message;
        else if (*info && (*info)->height > 0)
          refusal = "it holds a chain at height " + std::to_string((*info)->height);
      }
    }  // closed before it is removed
    if (!refusal.empty())
      return fail(data_path + " exists but config.json does not, and " + refusal +
                  ": restore config.json, or remove the data folder to start a new chain");
    fs::remove_all(data_path, ec);
    if (ec) return fail("cannot remove " + data_path + ": " + ec.message());
  }
  fs::create_directories(dir / "data", ec);
  if (ec) return fail("cannot create " + (dir / "data").string() + ": " + ec.message());
  if (new_key_file)
    if (auto written = node::write_key_file(key_path, *key); !written)
      return fail(written.error().message);
  if (auto written = node::write_file_atomically((dir / "genesis.json").string(),
                                                 genesis::genesis_to_json(genesis), 0644);
      !written)
    return fail(written.error().message);
  {
    node::NodeOptions options;
    options.log_blocks = false;
    options.create_database = true;
    auto created = node::Node::open(genesis, data_path, options);
    if (!created) return fail(created.error().message);
  }
  if (auto saved = node::save_config((dir / "config.json").string(), config); !saved)
    return fail(saved.error().message);
  std::printf("initialized %s\n  validator %s\n  chain id %llu\n  rpc %s\n", home.c_str(),
              state::to_checksum_address(address).c_str(),
              static_cast<unsigned long long>(genesis.chain_id), config.rpc_listen.c_str());
  // The home is kept (a later build runs it), but said now rather than at start.
  if (auto refusal = start_refusal(genesis, address))
    std::fprintf(stderr, "note: perpd start will refuse this home: %s\n", refusal->c_str());
  return 0;
}

int start(const std::string& home, const std::string& rpc_override) {
  const fs::path dir(home);
  auto config = node::load_config((dir / "config.json").string());
  if (!config) return fail(config.error().message);
  if (!rpc_override.empty()) config->rpc_listen = rpc_override;
  if (auto private_key = node::check_key_file_private((dir / "validator.key").string());
      !private_key)
    return fail(private_key.error().message);
  auto key = node::read_key_file((dir / "validator.key").string());
  if (!key) return fail(key.error().message);
  auto genesis = genesis::load_genesis_file((dir / "genesis.json").string());
  if (!genesis) return fail(genesis.error().message);
  const state::Address me = state::address_of(*key);
  if (auto refusal = start_refusal(*genesis, me)) return fail(*refusal);
  auto host_port = node::split_host_port(config->rpc_listen);
  if (!host_port) return fail(host_port.error().message);

  node::NodeOptions options;
  options.mempool = config->mempool;
  options.send_action_timeout = std::chrono::milliseconds(config->send_action_timeout_ms);
  options.log_blocks = config->log_level != "warn";
  // Declared before the node, so destroyed after it: calls still waiting for a block at shutdown
  // hold their connections' sessions, which must be let go while the event loop exists.
  boost::asio::io_context io;
  // Damaged records that throw while decoding (an allocation for a nonsense size) are an error
  // like any other damage, not an abort.
  auto opened = [&]() -> state::Result<std::unique_ptr<node::Node>> {
    try {
      return node::Node::open(*genesis, (dir / "data" / "chain").string(), options);
    } catch (const std::exception& e) {
      return state::make_error(state::Reason::StorageError,
                               std::string("damaged database: ") + e.what());
    }
  }();
  if (!opened) return fail(opened.error().message);
  node::Node& node = **opened;

  rpc::MethodTable methods;
  node.register_methods(methods);
  rpc::ServerConfig server_config;
  server_config.host = host_port->first;
  server_config.port = host_port->second;
  server_config.max_connections = config->rpc_max_connections;
  server_config.max_unsent_answer_bytes = config->rpc_max_unsent_bytes;
  server_config.idle_timeout = std::chrono::milliseconds(config->rpc_idle_timeout_ms);
  rpc::Server server(
      io, server_config, methods,
      [&node](const json::object& params, rpc::Error& error) {
        return node.parse_topic(params, error);
      },
      [&node] { return node.metrics_text(); });
  node.set_publisher([&server](const rpc::Topic& topic,
                               json::value value) { server.publish(topic, std::move(value)); },
                     [&server](const rpc::Topic& topic) { return server.has_subscribers(topic); });

  consensus::SingleValidatorConfig engine_config;
  engine_config.block_interval = std::chrono::milliseconds(config->block_interval_ms);
  engine_config.max_idle = std::chrono::milliseconds(config->max_idle_ms);
  engine_config.proposer = me;
  consensus::SingleValidatorEngine engine(
      node, engine_config, [&node] { return node.has_pending(); }, wall_clock_ms);
  // No wake-up per transaction: the engine looks at the mempool every block interval anyway, and
  // a futex wake for each of ~20,000 submissions a second cost more than it saved.
  // Hooks first, then the server: verification threads read them as soon as requests arrive.
  if (auto failed = server.start()) return fail("rpc: " + *failed);

  const consensus::CommitInfo resumed = node.last_commit();
  std::fprintf(
      stderr,
      "info: perpd %s chain %llu height %llu app_hash %s\ninfo: rpc listening on http://%s:%u\n",
      state::to_checksum_address(me).c_str(), static_cast<unsigned long long>(node.chain_id()),
      static_cast<unsigned long long>(resumed.height), state::to_hex(resumed.app_hash).c_str(),
      host_port->first.c_str(), static_cast<unsigned>(server.port()));
  engine.start();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    std::fprintf(stderr, "info: signal %d: stopping\n", signal);
    engine.stop();
    server.stop();
    io.stop();
  });
  std::vector<std::thread> threads;
  // One RPC thread per core: envelopes are verified on them (Node::submit_batch). They run at a
  // lower priority than the consensus thread, so a due block executes and commits at once rather
  // than sharing the cores round-robin with signature checks: the answers it releases bring the
  // next submissions, and while it waits the cores can run dry. Paired load tests: the blocks'
  // execution wall time ~1.3 s -> ~0.75 s per 300,000 orders, 1-4 points more of the recovery rate.
  // The offset is added to perpd's own nice value (capped at 19): started under `nice -n 5`, the
  // RPC threads still run 10 below the consensus thread where the range allows.
  errno = 0;
  const int process_nice = getpriority(PRIO_PROCESS, 0);
  const int rpc_thread_nice =
      std::min(19, (errno == 0 ? process_nice : 0) + config->rpc_thread_nice);
  const unsigned rpc_threads = std::max(2u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < rpc_threads; ++i)
    threads.emplace_back([&io, rpc_thread_nice, process_nice, i] {
      // Named so top -H, ps -L and the load test tell the RPC threads from the rest.
      const std::string name = "perpd-rpc-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      // Per thread on Linux; lowering one's own priority needs no privilege.
      if (rpc_thread_nice > process_nice &&
          setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), rpc_thread_nice) != 0)
        std::fprintf(stderr, "warn: cannot lower the RPC thread's priority: %s\n",
                     std::strerror(errno));
      io.run();
    });
  for (auto& t : threads) t.join();
  engine.stop();
  std::fprintf(stderr, "info: stopped at height %llu\n",
               static_cast<unsigned long long>(node.last_commit().height));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"perpd: a validator node for a permissionless perpetual-futures exchange"};
  app.require_subcommand(1);
  std::string home, genesis_file, key_file, rpc;
  auto* init_cmd =
      app.add_subcommand("init", "create a node home: config, validator key, genesis, data");
  init_cmd->add_option("--home", home, "node home folder")->required();
  init_cmd->add_option("--genesis", genesis_file,
                       "genesis file (default: a one-validator local chain)");
  init_cmd->add_option("--key", key_file, "use this validator key file instead of a new key");
  auto* start_cmd = app.add_subcommand("start", "run the node until SIGINT/SIGTERM");
  start_cmd->add_option("--home", home, "node home folder")->required();
  start_cmd->add_option("--rpc", rpc, "RPC listen address HOST:PORT (default: from config.json)");
  CLI11_PARSE(app, argc, argv);
  if (*init_cmd) return init(home, genesis_file, key_file);
  return start(home, rpc);
}
