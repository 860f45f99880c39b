// perp-demo: the bots of ./scripts/run.sh's local network.
//   perp-demo oracle --rpc URL --key VALIDATOR.key [--seed N]: votes every core market's oracle
//     every 3 s along a seeded random walk (validator oracleVote).
//   perp-demo maker --rpc URL --key MAKER.key: quotes 5 levels a side around each market's mark
//     every 2 s, cancelling the previous quotes.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "node/key_file.h"
#include "node/order_json.h"
#include "node/rpc_client.h"
#include "perps/price_grid.h"
#include "state/decimal.h"
#include "state/envelope.h"

namespace {
namespace json = boost::json;

volatile std::sig_atomic_t g_stop = 0;

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::int64_t micro(const json::value& v) {
  auto parsed = state::parse_decimal(v.as_string(), 6, state::Sign::Unsigned);
  return parsed ? *parsed : 0;
}

class Bot {
 public:
  Bot(const std::string& url, state::SecretKey key)
      : client_(std::move(*node::RpcClient::create(url))), key_(key) {}

  bool connect() {
    for (int i = 0; i < 100 && !g_stop; ++i) {
      auto status = client_.call("chain_status", json::object{});
      if (auto* v = std::get_if<json::value>(&status)) {
        verifier_.emplace(v->at("chainId").to_number<std::uint64_t>());
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  std::optional<json::value> call(const std::string& method, json::value params) {
    auto answer = client_.call(method, std::move(params));
    if (auto* error = std::get_if<node::RpcError>(&answer)) {
      std::fprintf(stderr, "perp-demo: %s: %s %s\n", method.c_str(), error->message.c_str(),
                   json::serialize(error->data).c_str());
      return std::nullopt;
    }
    return std::get<json::value>(answer);
  }
  std::optional<json::value> send(const json::object& action) {
    auto parsed = state::action_from_json(action);
    if (!parsed) {
      std::fprintf(stderr, "perp-demo: bad action: %s\n", parsed.error().message.c_str());
      return std::nullopt;
    }
    nonce_ = std::max(nonce_ + 1, now_ms());
    auto receipt = call("perp_sendAction",
                        state::envelope_to_json(verifier_->sign(std::move(*parsed), nonce_, key_)));
    // Only a committed action's receipt comes back: "err" (refused in execution) and "pending"
    // are logged as a refusal at entry is.
    if (!receipt) return std::nullopt;
    const json::value* status =
        receipt->is_object() ? receipt->as_object().if_contains("status") : nullptr;
    if (status && *status == "ok") return receipt;
    std::fprintf(stderr, "perp-demo: perp_sendAction: %s\n", json::serialize(*receipt).c_str());
    return std::nullopt;
  }

 private:
  node::RpcClient client_;
  state::SecretKey key_;
  std::optional<state::EnvelopeVerifier> verifier_;
  std::uint64_t nonce_ = 0;
};

int oracle(Bot& bot, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, std::int64_t> px;
  while (!g_stop) {
    auto markets = bot.call("perp_markets", json::object{});
    if (markets) {
      json::array pairs;
      for (const auto& m : markets->as_array()) {
        const std::string name(m.at("name").as_string());
        auto it = px.try_emplace(name, micro(m.at("oraclePx"))).first;
        // A walk of up to +-0.2% per vote, in basis points.
        const std::int64_t bp = static_cast<std::int64_t>(rng() % 41) - 20;
        it->second = std::max<std::int64_t>(1, it->second + it->second * bp / 10'000);
        pairs.push_back(json::object{{"coin", name}, {"px", state::format_decimal(it->second, 6)}});
      }
      bot.send(json::object{{"type", "oracleVote"}, {"pxs", std::move(pairs)}});
    }
    for (int i = 0; i < 30 && !g_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

int maker(Bot& bot) {
  std::vector<std::pair<std::string, std::uint64_t>> resting;
  while (!g_stop) {
    auto markets = bot.call("perp_markets", json::object{});
    if (markets) {
      const auto previous = std::move(resting);
      resting.clear();
      json::array orders;
      for (const auto& m : markets->as_array()) {
        const std::string name(m.at("name").as_string());
        const auto sz_decimals =
            static_cast<unsigned>(m.at("szDecimals").to_number<std::uint64_t>());
        const std::int64_t mark = micro(m.at("markPx"));
        std::int64_t lot = 1;
        for (unsigned i = 0; i < sz_decimals; ++i) lot *= 10;
        const auto grid = perps::PriceGrid::significant_figures(sz_decimals);
        for (int level = 1; level <= 5; ++level) {
          for (bool buy : {true, false}) {
            // 5 bp a level from the mark; about 2,000 USD a level.
            const std::int64_t offset = mark * 5 * level / 10'000;
            // Rounded away from the mark: a quote never crosses it.
            const std::int64_t px =
                buy ? grid.floor_price(mark - offset) : grid.ceil_price(mark + offset);
            const std::int64_t lots = std::max<std::int64_t>(1, 2'000 * 1'000'000LL * lot / px);
            orders.push_back(node::order_spec_json(name, buy, state::format_decimal(px, 6),
                                                   state::format_decimal(lots, sz_decimals),
                                                   "Alo"));
          }
        }
      }
      auto names = orders;
      if (auto receipt = bot.send(node::order_action_json(std::move(orders)))) {
        const auto& statuses = receipt->at("response").at("statuses").as_array();
        for (std::size_t i = 0; i < statuses.size(); ++i)
          if (const auto* r = statuses[i].as_object().if_contains("resting"))
            resting.emplace_back(std::string(names[i].at("market").as_string()),
                                 r->at("oid").to_number<std::uint64_t>());
      }
      // The old quotes go once the new ones rest: cancelled first, they left the book empty for
      // a block every cycle, and a market order sent then found nothing to trade against.
      if (!previous.empty()) {
        json::array cancels;
        for (const auto& [market, oid] : previous)
          cancels.push_back(json::object{{"market", market}, {"oid", oid}});
        bot.send(json::object{{"type", "cancel"}, {"cancels", std::move(cancels)}});
      }
    }
    for (int i = 0; i < 20 && !g_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"perp-demo: an oracle feeder and a market maker for a local perpd network"};
  app.require_subcommand(1);
  std::string rpc = "http://127.0.0.1:8545", key_path;
  std::uint64_t seed = 42;
  app.add_option("--rpc", rpc, "node URL");
  app.add_option("--key", key_path, "key file")->required();
  auto* oracle_cmd =
      app.add_subcommand("oracle", "vote oracle prices along a seeded random walk every 3 s");
  oracle_cmd->add_option("--seed", seed, "random walk seed");
  auto* maker_cmd = app.add_subcommand("maker", "quote 5 levels a side on every market every 2 s");
  app.fallthrough();
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  auto key = node::read_key_file(key_path);
  if (!key) {
    std::fprintf(stderr, "error: %s\n", key.error().message.c_str());
    return 1;
  }
  Bot bot(rpc, *key);
  if (!bot.connect()) {
    std::fprintf(stderr, "error: no node at %s\n", rpc.c_str());
    return 1;
  }
  if (*oracle_cmd) return oracle(bot, seed);
  if (*maker_cmd) return maker(bot);
  return 2;
}
