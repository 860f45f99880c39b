// Funding: impact prices, premium, the rate function with its clamp and cap, payments with their
// rounding, and hourly settlement on an exchange. Hyperliquid's published numbers: with
// r = 0.01% and c = 0.05% per 8 h, a 5 bp premium on a 50,000 USD long pays 0.625 USD per hour;
// with c = 0 it pays 3.125 USD; a 50% premium is capped at 4% per hour.
#include <catch2/catch.hpp>

#include "exchange_harness.h"
#include "perps/funding.h"
#include "perps/protocol_constants.h"

using namespace perps;
using namespace perps::testing;

namespace {
constexpr MarketIndex kBtc = 0;
constexpr std::int64_t kUsd = 1'000'000;
constexpr std::int64_t kBp = kFractionOne / 10'000;  // one basis point as a 1e-8 fraction
const FundingParams kCore{kCoreInterestRate8h, kCoreClamp8h, kCoreMultiplier, 1};
}  // namespace

TEST_CASE("funding rate: Hyperliquid's numbers - 0.625 and 3.125 USD per hour - the 4% cap",
          "[funding]") {
  // P = 5 bp: F = P + clamp(1 bp - 5 bp, -5 bp, +5 bp) = 5 - 4 = 1 bp per 8 h.
  CHECK(funding_rate_8h(5 * kBp, kCore) == 1 * kBp);
  // Hourly on 1 BTC at 50,000: 50,000 * 0.0001 / 8 = 0.625 USD. (1 BTC = 1,000 lots.)
  CHECK(funding_payment(1'000, 50'000 * kUsd, 1'000, 1 * kBp, 1) == 625'000);
  CHECK(funding_payment(-1'000, 50'000 * kUsd, 1'000, 1 * kBp, 1) ==
        -625'000);  // the short receives
  // c = 0: F = P = 5 bp; 50,000 * 0.0005 / 8 = 3.125 USD.
  FundingParams no_clamp = kCore;
  no_clamp.clamp_8h = 0;
  CHECK(funding_rate_8h(5 * kBp, no_clamp) == 5 * kBp);
  CHECK(funding_payment(1'000, 50'000 * kUsd, 1'000, 5 * kBp, 1) == 3'125'000);
  // P = 50%: F = 0.5 - 0.0005 = 49.95% per 8 h, held to 32% (4% per hour): 2,000 USD per hour.
  CHECK(funding_rate_8h(5'000 * kBp, kCore) == 32 * kFractionOne / 100);
  CHECK(funding_payment(1'000, 50'000 * kUsd, 1'000, funding_rate_8h(5'000 * kBp, kCore), 1) ==
        2'000 * kUsd);
  CHECK(funding_rate_8h(-5'000 * kBp, kCore) == -32 * kFractionOne / 100);
  // An 8-hour interval pays the whole F: 50,000 * 0.0001 = 5 USD.
  CHECK(funding_payment(1'000, 50'000 * kUsd, 1'000, 1 * kBp, 8) == 5 * kUsd);
  // Zero premium: F = r = 1 bp (the interest rate alone, within the clamp).
  CHECK(funding_rate_8h(0, kCore) == 1 * kBp);
}

TEST_CASE("funding payment rounding: payers round up - receivers toward zero", "[funding]") {
  // 1 lot (0.001 BTC) at 50,001: 50.001 * 0.0001 / 8 = 0.0006250125 USD = 625.0125 micro-dollars.
  CHECK(funding_payment(1, 50'001 * kUsd, 1'000, 1 * kBp, 1) == 626);
  CHECK(funding_payment(-1, 50'001 * kUsd, 1'000, 1 * kBp, 1) == -625);
  // Negative rate: the long receives, the short pays.
  CHECK(funding_payment(1, 50'001 * kUsd, 1'000, -1 * kBp, 1) == -625);
  CHECK(funding_payment(-1, 50'001 * kUsd, 1'000, -1 * kBp, 1) == 626);
}

TEST_CASE("impact price: average over the impact notional - premium from it", "[funding]") {
  Harness h;
  // Bids: 0.2 @ 50,100 and 0.5 @ 50,000. Selling 20,000 USD: 0.2 @ 50,100 = 10,020, then
  // 9,980 / 50,000 = 0.1996 -> 0.2 (whole lots, rounded up) @ 50,000. Average
  // (10,020 + 10,000) / 0.4 = 50,050.
  h.place("A", order("BTC", true, "50100", "0.2"));
  h.place("A", order("BTC", true, "50000", "0.5"));
  const OrderBook& book = h.exchange().markets()[kBtc].book;
  CHECK(impact_price(book, Side::Bid, 20'000 * kUsd, 1'000) == 50'050 * kUsd);
  CHECK(!impact_price(book, Side::Bid, 40'000 * kUsd, 1'000));  // only 35,020 USD of bids
  CHECK(!impact_price(book, Side::Ask, 20'000 * kUsd, 1'000));
  // Premium at oracle 50,000: (50,050 - 50,000) / 50,000 = 0.1% = 100,000e-8; no asks: no second
  // term.
  CHECK(core_premium(50'050 * kUsd, std::nullopt, 50'000 * kUsd) == 100'000);
  // Asks below the oracle pull it down: (0 - (50,000 - 49,975)) / 50,000 = -0.05%.
  CHECK(core_premium(std::nullopt, 49'975 * kUsd, 50'000 * kUsd) == -50'000);
  CHECK(core_premium(49'990 * kUsd, 50'010 * kUsd, 50'000 * kUsd) == 0);
}

TEST_CASE("hourly settlement: a 5 bp premium held for an hour pays 0.625 USD per BTC",
          "[funding]") {
  Harness h(test_genesis(100'000 * kUsd, {"A", "B", "C"}));
  h.set_block_interval(5'000);
  // In the first block, so every sample of the hour sees the same book: A goes long 1 BTC
  // against B's ask at 50,000; C quotes bid 50,025 (0.5) and ask 50,030. Impact bid 50,025 (0.4
  // BTC = 20,010 USD covers 20,000), impact ask 50,030 >= oracle: premium (25 - 0) / 50,000 = 5 bp.
  auto one = [](state::OrderSpec spec) {
    state::PlaceOrders p;
    p.orders.items.push_back(std::move(spec));
    return p;
  };
  h.block({{"B", one(order("BTC", false, "50000", "1"))},
           {"A", one(order("BTC", true, "50000", "1", state::Tif::Ioc))},
           {"C", one(order("BTC", true, "50025", "0.5"))},
           {"C", one(order("BTC", false, "50030", "0.5"))}});
  REQUIRE(h.position("A", kBtc).szi == 1'000);
  const Market& btc = h.exchange().markets()[kBtc];
  while (h.time() + 5'000 < btc.next_funding_ms) h.block({});
  const std::int64_t a_before = h.account("A").usd, b_before = h.account("B").usd;
  const std::int64_t pool_before = h.exchange().fee_pool();
  h.block({});  // the block at the hour boundary
  REQUIRE(btc.funding_history.size() == 1);
  const FundingRecord& f = btc.funding_history[0];
  CHECK(f.time_ms == test_genesis().genesis_time_ms + kHourMs);
  CHECK(f.premium == 5 * kBp);
  CHECK(f.rate_8h == 1 * kBp);
  CHECK(h.account("A").usd == a_before - 625'000);
  CHECK(h.account("B").usd == b_before + 625'000);
  CHECK(h.exchange().fee_pool() == pool_before);  // sizes balance exactly: no residue
  CHECK(h.position("A", kBtc).cum_funding == 625'000);
  CHECK(h.position("B", kBtc).cum_funding == -625'000);
  // The next interval starts afresh.
  CHECK(btc.premium_samples == 0);
  CHECK(btc.next_funding_ms == f.time_ms + kHourMs);
  auto json = funding_history_to_json(h.exchange(), kBtc, 0, UINT64_MAX);
  CHECK(boost::json::serialize(json) ==
        R"([{"market":"BTC","time":1767229200000,"fundingRate":"0.0000125","premium":"0.0005"}])");
}

TEST_CASE(
    "funding over a day: 24 settlements along an oracle path - exact payments - USD conserved",
    "[funding]") {
  GenesisState g = test_genesis(100'000 * kUsd, {"A", "B", "C"});
  for (int v = 0; v < 3; ++v)
    g.validators.push_back({address_of_name("v" + std::to_string(v)), 1, ""});
  Harness h(g);
  h.set_block_interval(5'000);
  h.place("B", order("BTC", false, "50000", "0.3"));
  h.place("A", order("BTC", true, "50000", "0.3", state::Tif::Ioc));
  // A fixed book around 50,000: bid 50,040, ask 50,060, deep enough for the impact notional.
  h.place("C", order("BTC", true, "50040", "1"));
  h.place("C", order("BTC", false, "50060", "1"));
  const Market& btc = h.exchange().markets()[kBtc];
  const std::int64_t start_total = h.exchange().total_cash();
  std::int64_t a_paid = 0, b_paid = 0;
  // Each hour the validators move the oracle along a path: a 40-minute vote sets it for the
  // settlement, so premiums differ hour by hour (impact bid 50,040 against the oracle).
  const Px path[24] = {49'900, 49'950, 50'000, 50'010, 50'020, 50'030, 50'040, 50'100,
                       50'200, 50'000, 49'800, 49'700, 49'600, 49'990, 50'050, 50'070,
                       50'000, 49'980, 49'960, 49'940, 50'010, 50'030, 50'000, 49'900};
  for (int hour = 0; hour < 24; ++hour) {
    const std::uint64_t boundary = btc.next_funding_ms;
    // Vote once, right after the previous settlement: the oracle holds for the whole interval.
    state::OracleVote vote;
    const Px px = path[hour] * kUsd;
    vote.pxs.items.push_back({"BTC", {state::format_decimal(px, 6), px}});
    h.block({{"v0", vote}, {"v1", vote}, {"v2", vote}});
    REQUIRE(btc.oracle_px == px);
    while (h.time() + 5'000 < boundary) h.block({});
    const std::int64_t a0 = h.account("A").usd, b0 = h.account("B").usd;
    h.block({});
    REQUIRE(btc.funding_history.size() == static_cast<std::size_t>(hour + 1));
    const FundingRecord& f = btc.funding_history.back();
    // From the second hour on, every sample of the interval saw this oracle and the same book
    // (the vote block updates the oracle before it samples), so the average is that premium.
    if (hour > 0) CHECK(f.premium == core_premium(50'040 * kUsd, 50'060 * kUsd, px));
    CHECK(f.rate_8h == funding_rate_8h(f.premium, kCore));
    const std::int64_t a_pay = funding_payment(300, px, 1'000, f.rate_8h, 1);
    const std::int64_t b_pay = funding_payment(-300, px, 1'000, f.rate_8h, 1);
    CHECK(h.account("A").usd == a0 - a_pay);
    CHECK(h.account("B").usd == b0 - b_pay);
    a_paid += a_pay;
    b_paid += b_pay;
  }
  CHECK(h.position("A", kBtc).cum_funding == a_paid);
  CHECK(h.position("B", kBtc).cum_funding == b_paid);
  // What A and B paid net went to the fee pool as rounding residue (never negative).
  CHECK(a_paid + b_paid >= 0);
  CHECK(h.exchange().total_cash() == start_total);
}
