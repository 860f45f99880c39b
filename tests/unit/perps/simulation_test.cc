// Seeded randomized simulation of the exchange: hundreds of accounts, several markets, thousands
// of 3-second blocks of random orders (some of them trigger orders), cancels, modifies, leverage
// changes and transfers, with validators voting oracle prices along random paths (walks, trends,
// gaps, and 20x spikes the clamps must hold), so funding, liquidation, the backstop and
// auto-deleveraging all run.
// Invariants checked after every block:
//   - USD is conserved exactly: cash (balances, isolated margins, fee pool, the vault) minus the
//     open positions' cost bases equals the genesis total, across funding, liquidations, backstop
//     and ADL; positions net to zero per market and open interest equals the longs;
//   - no account has negative equity (cross account value, or an isolated position's margin plus
//     PnL) after the block;
//   - reduce-only orders face their position and together cover at most all of it;
//   - no book is crossed; the mark moved at most 1% and stays within 10x of the day's start;
//   - in a block where no price moved and no funding was paid, no account lost its margin by
//     trading;
//   - a second executor, saved to a store and restored midway, reaches the same app hash.
// PERPD_SIM_SEED=<n> replays a seed; PERPD_SIM_BLOCKS=<n> runs longer (default 2500).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
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
    for (int v = 0; v < kValidators; ++v)
      genesis_.validators.push_back(
          {address_of_name("v" + std::to_string(v)), 10ULL * (v + 1), ""});
    for (const auto& m : genesis_.markets) true_px_.push_back(m.oracle_px);
    // The backstop vault starts with capital, as Hyperliquid's liquidator vault does.
    state::Address vault;
    std::memcpy(vault.data(), kBackstopVaultAddress, 20);
    genesis_.balances.push_back({vault, 100'000 * kMicro, 0});
    genesis_total_ += 100'000 * kMicro;
    for (int i = 0; i < kAccounts; ++i) {
      std::int64_t usd = static_cast<std::int64_t>(10'000 + rng_() % 90'000) * kMicro;
      genesis_.balances.push_back({address_of_name("u" + std::to_string(i)), usd, 0});
      genesis_total_ += usd;
    }
  }

  const GenesisState& genesis() const { return genesis_; }
  std::int64_t genesis_total() const { return genesis_total_; }

  // The next block's transactions: validators' oracle votes, then users' actions.
  struct Step {
    std::vector<std::pair<std::string, state::Action>> txs;
  };
  Step next(const Exchange& exchange) {
    Step step;
    add_votes(step);
    const int count = static_cast<int>(rng_() % 16);
    for (int i = 0; i < count; ++i) step.txs.push_back(random_tx(exchange));
    return step;
  }

  std::size_t spikes() const { return spikes_; }

 private:
  static constexpr int kAccounts = 300;
  static constexpr int kValidators = 4;  // voting power 10, 20, 30, 40

  // Moves each market's true price along its path and has validators vote it: mostly small walks,
  // trends that persist, gaps of 3-8%, and 20x spikes for one round. Sometimes validators holding
  // too little power vote (no quorum), and one validator sometimes votes nonsense.
  void add_votes(Step& step) {
    if (rng_() % 4 == 0) return;  // not every block carries votes
    state::OracleVote vote;
    std::vector<Px> quoted;
    for (std::size_t m = 0; m < markets_.size(); ++m) {
      const unsigned regime = static_cast<unsigned>(rng_() % 100);
      Px& px = true_px_[m];
      if (regime < 5) trend_[m] = static_cast<int>(rng_() % 21) - 10;  // bp per round
      std::int64_t bp = static_cast<std::int64_t>(rng_() % 61) - 30 + trend_[m];
      if (regime >= 95) bp = (rng_() % 2 ? 1 : -1) * static_cast<std::int64_t>(300 + rng_() % 500);
      px = std::max<Px>(1'000, px + static_cast<Px>(static_cast<state::i128>(px) * bp / 10'000));
      Px q = px;
      if (regime == 94) {
        q = rng_() % 2 ? px * 20 : px / 20;  // a spike: every validator, one round
        ++spikes_;
      }
      quoted.push_back(q);
    }
    const int voters = rng_() % 10 == 0 ? 2 : kValidators;  // v0 + v1 hold 30 of 100
    for (int v = 0; v < voters; ++v) {
      vote.pxs.items.clear();
      for (std::size_t m = 0; m < markets_.size(); ++m) {
        Px q = quoted[m];
        if (v == 0 && rng_() % 5 == 0) q = q * 5;  // a faulty validator, outvoted
        q += static_cast<Px>(static_cast<state::i128>(q) *
                             (static_cast<std::int64_t>(rng_() % 11) - 5) / 10'000);
        vote.pxs.items.push_back({markets_[m].name, {state::format_decimal(q, 6), q}});
      }
      step.txs.emplace_back("v" + std::to_string(v), vote);
    }
  }

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
      auto placed =
          std::get<state::PlaceOrders>(place(exchange, *exchange.find_market(market_name)));
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
    Lots lots = std::max<Lots>(
        1, static_cast<Lots>(static_cast<state::i128>(target) * sm.lots_per_unit / px));
    state::Tif tif = style < 6 ? state::Tif::Gtc : style < 7 ? state::Tif::Alo : state::Tif::Ioc;
    auto spec = order(sm.name, buy, state::format_decimal(px, 6),
                      state::format_decimal(lots, market.sz_decimals), tif, rng_() % 12 == 0);
    if (rng_() % 8 == 0) spec.cloid.bytes[rng_() % 16] = static_cast<std::uint8_t>(1 + rng_() % 3);
    if (rng_() % 10 == 0) {  // a trigger order at the same price: fires now or on a later move
      spec.tpsl = rng_() % 2 == 0 ? state::TpSl::Tp : state::TpSl::Sl;
      spec.trigger_px = {state::format_decimal(px, 6), px};
    }
    state::PlaceOrders action;
    action.orders.items.push_back(spec);
    return action;
  }

  std::mt19937_64 rng_;
  std::vector<Px> true_px_;
  int trend_[3] = {0, 0, 0};
  std::size_t spikes_ = 0;
  GenesisState genesis_;
  std::vector<SimMarket> markets_;
  std::int64_t genesis_total_ = 0;
};

std::int64_t free_collateral(const Exchange& exchange, const Account& acct) {
  const MarginSummary s = exchange.margin_summary(acct);
  return s.account_value - s.margin_required;
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
    REQUIRE(market.mark_px >= (market.day_start_px + 9) / 10);
    REQUIRE(market.mark_px <= market.day_start_px * 10);
    REQUIRE(market.oracle_px >= (market.day_start_px + 9) / 10);
    REQUIRE(market.oracle_px <= market.day_start_px * 10);
  }
  // No account is left with negative equity; reduce-only orders only ever face the position,
  // and together cover no more of it than there is.
  for (const Account& acct : exchange.accounts()) {
    INFO("account " << state::to_hex(acct.address));
    REQUIRE(exchange.margin_summary(acct).account_value >= 0);
    std::map<MarketIndex, Lots> reduce_only;
    for (OrderId oid : acct.orders)
      for (const Market& market : exchange.markets())
        if (const RestingOrder* o = market.book.find(oid); o && o->reduce_only) {
          const Lots szi = acct.positions.at(market.index).szi;
          REQUIRE((o->side == Side::Ask ? szi > 0 : szi < 0));
          reduce_only[market.index] += o->sz;
        }
    for (const auto& [m, p] : acct.positions) {
      REQUIRE(p.reduce_only_sz == reduce_only[m]);
      REQUIRE(p.reduce_only_sz <= (p.szi < 0 ? -p.szi : p.szi));
    }
    for (const auto& [m, p] : acct.positions) {
      if (p.is_cross || p.szi == 0) continue;
      REQUIRE(p.isolated_margin + position_margin(exchange.markets()[m], p).upnl >= 0);
    }
  }
}

}  // namespace

TEST_CASE("randomized simulation: conservation - solvency - clamps - uncrossed books - restore",
          "[simulation]") {
  const std::uint64_t seed = env_or("PERPD_SIM_SEED", std::random_device{}());
  const std::uint64_t blocks = env_or("PERPD_SIM_BLOCKS", 2500);
  WARN("simulation seed " << seed << " blocks " << blocks << " (PERPD_SIM_SEED to replay)");
  Simulation sim(seed);
  Harness a(sim.genesis());
  std::optional<Executor> b(Exchange(sim.genesis()));
  std::uint64_t time = sim.genesis().genesis_time_ms;
  std::size_t txs = 0, fills = 0, settlements = 0;
  std::map<LiquidationMethod, std::size_t> liquidation_fills;
  const state::Address vault = a.exchange().backstop_vault().address;

  for (std::uint64_t height = 1; height <= blocks; ++height) {
    INFO("seed " << seed << " height " << height);
    Simulation::Step step = sim.next(a.exchange());
    state::Block block;
    time += 3000;
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

    std::vector<Px> marks_before;
    std::size_t funding_before = 0;
    for (const Market& m : a.exchange().markets()) {
      marks_before.push_back(m.mark_px);
      funding_before += m.funding_history.size();
    }
    std::map<state::Address, std::int64_t> free_before;
    for (const Account& acct : a.exchange().accounts())
      free_before[acct.address] = free_collateral(a.exchange(), acct);

    auto result_a = a.executor().execute(block);
    auto result_b = b->execute(block);
    REQUIRE(result_a.app_hash == result_b.app_hash);
    fills += result_a.events.size();
    for (const auto& fill : result_a.events) ++liquidation_fills[fill.liquidation];

    check_invariants(a.exchange(), sim.genesis_total());
    bool prices_moved = false;
    std::size_t funding_after = 0;
    for (const Market& m : a.exchange().markets()) {
      const Px before = marks_before[m.index];
      REQUIRE(std::abs(m.mark_px - before) <= before / 100 + 1);  // the 1% move clamp
      prices_moved |= m.mark_px != before;
      funding_after += m.funding_history.size();
    }
    settlements += funding_after - funding_before;
    if (!prices_moved && funding_after == funding_before) {
      for (const Account& acct : a.exchange().accounts()) {
        if (acct.address == vault) continue;
        auto it = free_before.find(acct.address);
        const std::int64_t free = free_collateral(a.exchange(), acct);
        if (free < 0 && (it == free_before.end() || it->second >= 0))
          FAIL("account lost its margin by trading: free collateral " << free);
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
  std::size_t triggers_waiting = 0;
  for (const Account& acct : a.exchange().accounts()) triggers_waiting += acct.triggers.size();
  WARN("simulated " << blocks << " blocks (" << blocks * 3 / 60 << " min), " << txs << " txs, "
                    << fills << " fill events, " << settlements << " funding settlements, "
                    << sim.spikes() << " spiked votes; liquidation fills: market "
                    << liquidation_fills[LiquidationMethod::Market] << ", backstop "
                    << liquidation_fills[LiquidationMethod::Backstop] << ", adl "
                    << liquidation_fills[LiquidationMethod::Adl] << "; trigger orders waiting "
                    << triggers_waiting);
}
