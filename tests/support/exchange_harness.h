// Drives an Exchange through a BlockExecutor with readable helpers: named traders, orders from
// decimal strings, one block per call. Signatures are not involved: execution takes verified
// actions, so the harness builds VerifiedAction with the signer set directly.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "perps/exchange.h"
#include "state/block_executor.h"
#include "state/keccak.h"

namespace perps::testing {

using Executor = state::BlockExecutor<Exchange>;

inline state::Address address_of_name(std::string_view name) {
  state::Hash256 h = state::keccak256(name);
  state::Address a;
  std::memcpy(a.data(), h.data(), 20);
  return a;
}

// BTC: 3 size decimals, max leverage 50, mark 50,000; ETH: 2 size decimals, max leverage 25.
inline GenesisState test_genesis(std::int64_t usd_each = 100'000'000'000,
                                 std::vector<std::string> names = {"A", "B", "C"}) {
  GenesisState g;
  g.chain_id = 1337;
  g.genesis_time_ms = 1'767'225'600'000;
  g.markets = {{"BTC", 3, 50, 50'000'000'000, 20'000'000'000, {}},
               {"ETH", 2, 25, 3'000'000'000, 20'000'000'000, {}}};
  for (const auto& n : names) g.balances.push_back({address_of_name(n), usd_each, 0});
  return g;
}

inline state::OrderSpec order(std::string market, bool buy, std::string px, std::string sz,
                              state::Tif tif = state::Tif::Gtc, bool reduce_only = false) {
  state::OrderSpec o;
  o.market = std::move(market);
  o.is_buy = buy;
  o.px = {px, *state::parse_decimal(px, 6, state::Sign::Unsigned)};
  o.sz = {sz, *state::parse_decimal(sz, 6, state::Sign::Unsigned)};
  o.tif = tif;
  o.reduce_only = reduce_only;
  return o;
}

// spec as a trigger order: it waits outside the book until the mark reaches trigger_px.
inline state::OrderSpec trigger_order(state::OrderSpec spec, std::string trigger_px,
                                      state::TpSl tpsl) {
  const std::int64_t units = *state::parse_decimal(trigger_px, 6, state::Sign::Unsigned);
  spec.trigger_px = {std::move(trigger_px), units};
  spec.tpsl = tpsl;
  return spec;
}

class Harness {
 public:
  explicit Harness(const GenesisState& genesis = test_genesis())
      : executor_(Exchange(genesis)), time_(genesis.genesis_time_ms) {}

  Executor& executor() { return executor_; }
  Exchange& exchange() { return executor_.app(); }

  // One tx in its own block.
  state::Receipt<Exchange::Response> act(std::string_view who, state::Action action) {
    return block({{std::string(who), std::move(action)}}).receipts.at(0);
  }
  Executor::BlockResult block(std::vector<std::pair<std::string, state::Action>> txs) {
    state::Block b;
    time_ += interval_ms_;
    b.context = {++height_, time_, {}};
    for (auto& [who, action] : txs) {
      state::VerifiedAction v;
      v.signed_action.action = std::move(action);
      v.signed_action.nonce = time_ + (nonce_bump_++);
      v.signer = address_of_name(who);
      v.tx_hash = state::keccak256(std::to_string(height_) + "/" + std::to_string(nonce_bump_));
      b.txs.push_back(std::move(v));
    }
    auto result = executor_.execute(b);
    for (const FillEvent& fill : result.events) fills_[fill.user].push_back(fill);
    return result;
  }
  // Every fill of the user so far, oldest first (the node stores them per user and block).
  const std::vector<FillEvent>& fills_of(std::string_view who) {
    return fills_[address_of_name(who)];
  }
  OrderStatus place(std::string_view who, state::OrderSpec spec) {
    state::PlaceOrders p;
    p.orders.items.push_back(std::move(spec));
    auto receipt = act(who, p);
    return receipt.outcome.response.at(0);
  }
  // updateLeverage as who, cross or isolated; true when accepted.
  bool set_leverage(std::string_view who, std::string market, std::uint32_t leverage,
                    bool cross = true) {
    state::UpdateLeverage lev;
    lev.market = std::move(market);
    lev.is_cross = cross;
    lev.leverage = leverage;
    return act(who, lev).outcome.ok;
  }
  const Account& account(std::string_view who) {
    return *exchange().find_account(address_of_name(who));
  }
  const Position& position(std::string_view who, MarketIndex m) {
    return account(who).positions.at(m);
  }
  std::uint64_t time() const { return time_; }
  // Block time advances by this much per block (default one second).
  void set_block_interval(std::uint64_t ms) { interval_ms_ = ms; }

 private:
  Executor executor_;
  std::map<state::Address, std::vector<FillEvent>> fills_;
  std::uint64_t time_;
  std::uint64_t height_ = 0;
  std::uint64_t nonce_bump_ = 0;
  std::uint64_t interval_ms_ = 1000;
};

}  // namespace perps::testing
