// Seeded randomized simulation of the exchange core: hundreds of accounts, several markets,
// thousands of blocks of random orders, cancels, modifies, leverage changes, transfers and price
// moves, with invariants checked after every block:
//   - USD is conserved exactly: cash (balances, isolated margins, fee pool) minus the open
//     positions' cost bases equals the genesis total; positions net to zero per market and open
//     interest equals the longs;
//   - no book is crossed;
//   - an account with negative free collateral got there through a price move (the liquidation
//     issue resolves those), never through trading;
//   - a second executor, saved to a store and restored midway, reaches the same app hash.
// PERPD_SIM_SEED=<n> replays a seed; PERPD_SIM_BLOCKS=<n> runs longer (default 1500).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <map>
#include <set>

#include "exchange_harness.h"
#include "perps/protocol_constants.h"
#include "state/fixed_point.h"

using namespace perps;
using namespace perps::testing;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);  // determinism: test harness only
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

struct SimMarket {
  std::string name;
  Px tick;  // a price grid valid for the market (5 significant figures, 6 - szDecimals decimals)
  std::int64_t lots_per_unit;
};

class Simulation {
 public:
  explicit Simulation(std::uint64_t seed) : rng_(seed) {
    genesis_.chain_id = 1337;
    genesis_.genesis_time_ms = 1'767'225'600'000;
    genesis_.markets = {{"BTC", 3, 50, 50'000'000'000, 20'000'000'000, {}},
                        {"ETH", 2, 25, 3'000'000'000, 20'000'000'000, {}},
                        {"SOL", 1, 20, 150'000'000, 6'000'000'000, {}}};
    markets_ = {{"BTC", 1'000'000, 1000}, {"ETH", 100'000, 100}, {"SOL", 10'000, 10}};
    for (int i = 0; i < kAccounts; ++i) {
      std::int64_t usd = static_cast<std::int64_t>(10'000 + rng_() % 90'000) * kMicro;
      genesis_.balances.push_back({address_of_name("u" + std::to_string(i)), usd, 0});
      genesis_total_ += usd;
    }
  }

  const GenesisState& genesis() const { return genesis_; }
  std::int64_t genesis_total() const { return genesis_total_; }

  // The next block's transactions, and price moves to apply before it.
  struct Step {
    std::vector<std::pair<std::string, state::Action>> txs;
    std::vector<std::pair<MarketIndex, Px>> marks;
  };
  Step next(const Exchange& exchange) {
    Step step;
    if (rng_() % 10 == 0) {
      MarketIndex m = static_cast<MarketIndex>(rng_() % markets_.size());
      Px mark = exchange.markets()[m].mark_px;
      // A move of up to 1% either way, on the market's price grid.
      Px move = mark / 100 * static_cast<Px>(rng_() % 201 - 100) / 100;
      Px next = (mark + move) / markets_[m].tick * markets_[m].tick;
      step.marks.push_back({m, std::max(markets_[m].tick, next)});
    }
    const int count = static_cast<int>(rng_() % 16);
    for (int i = 0; i < count; ++i) step.txs.push_back(random_tx(exchange));
    return step;
  }

 private:
  static constexpr int kAccounts = 300;

  std::pair<std::string, state::Action> random_tx(const Exchange& exchange) {
    std::string who = "u" + std::to_string(rng_() % kAccounts);
    const MarketIndex m = static_cast<MarketIndex>(rng_() % markets_.size());
    const SimMarket& sm = markets_[m];
    const Account* acct = exchange.find_account(address_of_name(who));
    const unsigned kind = static_cast<unsigned>(rng_() % 100);
    if (kind < 55) return {who, place(exchange, m)};
    if (kind < 80 && acct && !acct->orders.empty()) {
      // Cancel (or modify) one of the account's open orders, sometimes a stale oid.
      auto it = acct->orders.begin();
      std::advance(it, static_cast<long>(rng_() % acct->orders.size()));
      OrderId oid = rng_() % 10 == 0 ? *it + 1'000'000 : *it;
      std::string market_name = sm.name;
      for (const auto& mk : exchange.markets())
        if (mk.book.find(*it)) market_name = mk.name;
      if (kind < 72) {
        state::CancelOrders cancel;
        cancel.cancels.items.push_back({market_name, oid});
        return {who, cancel};
      }
      state::ModifyOrder mod;
      mod.oid = oid;
      auto placed = std::get<state::PlaceOrders>(place(exchange, *exchange.find_market(market_name)));
      mod.order = placed.orders.items[0];
      return {who, mod};
    }
    if (kind < 88) {
      state::UpdateLeverage lev;
      lev.market = sm.name;
      lev.is_cross = rng_() % 4 != 0;
      lev.leverage = static_cast<std::uint32_t>(1 + rng_() % 30);
      return {who, lev};
    }
    if (kind < 94) {
      state::UsdSend send;
      send.destination = address_of_name("u" + std::to_string(rng_() % kAccounts));
      std::int64_t amount = static_cast<std::int64_t>(1 + rng_() % 5'000) * kMicro;
      send.amount = {state::format_decimal(amount, 6), amount};
      return {who, send};
    }
    state::UpdateIsolatedMargin iso;
    iso.market = sm.name;
    std::int64_t amount = (static_cast<std::int64_t>(rng_() % 2'000) - 1'000) * kMicro;
    iso.amount = {state::format_decimal(amount, 6), amount};
    return {who, iso};
  }

  state::Action place(const Exchange& exchange, MarketIndex m) {
    const SimMarket& sm = markets_[m];
    const Market& market = exchange.markets()[m];
    const bool buy = rng_() % 2 == 0;
    const unsigned style = static_cast<unsigned>(rng_() % 10);
    // Resting orders within 2% of the mark; crossing ones up to 1% through it.
    std::int64_t ticks_away = static_cast<std::int64_t>(rng_() % 200);
    Px offset = market.mark_px / 10'000 * ticks_away / 1;
    Px px = style < 7 ? (buy ? market.mark_px - offset : market.mark_px + offset)
                      : (buy ? market.mark_px + offset / 2 : market.mark_px - offset / 2);
    px = std::max(sm.tick, px / sm.tick * sm.tick);
    // Notional between ~12 and ~20,000 USD.
    std::int64_t target = static_cast<std::int64_t>(12 + rng_() % 20'000) * kMicro;
    Lots lots = std::max<Lots>(1, static_cast<Lots>(static_cast<state::i128>(target) * sm.lots_per_unit / px));
    state::Tif tif = style < 6 ? state::Tif::Gtc : style < 7 ? state::Tif::Alo : state::Tif::Ioc;
    auto spec = order(sm.name, buy, state::format_decimal(px, 6),
                      state::format_decimal(lots, market.sz_decimals), tif, rng_() % 12 == 0);
    if (rng_() % 8 == 0) spec.cloid.bytes[rng_() % 16] = static_cast<std::uint8_t>(1 + rng_() % 3);
    state::PlaceOrders action;
    action.orders.items.push_back(spec);
    return action;
  }

  std::mt19937_64 rng_;
  GenesisState genesis_;
  std::vector<SimMarket> markets_;
  std::int64_t genesis_total_ = 0;
};

// In need of liquidation (the next issue's work): cross free collateral below zero, or an
// isolated position whose margin no longer covers its loss.
bool under_water_now(const Exchange& exchange, const Account& acct) {
  MarginSummary s = exchange.margin_summary(acct);
  if (s.account_value - s.margin_required < 0) return true;
  for (const auto& [m, p] : acct.positions) {
    if (p.is_cross || p.szi == 0) continue;
    const Market& market = exchange.markets()[m];
    const std::int64_t value = static_cast<std::int64_t>(state::div_floor(static_cast<state::i128>(market.mark_px) * p.szi, market.lot_scale));
    if (p.isolated_margin + value - p.cost < 0) return true;
  }
  return false;
}

void check_invariants(const Exchange& exchange, std::int64_t genesis_total) {
  REQUIRE(exchange.total_cash() - exchange.total_cost_basis() == genesis_total);
  for (const Market& market : exchange.markets()) {
    auto bid = market.book.best_bid(), ask = market.book.best_ask();
    if (bid && ask) REQUIRE(*bid < *ask);
    Lots net = 0, longs = 0;
    for (const Account& acct : exchange.accounts()) {
      auto it = acct.positions.find(market.index);
      if (it == acct.positions.end()) continue;
      net += it->second.szi;
      longs += std::max<Lots>(0, it->second.szi);
    }
    REQUIRE(net == 0);
    REQUIRE(longs == market.open_interest);
  }
}

}  // namespace

TEST_CASE("randomized simulation: conservation - uncrossed books - margin - restore", "[simulation]") {
  const std::uint64_t seed = env_or("PERPD_SIM_SEED", std::random_device{}());
  const std::uint64_t blocks = env_or("PERPD_SIM_BLOCKS", 1500);
  WARN("simulation seed " << seed << " blocks " << blocks << " (PERPD_SIM_SEED to replay)");
  Simulation sim(seed);
  Harness a(sim.genesis());
  std::optional<Executor> b(Exchange(sim.genesis()));
  std::set<state::Address> under_water;  // healthy no more after a price move
  std::uint64_t time = sim.genesis().genesis_time_ms;
  std::size_t fills = 0, txs = 0;

  for (std::uint64_t height = 1; height <= blocks; ++height) {
    INFO("seed " << seed << " height " << height);
    Simulation::Step step = sim.next(a.exchange());
    for (auto [m, px] : step.marks) {
      a.exchange().set_mark_px(m, px);
      b->app().set_mark_px(m, px);
    }
    for (const Account& acct : a.exchange().accounts())
      if (under_water_now(a.exchange(), acct)) under_water.insert(acct.address);

    state::Block block;
    time += 1000;
    block.context = {height, time, {}};
    for (auto& [who, action] : step.txs) {
      state::VerifiedAction v;
      v.signed_action.action = action;
      v.signed_action.nonce = time + block.txs.size();
      v.signer = address_of_name(who);
      v.tx_hash = state::keccak256(std::to_string(height) + "/" + std::to_string(block.txs.size()));
      block.txs.push_back(std::move(v));
    }
    txs += block.txs.size();
    auto describe = [&](const Account& acct) {
      MarginSummary s = a.exchange().margin_summary(acct);
      std::string positions;
      for (const auto& [m, p] : acct.positions)
        positions += std::to_string(m) + ":szi=" + std::to_string(p.szi) + ",cost=" + std::to_string(p.cost) +
                     ",lev=" + std::to_string(p.leverage) + (p.is_cross ? "c" : "i") + ",iso=" +
                     std::to_string(p.isolated_margin) + ",bid=" + std::to_string(p.bid_ntl) + ",ask=" +
                     std::to_string(p.ask_ntl) + ",ro=" + std::to_string(p.reduce_only_sz) + " mark=" +
                     std::to_string(a.exchange().markets()[m].mark_px) + "; ";
      return "free=" + std::to_string(s.account_value - s.margin_required) + " av=" + std::to_string(s.account_value) +
             " req=" + std::to_string(s.margin_required) + " usd=" + std::to_string(acct.usd) + " " + positions;
    };
    std::map<state::Address, std::string> before;
    for (const Account& acct : a.exchange().accounts()) before[acct.address] = describe(acct);
    auto result_a = a.executor().execute(block);
    auto result_b = b->execute(block);
    fills += result_a.events.size();
    REQUIRE(result_a.app_hash == result_b.app_hash);

    check_invariants(a.exchange(), sim.genesis_total());
    for (const Account& acct : a.exchange().accounts()) {
      MarginSummary s = a.exchange().margin_summary(acct);
      if (s.account_value - s.margin_required < 0 && !under_water.contains(acct.address)) {
        std::string story;
        for (std::size_t i = 0; i < block.txs.size(); ++i)
          if (block.txs[i].signer == acct.address)
            story += std::string(state::action_type(block.txs[i].signed_action.action)) +
                     (result_a.receipts[i].outcome.ok ? " ok; " : " rejected; ");
        for (const auto& fill : result_a.events)
          if (fill.user == acct.address)
            story += std::string(fill.crossed ? "taker" : "maker") + " fill " + std::to_string(fill.sz) + "@" +
                     std::to_string(fill.px) + "; ";
        FAIL_CHECK("account went under water by trading: free collateral "
                   << s.account_value - s.margin_required << " after: " << story << " BEFORE: "
                   << before[acct.address] << " AFTER: " << describe(acct));
        under_water.insert(acct.address);
      }
    }

    if (height == blocks / 2) {
      state::MemKvStore store;
      REQUIRE(b->save(store).ok());
      auto restored = Executor::restore(store, Exchange(sim.genesis()), height);
      REQUIRE(restored.ok());
      REQUIRE(restored->app_hash() == b->app_hash());
      b.emplace(std::move(*restored));
    }
  }
  WARN("simulated " << blocks << " blocks, " << txs << " txs, " << fills << " fill events, "
                    << under_water.size() << " accounts under water after price moves");
}
