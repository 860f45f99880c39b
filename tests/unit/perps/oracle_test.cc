// Oracle and mark price: the pure functions with hand-worked numbers, then validator votes driving
// an exchange (stake-weighted median, quorum, staleness, spacing, clamps, the EMA of mid - oracle).
// Prices in micro-dollars; BTC mark 50,000 at genesis.
#include <catch2/catch.hpp>

#include "exchange_harness.h"
#include "perps/oracle.h"
#include "perps/protocol_constants.h"

using namespace perps;
using namespace perps::testing;
using state::Reason;

namespace {
constexpr MarketIndex kBtc = 0;
constexpr std::int64_t kUsd = 1'000'000;

// Validators v0..v3 with voting power 10, 20, 30, 40 (total 100).
GenesisState voting_genesis() {
  GenesisState g = test_genesis();
  for (int v = 0; v < 4; ++v)
    g.validators.push_back({address_of_name("v" + std::to_string(v)), 10ULL * (v + 1), ""});
  return g;
}

state::OracleVote vote(std::string px) {
  state::OracleVote v;
  v.pxs.items.push_back({"BTC", {px, *state::parse_decimal(px, 6, state::Sign::Unsigned)}});
  return v;
}

// One block holding the given validators' votes for BTC.
void votes(Harness& h, std::vector<std::pair<int, std::string>> by_validator) {
  std::vector<std::pair<std::string, state::Action>> txs;
  for (auto& [v, px] : by_validator) txs.emplace_back("v" + std::to_string(v), vote(px));
  auto result = h.block(std::move(txs));
  for (const auto& r : result.receipts) REQUIRE(r.outcome.ok);
}
}  // namespace

TEST_CASE("weighted median: the lower median by cumulative weight", "[oracle]") {
  // Sorted: 100 (10), 101 (30), 102 (20), 150 (40); cumulative 10, 40, 60 >= 100 / 2 at 102.
  std::vector<WeightedPrice> prices = {{100, 10}, {102, 20}, {101, 30}, {150, 40}};
  CHECK(weighted_median(prices) == 102);
  // Two equal halves: the lower one.
  std::vector<WeightedPrice> halves = {{200, 50}, {100, 50}};
  CHECK(weighted_median(halves) == 100);
  std::vector<WeightedPrice> none;
  CHECK(!weighted_median(none));
}

TEST_CASE("median3 falls back to the oracle for a missing input", "[oracle]") {
  CHECK(median3(1, 3, 2, 0) == 2);
  CHECK(median3(std::nullopt, 110, 90, 100) == 100);  // bid missing: (100, 110, 90) -> 100
  CHECK(median3(std::nullopt, std::nullopt, 120, 100) == 100);
}

TEST_CASE("time EMA: the first sample sets it - later samples move it by dt over window plus dt",
          "[oracle]") {
  TimeEma ema;
  ema.sample(10, 1'000, 150'000);
  CHECK(ema.value == 10);
  // 150 s later with sample 40: 10 + (40 - 10) * 150,000 / 300,000 = 25.
  ema.sample(40, 151'000, 150'000);
  CHECK(ema.value == 25);
  // 15 s later with sample -85: 25 + (-110) * 15,000 / 165,000 = 25 - 10 = 15.
  ema.sample(-85, 166'000, 150'000);
  CHECK(ema.value == 15);
  // A second sample at the same instant adds no weight.
  ema.sample(1'000, 166'000, 150'000);
  CHECK(ema.value == 15);
}

TEST_CASE("clamps: 1% from the previous mark and 10x around the start of day", "[oracle]") {
  CHECK(clamp_move(110 * kUsd, 100 * kUsd, kMarkMoveClamp) == 101 * kUsd);
  CHECK(clamp_move(90 * kUsd, 100 * kUsd, kMarkMoveClamp) == 99 * kUsd);
  CHECK(clamp_move(100'500'000, 100 * kUsd, kMarkMoveClamp) == 100'500'000);
  CHECK(clamp_to_day_range(2'000 * kUsd, 100 * kUsd, kOracleRangeFactor) == 1'000 * kUsd);
  CHECK(clamp_to_day_range(1 * kUsd, 100 * kUsd, kOracleRangeFactor) == 10 * kUsd);
  // Near the top of the range the upper bound saturates instead of wrapping around.
  const Px huge = std::numeric_limits<Px>::max() / 4;
  CHECK(clamp_to_day_range(std::numeric_limits<Px>::max(), huge, kOracleRangeFactor) ==
        std::numeric_limits<Px>::max());
}

TEST_CASE("oracle votes: stake-weighted median of fresh votes moves oracle and mark", "[oracle]") {
  Harness h(voting_genesis());
  // Votes at t+1 s: 50,000 (10), 50,200 (20), 50,100 (30), 70,000 (40). Sorted with cumulative
  // power: 50,000 (10), 50,100 (40), 50,200 (60): the median is 50,200.
  votes(h, {{0, "50000"}, {1, "50200"}, {2, "50100"}, {3, "70000"}});
  const Market& btc = h.exchange().markets()[kBtc];
  // Oracle updates are at least 2.5 s apart (genesis counts as one): not yet at t+1 s.
  CHECK(btc.oracle_px == 50'000 * kUsd);
  CHECK(btc.votes_pending);
  h.block({});  // t+2 s
  CHECK(btc.oracle_px == 50'000 * kUsd);
  h.block({});  // t+3 s: the update
  CHECK(btc.oracle_px == 50'200 * kUsd);
  CHECK(!btc.votes_pending);
  // Empty book, no trade: mark = mean(oracle + 0, median(oracle, oracle, oracle)) = 50,200, within
  // 1% of 50,000.
  CHECK(btc.mark_px == 50'200 * kUsd);
  CHECK(btc.prev_mark_px == 50'000 * kUsd);
}

TEST_CASE("oracle votes: no update without more than 2/3 of the power or with stale votes",
          "[oracle]") {
  Harness h(voting_genesis());
  const Market& btc = h.exchange().markets()[kBtc];
  // v2 + v3 hold 70 of 100: enough. Median of 51,000 (30), 52,000 (40): cumulative 30, 70 ->
  // 52,000.
  votes(h, {{2, "51000"}, {3, "52000"}});
  h.block({});
  h.block({});
  CHECK(btc.oracle_px == 52'000 * kUsd);
  // Mark moves at most 1% per update: 50,500.
  CHECK(btc.mark_px == 50'500 * kUsd);
  // 11 s later only v3 votes (40 of 100; v2's vote is stale): the oracle stays.
  for (int i = 0; i < 8; ++i) h.block({});
  votes(h, {{3, "60000"}});
  for (int i = 0; i < 3; ++i) h.block({});
  CHECK(btc.oracle_px == 52'000 * kUsd);
  CHECK(btc.mark_px == 50'500 * kUsd);
}

TEST_CASE("oracle votes: a 12x spike is held to 10x the start of day and the mark to 1% per update",
          "[oracle]") {
  Harness h(voting_genesis());
  h.set_block_interval(3'000);
  const Market& btc = h.exchange().markets()[kBtc];
  votes(h, {{0, "600000"}, {1, "600000"}, {2, "600000"}, {3, "600000"}});
  CHECK(btc.oracle_px == 500'000 * kUsd);  // start of day 50,000 * 10
  CHECK(btc.mark_px == 50'500 * kUsd);
  votes(h, {{0, "600000"}, {1, "600000"}, {2, "600000"}, {3, "600000"}});
  CHECK(btc.mark_px == 51'005 * kUsd);  // 50,500 * 1.01
}

TEST_CASE("mark: mean of oracle plus the mid EMA and the book median", "[oracle]") {
  Harness h(voting_genesis());
  h.set_block_interval(3'000);
  // Book: bid 50,100, ask 50,300 (mid 50,200); no trade yet.
  h.place("A", order("BTC", true, "50100", "0.1"));
  h.place("B", order("BTC", false, "50300", "0.1"));
  votes(h, {{0, "50000"}, {1, "50000"}, {2, "50000"}, {3, "50000"}});
  const Market& btc = h.exchange().markets()[kBtc];
  // EMA starts at mid - oracle = 200: oracle + EMA = 50,200. Book median of (50,100, 50,300,
  // oracle 50,000 for the missing last trade) = 50,100. Mark = (50,200 + 50,100) / 2 = 50,150.
  CHECK(btc.mid_ema.value == 200 * kUsd);
  CHECK(btc.mark_px == 50'150 * kUsd);
}

TEST_CASE("oracle votes: only validators - only known markets - prices positive", "[oracle]") {
  Harness h(voting_genesis());
  auto r = h.act("A", vote("50000"));
  CHECK(!r.outcome.ok);
  CHECK(r.outcome.reason == Reason::NotValidator);
  state::OracleVote unknown;
  unknown.pxs.items.push_back({"DOGE", {"1", 1'000'000}});
  r = h.act("v0", unknown);
  CHECK(r.outcome.reason == Reason::UnknownMarket);
  r = h.act("v0", vote("0"));
  CHECK(r.outcome.reason == Reason::InvalidPrice);
  CHECK(!h.exchange().markets()[kBtc].votes_pending);
}
