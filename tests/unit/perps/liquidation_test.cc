// Liquidation, the backstop vault and auto-deleveraging, with every number worked by hand.
// BTC here: 3 size decimals (1 lot = 0.001 BTC), max leverage 20, so maintenance margin is
// notional / 40 (2.5%); marks are set directly, as an oracle update would.
#include <catch2/catch.hpp>

#include "exchange_harness.h"
#include "perps/liquidation.h"
#include "perps/protocol_constants.h"

using namespace perps;
using namespace perps::testing;
using state::Tif;

namespace {
constexpr MarketIndex kBtc = 0;
constexpr std::int64_t kUsd = 1'000'000;

GenesisState liquidation_genesis() {
  GenesisState g;
  g.chain_id = 1337;
  g.genesis_time_ms = 1'767'225'600'000;
  g.markets = {{"BTC", 3, 20, 50'000 * kUsd, 20'000 * kUsd, {}}};
  g.balances = {{address_of_name("A"), 1'010 * kUsd, 0},
                {address_of_name("B"), 1'000'000 * kUsd, 0},
                {address_of_name("C"), 10'000 * kUsd, 0},
                {address_of_name("D"), 100'000 * kUsd, 0},
                {address_of_name("E"), 8'000 * kUsd, 0}};
  return g;
}

// A goes 10x long 0.2 BTC at 50,000 against B: notional 10,000, taker fee 4.5, so A keeps 1,005.5.
void open_ten_x_long(Harness& h) {
  REQUIRE(h.set_leverage("A", "BTC", 10));
  REQUIRE(h.place("B", order("BTC", false, "50000", "0.2")).kind == OrderStatus::Kind::Resting);
  REQUIRE(h.place("A", order("BTC", true, "50000", "0.2", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  REQUIRE(h.account("A").usd == 1'005'500'000);
}

// who goes 20x isolated long 3 BTC at 50,000 against B: margin 7,500 moves into the position,
// taker fee 67.5 comes out of the cash.
void open_isolated_long(Harness& h, std::string_view who) {
  REQUIRE(h.set_leverage(who, "BTC", 20, false));
  h.place("B", order("BTC", false, "50000", "3"));
  REQUIRE(h.place(who, order("BTC", true, "50000", "3", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
}

void set_mark(Harness& h, Px px) {
  h.exchange().set_mark_px(kBtc, px);
  h.block({});  // the end of this block liquidates
}
}  // namespace

TEST_CASE("liquidation price: where account value meets maintenance", "[liquidation]") {
  Harness h(liquidation_genesis());
  open_ten_x_long(h);
  // p = (szi * mark - cover * lot) * 2L / (2L * szi - |szi|) with cover = 1,005.5 (no other
  // positions), L = 20: (200 * 50,000 - 1,005.5 * 1,000) * 40 / 7,800 = 46,125.641025...
  // Check: at 46,125.641025 the position is worth 9,225.128, A's value 1,005.5 - 774.872 = 230.628,
  // maintenance 9,225.128 / 40 = 230.628.
  CHECK(h.exchange().liquidation_px(h.account("A"), kBtc) == 46'125'641'025);
  // A short of 0.2 with the same cover: (-10,000 - 1,005.5) * 1,000 * 40 / -8,200 =
  // 53,685.365853...; there the short is worth -10,737.07, value 268.43 = maintenance.
  CHECK(liquidation_price(-200, 50'000 * kUsd, 1'000, 1'005'500'000, 20) == 53'685'365'853);
  CHECK(!liquidation_price(0, 50'000 * kUsd, 1'000, 1'000, 20));
}

TEST_CASE("a 10x long below maintenance is liquidated through the book", "[liquidation]") {
  Harness h(liquidation_genesis());
  open_ten_x_long(h);
  h.place("A", order("BTC", true, "40000", "0.01"));  // an open order the liquidation cancels
  h.place("B", order("BTC", true, "45900", "0.5"));
  // Mark 46,000: value 9,200, unrealized -800, account value 205.5 < maintenance 230, and above
  // 2/3 of it (153.33): sent to the book. Notional under 100,000: the whole position.
  // The limit keeps A solvent: it may lose 205.5 - 4.14 (fee) against the mark, 1,006.8 per BTC,
  // less than the 10% slippage bound: sell 0.2 at 44,993.2 or better, 44,994 on the grid.
  set_mark(h, 46'000 * kUsd);
  CHECK(h.account("A").positions.at(kBtc).szi == 0);
  CHECK(h.account("A").orders.empty());
  // Filled at B's bid 45,900: 9,180, realized -820, taker fee 4.131: 1,005.5 - 820 - 4.131.
  CHECK(h.account("A").usd == 181'369'000);
  CHECK(h.position("B", kBtc).szi == 0);  // B was short 0.2: the bid closed it
  const auto& fills = h.fills_of("A");
  REQUIRE(fills.size() == 2);
  CHECK(fills[1].liquidation == LiquidationMethod::Market);
  CHECK(fills[1].liquidated_user == address_of_name("A"));
  CHECK(fills[1].liquidation_mark_px == 46'000 * kUsd);
  CHECK(fills[1].px == 45'900 * kUsd);
  CHECK(fills[1].closed_pnl == -820 * kUsd);
}

TEST_CASE("a short liquidated through the book budgets its fee at the highest fill price",
          "[liquidation]") {
  Harness h(liquidation_genesis());
  // A goes 10x short 0.2 BTC at 50,000 against B: taker fee 4.5, A keeps 1,005.5.
  REQUIRE(h.set_leverage("A", "BTC", 10));
  h.place("B", order("BTC", true, "50000", "0.2"));
  REQUIRE(h.place("A", order("BTC", false, "50000", "0.2", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  REQUIRE(h.account("A").usd == 1'005'500'000);
  // The only ask: D's 0.2 at 55,003.
  h.place("D", order("BTC", false, "55003", "0.2"));
  // Mark 54,000: value 10,800, unrealized -800, account value 205.5 < maintenance 270 and above
  // 2/3 of it (180): sent to the book, all of it. With the fee budgeted at the mark (4.86), A could
  // lose 200.639998 against it, 1,003.19 per BTC: limit 55,003, and D's ask filled there for a
  // loss of 1,000.6 and a fee of 4.95027 on 11,000.6, cash -0.05027: debt. Budgeted at the highest
  // price a buy may fill at (mark + 10% = 59,400: fee 5.346 on 11,880), A may lose 200.153998:
  // 1,000.76 per BTC, limit 55,000. D's ask is beyond it, so nothing fills and A owes nothing.
  set_mark(h, 54'000 * kUsd);
  CHECK(h.position("A", kBtc).szi == -200);
  CHECK(h.account("A").usd == 1'005'500'000);
  CHECK(h.position("D", kBtc).szi == 0);
  // An ask at 55,000 is within the bound: A buys 0.2 there, realized -1,000, fee 4.95 on 11,000:
  // cash 1,005.5 - 1,000 - 4.95 = 0.55.
  h.place("D", order("BTC", false, "55000", "0.2"));
  set_mark(h, 54'000 * kUsd);
  CHECK(h.position("A", kBtc).szi == 0);
  CHECK(h.account("A").usd == 550'000);
}

TEST_CASE("liquidation cancels the account's trigger orders and nobody else's", "[liquidation]") {
  Harness h(liquidation_genesis());
  open_ten_x_long(h);
  // Far from the marks below, so neither fires: A's take-profit sells at 60,000 or above, B's
  // (short 0.2) stop-loss buys at 60,000 or above.
  auto take_profit = order("BTC", false, "60000", "0.2", Tif::Gtc, true);
  take_profit.trigger_px = {"60000", 60'000 * kUsd};
  take_profit.tpsl = state::TpSl::Tp;
  REQUIRE(h.place("A", take_profit).kind == OrderStatus::Kind::Resting);
  auto stop_loss = order("BTC", true, "60000", "0.2", Tif::Gtc, true);
  stop_loss.trigger_px = {"60000", 60'000 * kUsd};
  stop_loss.tpsl = state::TpSl::Sl;
  const OrderStatus b_trigger = h.place("B", stop_loss);
  REQUIRE(b_trigger.kind == OrderStatus::Kind::Resting);
  h.place("D", order("BTC", true, "45900", "0.5"));
  set_mark(h, 46'000 * kUsd);  // A is liquidated through the book, as above
  CHECK(h.account("A").positions.at(kBtc).szi == 0);
  CHECK(h.account("A").triggers.empty());
  CHECK(h.account("B").triggers == std::vector<OrderId>{b_trigger.oid});
  // Stored as the executor wrote it: the restored exchange has the same triggers.
  state::MemKvStore store;
  REQUIRE(h.executor().save(store));
  auto restored = perps::testing::Executor::restore(store, Exchange(liquidation_genesis()),
                                                    h.executor().height());
  REQUIRE(restored);
  CHECK(restored->app_hash() == h.executor().app_hash());
  const Account* b = restored->app().find_account(address_of_name("B"));
  REQUIRE(b);
  CHECK(b->triggers == std::vector<OrderId>{b_trigger.oid});
  CHECK(restored->app().find_account(address_of_name("A"))->triggers.empty());
}

TEST_CASE("a gap below 2/3 of maintenance sends the position to the backstop vault",
          "[liquidation]") {
  Harness h(liquidation_genesis());
  open_ten_x_long(h);
  // Mark 45,500: value 9,100, unrealized -900, account value 105.5 < 2/3 * 227.5 = 151.67.
  set_mark(h, 45'500 * kUsd);
  const Account& vault = h.exchange().backstop_vault();
  CHECK(h.account("A").positions.at(kBtc).szi == 0);
  CHECK(h.account("A").usd == 0);  // the remaining 105.5 goes with the position
  CHECK(vault.positions.at(kBtc).szi == 200);
  CHECK(vault.positions.at(kBtc).cost == 9'100 * kUsd);  // taken at the mark
  CHECK(vault.usd == 105'500'000);
  const auto& fills = h.fills_of("A");
  REQUIRE(fills.size() == 2);
  CHECK(fills[1].liquidation == LiquidationMethod::Backstop);
  CHECK(fills[1].fee == 0);
  CHECK(fills[1].closed_pnl == -900 * kUsd);
}

TEST_CASE("a crash to negative equity deleverages the most profitable short first",
          "[liquidation]") {
  Harness h(liquidation_genesis());
  open_ten_x_long(h);  // B short 0.2 @ 50,000
  // C goes short 0.1 @ 52,000 against D's bid: taker fee 0.045% of 5,200 = 2.34.
  h.place("D", order("BTC", true, "52000", "0.1"));
  REQUIRE(h.place("C", order("BTC", false, "52000", "0.1", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  // B's reduce-only bid for its whole short, far below the market.
  const OrderStatus b_close = h.place("B", order("BTC", true, "30000", "0.2", Tif::Gtc, true));
  REQUIRE(b_close.kind == OrderStatus::Kind::Resting);
  // Mark 44,000: A's value 8,800, unrealized -1,200, account value -194.5: ADL.
  // Ranking at the previous mark 50,000, shorts by |cost| / equity: C 5,200 / 10,197.66 = 0.51,
  // B 10,000 / ~999,998.5 = 0.01: C first, for all its 0.1; then B for the other 0.1.
  set_mark(h, 44'000 * kUsd);
  CHECK(h.account("A").positions.at(kBtc).szi == 0);
  // Closed at 44,000, A is left with 1,005.5 - 1,200 = -194.5; C and B each took half the
  // notional (4,400 each) and pay 97.25 each: A ends at exactly zero.
  CHECK(h.account("A").usd == 0);
  CHECK(h.position("C", kBtc).szi == 0);
  CHECK(h.position("B", kBtc).szi == -100);
  // Deleveraging halved B's short: its reduce-only bid is trimmed to what is left to close.
  CHECK(h.exchange().markets()[kBtc].book.find(b_close.oid)->sz == 100);
  CHECK(h.position("B", kBtc).reduce_only_sz == 100);
  // C: 10,000 - 2.34 + (5,200 - 4,400) - 97.25 = 10,700.41.
  CHECK(h.account("C").usd == 10'700'410'000);
  const auto& c_fills = h.fills_of("C");
  REQUIRE(c_fills.size() == 2);
  CHECK(c_fills[1].liquidation == LiquidationMethod::Adl);
  CHECK(c_fills[1].liquidated_user == address_of_name("A"));
  CHECK(c_fills[1].closed_pnl == 702'750'000);  // 800 - 97.25
  const auto& a_fills = h.fills_of("A");
  REQUIRE(a_fills.size() == 3);
  CHECK(a_fills[1].closed_pnl == -600 * kUsd + 97'250'000);
  CHECK(a_fills[2].closed_pnl == -600 * kUsd + 97'250'000);
}

TEST_CASE("a position above 100,000 USD goes 20% at a time with a 30 s cooldown", "[liquidation]") {
  Harness h(liquidation_genesis());
  // E buys 3 BTC at 50,000 (150,000 notional, 20x: margin 7,500); taker fee 67.5: 7,932.5 left.
  h.place("B", order("BTC", false, "50000", "3"));
  REQUIRE(h.place("E", order("BTC", true, "50000", "3", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  h.place("B", order("BTC", true, "48400", "5"));
  // Mark 48,500: value 145,500, unrealized -4,500, account value 3,432.5 < maintenance 3,637.5
  // (2/3: 2,425). Over 100,000: 20% = 0.6 BTC, filled at 48,400: realized -960, fee 13.068.
  set_mark(h, 48'500 * kUsd);
  CHECK(h.position("E", kBtc).szi == 2'400);
  CHECK(h.account("E").usd == 6'959'432'000);  // 7,932.5 - 960 - 13.068
  const std::uint64_t cooldown = h.account("E").liquidation_cooldown_until_ms;
  CHECK(cooldown == h.time() + 30'000);
  // Mark 48,000: value 115,200, unrealized -4,800, account value 2,159.432 < 2,880 (above 2/3:
  // 1,920), but within the cooldown: nothing.
  set_mark(h, 48'000 * kUsd);
  CHECK(h.position("E", kBtc).szi == 2'400);
  while (h.time() < cooldown) h.block({});
  // After it: 20% of 2.4 = 0.48 BTC at 48,400: realized -768, fee 10.4544.
  set_mark(h, 48'000 * kUsd);
  CHECK(h.position("E", kBtc).szi == 1'920);
  CHECK(h.account("E").usd == 6'180'977'600);  // 6,959.432 - 768 - 10.4544
}

TEST_CASE("an isolated partial liquidation loses at most its share of the isolated equity",
          "[liquidation]") {
  Harness h(liquidation_genesis());
  open_isolated_long(h, "E");  // 432.5 USD of E's cash left
  REQUIRE(h.account("E").usd == 432'500'000);
  h.place("B", order("BTC", true, "44000", "5"));  // the only bids, far below
  // Mark 48,500: isolated equity 7,500 - 4,500 = 3,000 < maintenance 3,637.5 (above 2/3): 20%,
  // 0.6 BTC, through the book. Its share of the equity is 600: selling at 44,000 would lose
  // 3,600 against the 1,500 of margin it frees, taking E's cross cash below zero (for the vault
  // to cover while the position still held 2,400 of equity). So the order's limit stays within
  // 600 less the fee of the mark, no bid is there, and nothing trades.
  set_mark(h, 48'500 * kUsd);
  CHECK(h.position("E", kBtc).szi == 3'000);
  CHECK(h.account("E").usd == 432'500'000);
}

TEST_CASE("an isolated liquidation goes through with 1,000 orders open in another market",
          "[liquidation]") {
  GenesisState g = liquidation_genesis();
  g.markets.push_back({"ETH", 2, 25, 3'000 * kUsd, 20'000 * kUsd, {}});
  g.balances.push_back({address_of_name("F"), 20'000 * kUsd, 0});
  Harness h(g);
  open_isolated_long(h, "F");
  // F's open-order limit filled up in ETH, which the isolated BTC liquidation does not cancel.
  for (int i = 0; i < 1000; ++i)
    REQUIRE(h.place("F", order("ETH", true, "1000", "0.01")).kind == OrderStatus::Kind::Resting);
  REQUIRE(h.place("F", order("ETH", true, "1000", "0.01")).error ==
          state::Reason::TooManyOpenOrders);
  h.place("B", order("BTC", true, "48400", "5"));
  // Mark 48,500: isolated equity 3,000 < maintenance 3,637.5: 20% (0.6 BTC) through the book,
  // bounded within its share of the equity at 47,526, so B's bid at 48,400 takes it.
  set_mark(h, 48'500 * kUsd);
  CHECK(h.position("F", kBtc).szi == 2'400);
  CHECK(h.account("F").orders.size() == 1000);  // the ETH orders stay
}

TEST_CASE("a block without a price move or funding scans no account", "[liquidation]") {
  Harness h(liquidation_genesis());
  open_ten_x_long(h);
  // Push A under water without telling the exchange the mark moved (a direct field write): no
  // end-of-block scan runs, so nothing happens until a mark change.
  const_cast<Market&>(h.exchange().markets()[kBtc]).mark_px = 45'500 * kUsd;
  h.block({});
  CHECK(h.account("A").positions.at(kBtc).szi == 200);
  set_mark(h, 45'500 * kUsd);
  CHECK(h.account("A").positions.at(kBtc).szi == 0);
}
