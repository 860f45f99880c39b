// End-of-block work with 100,000 accounts holding positions across 10 markets (each account
// holds two positions): what a block costs when nothing is due, when premium samples are due,
// when oracle votes move every mark (the liquidation scan of every holder), and at an hourly
// funding settlement (every position pays or receives, every account record is re-committed).
// And marks moving past 100,000 waiting trigger orders that none of the moves reaches.
// Everything the executor does is included: state changes and the app-hash update.
#include <benchmark/benchmark.h>

#include <memory>

#include "perps/exchange.h"
#include "state/keccak.h"

namespace {
using namespace perps;
using Executor = state::BlockExecutor<Exchange>;

constexpr int kAccounts = 100'000;
constexpr int kMarkets = 10;
constexpr std::uint64_t kGenesisMs = 1'767'225'600'000;

state::Address named(const std::string& name) {
  state::Hash256 h = state::keccak256(name);
  state::Address a;
  std::memcpy(a.data(), h.data(), 20);
  return a;
}

Px market_px(int m) {
  return (1'000 + 100 * m) * 1'000'000LL;
}

state::VerifiedAction tx(const state::Address& signer, state::Action action, std::uint64_t nonce) {
  state::VerifiedAction v;
  v.signed_action.action = std::move(action);
  v.signed_action.nonce = nonce;
  v.signer = signer;
  return v;
}

state::Action one_order(int m, bool buy, state::Tif tif) {
  state::OrderSpec o;
  o.market = "M" + std::to_string(m);
  o.is_buy = buy;
  const Px px = market_px(m);
  o.px = {state::format_decimal(px, 6), px};
  o.sz = {"0.02", 20'000};
  o.tif = tif;
  state::PlaceOrders p;
  p.orders.items.push_back(o);
  return p;
}

std::vector<state::Address> named_accounts(const std::string& prefix, int count) {
  std::vector<state::Address> out;
  for (int i = 0; i < count; ++i) out.push_back(named(prefix + std::to_string(i)));
  return out;
}

// 10 markets, one validator, and accounts holding 10,000 USD each.
struct Chain {
  std::unique_ptr<Executor> executor;
  state::Address validator = named("validator");
  std::uint64_t time = kGenesisMs;
  std::uint64_t height = 0;
  std::uint64_t nonce = kGenesisMs;

  explicit Chain(const std::vector<state::Address>& accounts) {
    GenesisState g;
    g.chain_id = 1337;
    g.genesis_time_ms = kGenesisMs;
    g.validators.push_back({validator, 1, ""});
    for (int m = 0; m < kMarkets; ++m)
      g.markets.push_back({"M" + std::to_string(m), 2, 20, market_px(m), 6'000'000'000, {}});
    for (const auto& account : accounts) g.balances.push_back({account, 10'000 * 1'000'000LL, 0});
    executor = std::make_unique<Executor>(Exchange(g));
  }

  Executor::BlockResult block(std::vector<state::VerifiedAction> txs, std::uint64_t at_ms) {
    state::Block b;
    time = at_ms;
    b.context = {++height, time, {}};
    b.txs = std::move(txs);
    return executor->execute(b);
  }

  // Votes every market 0.5% up or down from its current oracle.
  state::VerifiedAction votes(bool up) {
    state::OracleVote vote;
    for (const Market& m : executor->app().markets()) {
      const Px px = m.oracle_px + (up ? 1 : -1) * m.oracle_px / 200;
      vote.pxs.items.push_back({m.name, {state::format_decimal(px, 6), px}});
    }
    return tx(validator, vote, nonce++);
  }
};

// Accounts that each hold two positions: account 2i sells to 2i+1 in market i % 10 and in
// market (i + 5) % 10.
struct World : Chain {
  std::vector<state::Address> accounts;

  World() : World(named_accounts("holder", kAccounts)) {}
  explicit World(std::vector<state::Address> all) : Chain(all), accounts(std::move(all)) {
    for (int round = 0; round < 2; ++round) {
      std::vector<state::VerifiedAction> txs;
      for (int i = 0; i < kAccounts / 2; ++i) {
        const int m = (i + 5 * round) % kMarkets;
        txs.push_back(tx(accounts[2 * i], one_order(m, false, state::Tif::Gtc), nonce++));
        txs.push_back(tx(accounts[2 * i + 1], one_order(m, true, state::Tif::Ioc), nonce++));
      }
      block(std::move(txs), time + 100);
    }
  }
};

World& world() {
  static World w;  // built once: about two seconds of setup
  return w;
}

void report_positions(benchmark::State& state, const World& w) {
  std::size_t holders = 0;
  for (const Market& m : w.executor->app().markets()) holders += m.holders.size();
  state.counters["positions"] = static_cast<double>(holders);
}

// Nothing due: no vote, no sample (blocks 1 ms apart inside a 5 s sample window), no funding.
void BM_BlockNothingDue(benchmark::State& state) {
  World& w = world();
  std::uint64_t t = w.time - w.time % 5'000 + 5'000;
  w.block({}, t);  // take the sample due at this boundary first
  for (auto _ : state) w.block({}, ++t);
  report_positions(state, w);
}
BENCHMARK(BM_BlockNothingDue);

// Premium samples due in all 10 markets (every 5 s): impact prices from each book.
void BM_BlockPremiumSamples(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) w.block({}, w.time - w.time % 5'000 + 5'000);
  report_positions(state, w);
}
BENCHMARK(BM_BlockPremiumSamples)->Iterations(500);

// Oracle votes moving all 10 marks: the liquidation scan visits every position holder.
void BM_BlockMarksMoveScanAll(benchmark::State& state) {
  World& w = world();
  bool up = true;
  for (auto _ : state) {
    w.block({w.votes(up)}, w.time + 3'000);  // votes spaced beyond the 2.5 s minimum
    up = !up;
  }
  report_positions(state, w);
}
BENCHMARK(BM_BlockMarksMoveScanAll)->Unit(benchmark::kMillisecond)->Iterations(100);

// An hourly settlement: every position pays or receives funding, then the scan.
void BM_BlockFundingSettlement(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) {
    const std::uint64_t due = w.executor->app().markets()[0].next_funding_ms;
    auto result = w.block({}, due);
    state.counters["changed_keys"] = static_cast<double>(result.state_changes.size());
  }
  report_positions(state, w);
}
BENCHMARK(BM_BlockFundingSettlement)->Unit(benchmark::kMillisecond)->Iterations(5);

// 100 accounts with 1,000 trigger orders each (the open-order limit), spread over the 10
// markets, none near enough to fire: take-profits selling at 3x the mark, stop-losses selling at
// a quarter of it.
struct TriggerWorld : Chain {
  TriggerWorld() : TriggerWorld(named_accounts("trigger", 100)) {}
  explicit TriggerWorld(const std::vector<state::Address>& accounts) : Chain(accounts) {
    std::vector<state::VerifiedAction> txs;
    for (const auto& account : accounts)
      for (int batch = 0; batch < 1000 / 50; ++batch) {
        state::PlaceOrders p;
        for (int i = 0; i < 50; ++i) {
          const int m = (batch * 50 + i) % kMarkets;
          const bool take_profit = i % 2 == 0;
          const Px trigger = take_profit ? 3 * market_px(m) : market_px(m) / 4;
          state::OrderSpec o;
          o.market = "M" + std::to_string(m);
          o.is_buy = false;
          o.px = {state::format_decimal(trigger, 6), trigger};
          o.sz = {"0.02", 20'000};
          o.tif = state::Tif::Gtc;
          o.reduce_only = true;
          o.trigger_px = {o.px.text, trigger};
          o.tpsl = take_profit ? state::TpSl::Tp : state::TpSl::Sl;
          p.orders.items.push_back(o);
        }
        txs.push_back(tx(account, p, nonce++));
      }
    block(std::move(txs), time + 100);
  }
};

// Oracle votes moving all 10 marks with 100,000 trigger orders waiting: what the end of the
// block costs when no trigger fires.
void BM_BlockMarksMoveTriggersWait(benchmark::State& state) {
  static TriggerWorld w;
  std::size_t waiting = 0;
  for (const Market& m : w.executor->app().markets())
    waiting += m.triggers_on_rise.size() + m.triggers_on_fall.size();
  if (waiting != 100'000)
    state.SkipWithError(("placed " + std::to_string(waiting) + " triggers").c_str());
  bool up = true;
  for (auto _ : state) {
    w.block({w.votes(up)}, w.time + 3'000);  // votes spaced beyond the 2.5 s minimum
    up = !up;
  }
  state.counters["triggers"] = static_cast<double>(waiting);
}
BENCHMARK(BM_BlockMarksMoveTriggersWait)->Unit(benchmark::kMicrosecond)->Iterations(200);

}  // namespace

BENCHMARK_MAIN();
