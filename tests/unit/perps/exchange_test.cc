// The exchange core rule by rule, with every expected number worked by hand in the comments.
// Units: USD in micro-dollars; BTC sizes in lots of 0.001 (szDecimals 3), mark 50,000.
#include <catch2/catch.hpp>
#include <filesystem>

#include "exchange_harness.h"
#include "perps/protocol_constants.h"

using namespace perps;
using namespace perps::testing;
namespace json = boost::json;
using state::Reason;
using state::Tif;

namespace {
constexpr MarketIndex kBtc = 0;
constexpr std::int64_t kUsd = 1'000'000;  // micro-dollars per dollar

// A goes long sz BTC at 50,000, bought from B's ask.
// The first stored record whose key starts with prefix: {key, value}.
std::pair<std::string, std::string> first_record(const state::KvStore& store,
                                                 std::string_view prefix) {
  std::pair<std::string, std::string> found;
  REQUIRE(store
              .scan(prefix,
                    [&](std::string_view k, std::string_view v) {
                      found = {std::string(k), std::string(v)};
                      return false;
                    })
              .ok());
  return found;
}

void open_long_from_b(Harness& h, const std::string& sz) {
  h.place("B", order("BTC", false, "50000", sz));
  REQUIRE(h.place("A", order("BTC", true, "50000", sz, Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
}
}  // namespace

TEST_CASE("a buy across two ask levels: avgPx - fees - position - fee pool", "[exchange]") {
  Harness h;
  // B rests 1 BTC at 50,000 and 1 BTC at 50,100.
  CHECK(h.place("B", order("BTC", false, "50000", "1")).kind == OrderStatus::Kind::Resting);
  CHECK(h.place("B", order("BTC", false, "50100", "1")).kind == OrderStatus::Kind::Resting);
  // A buys 1.5 IOC up to 50,100: 1 @ 50,000 then 0.5 @ 50,100.
  OrderStatus s = h.place("A", order("BTC", true, "50100", "1.5", Tif::Ioc));
  REQUIRE(s.kind == OrderStatus::Kind::Filled);
  CHECK(s.total_sz == 1500);
  // avgPx = (50,000 * 1 + 50,100 * 0.5) / 1.5 = 75,050 / 1.5 = 50,033.333333... floored to
  // micro-dollars.
  CHECK(s.avg_px == 50'033'333'333);
  // Notional 50,000 + 25,050 = 75,050. Taker fee 0.045%: 22.5 + 11.2725 = 33.7725.
  // Maker fee 0.015%: 7.5 + 3.7575 = 11.2575.
  CHECK(h.account("A").usd == 100'000 * kUsd - 33'772'500);
  CHECK(h.account("B").usd == 100'000 * kUsd - 11'257'500);
  CHECK(h.exchange().fee_pool() == 33'772'500 + 11'257'500);
  CHECK(h.position("A", kBtc).szi == 1500);
  CHECK(h.position("A", kBtc).cost == 75'050 * kUsd);
  CHECK(h.position("B", kBtc).szi == -1500);
  CHECK(h.position("B", kBtc).cost == -75'050 * kUsd);
  CHECK(h.exchange().markets()[kBtc].open_interest == 1500);
  CHECK(h.exchange().markets()[kBtc].last_trade_px == 50'100 * kUsd);
  // B's second ask has 0.5 left.
  std::vector<BookLevel> asks;
  h.exchange().markets()[kBtc].book.levels(Side::Ask, 10, asks);
  REQUIRE(asks.size() == 1);
  CHECK(asks[0].px == 50'100 * kUsd);
  CHECK(asks[0].sz == 500);
  // Two fills, two sides each, sharing trade ids 1 and 2.
  const auto& fills = h.fills_of("A");
  REQUIRE(fills.size() == 2);
  CHECK(fills[0].tid == 1);
  CHECK(fills[1].tid == 2);
  CHECK(fills[1].fee == 11'272'500);
  CHECK(fills[0].dir == FillDirection::OpenLong);
}

TEST_CASE("a 10x long: margin used and maintenance at mark", "[exchange]") {
  Harness h;
  REQUIRE(h.set_leverage("A", "BTC", 10));
  open_long_from_b(h, "1");
  MarginSummary m = h.exchange().margin_summary(h.account("A"));
  // Position 1 BTC at mark 50,000 = 50,000 notional: initial 50,000 / 10 = 5,000;
  // maintenance = half the initial at max leverage 50: 50,000 / 100 = 500.
  CHECK(m.margin_required == 5'000 * kUsd);
  CHECK(m.maintenance_margin == 500 * kUsd);
  // Account value = 100,000 - taker fee 22.5 (no PnL at mark = entry).
  CHECK(m.account_value == 100'000 * kUsd - 22'500'000);
  CHECK(m.withdrawable == m.account_value - 5'000 * kUsd);
  // Mark up 1%: PnL +500, margin on 50,500 notional = 5,050.
  h.exchange().set_mark_px(kBtc, 50'500 * kUsd);
  m = h.exchange().margin_summary(h.account("A"));
  CHECK(m.account_value == 100'500 * kUsd - 22'500'000);
  CHECK(m.margin_required == 5'050 * kUsd);
}

TEST_CASE("a flip realizes PnL on the closed part and opens the rest at the fill price",
          "[exchange]") {
  Harness h;
  open_long_from_b(h, "1");
  // A sells 3 at 51,000 into B's bid: closes 1 (PnL 51,000 - 50,000 = +1,000), opens short 2.
  h.place("B", order("BTC", true, "51000", "3"));
  const std::int64_t usd_before = h.account("A").usd;
  REQUIRE(h.place("A", order("BTC", false, "51000", "3", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  const Position& p = h.position("A", kBtc);
  CHECK(p.szi == -2000);
  CHECK(p.cost == -102'000 * kUsd);
  // Taker fee on 153,000 notional: 68.85.
  CHECK(h.account("A").usd == usd_before + 1'000 * kUsd - 68'850'000);
  const auto& fills = h.fills_of("A");
  CHECK(fills.back().dir == FillDirection::LongToShort);
  CHECK(fills.back().closed_pnl == 1'000 * kUsd);
  // B went from short 1 (at 50,000) to long 2 (at 51,000): realized 50,000 - 51,000 = -1,000.
  CHECK(h.position("B", kBtc).szi == 2000);
  CHECK(h.position("B", kBtc).cost == 102'000 * kUsd);
}

TEST_CASE("a partial close keeps the average entry and realizes in proportion", "[exchange]") {
  Harness h;
  // A buys 1 @ 50,000 and 1 @ 52,000: entry 51,000, cost 102,000.
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("B", order("BTC", false, "52000", "1"));
  h.place("A", order("BTC", true, "52000", "2", Tif::Ioc));
  CHECK(h.position("A", kBtc).cost == 102'000 * kUsd);
  // Sell 0.5 @ 53,000: removes 102,000 * 0.5 / 2 = 25,500 basis; PnL 26,500 - 25,500 = +1,000.
  h.place("C", order("BTC", true, "53000", "0.5"));
  h.place("A", order("BTC", false, "53000", "0.5", Tif::Ioc));
  CHECK(h.position("A", kBtc).szi == 1500);
  CHECK(h.position("A", kBtc).cost == 76'500 * kUsd);
  CHECK(h.fills_of("A").back().closed_pnl == 1'000 * kUsd);
}

TEST_CASE("order validation: tick - lot - minimum notional - unknown market", "[exchange]") {
  Harness h;
  CHECK(h.place("A", order("XYZ", true, "1", "1")).error == Reason::UnknownMarket);
  // BTC allows 6 - 3 = 3 decimals but 5 significant figures: 50000.5 has 6.
  CHECK(h.place("A", order("BTC", true, "50000.5", "1")).error == Reason::InvalidPrice);
  CHECK(h.place("A", order("BTC", true, "1.2345", "10")).error ==
        Reason::InvalidPrice);  // 4 decimals
  CHECK(h.place("A", order("BTC", true, "123456", "1")).kind ==
        OrderStatus::Kind::Resting);  // integer: valid
  CHECK(h.place("A", order("BTC", true, "50000", "0.0001")).error ==
        Reason::InvalidSize);  // below a lot
  // 0.001 BTC at 9,000 is 9 USD: below the 10 USD minimum.
  CHECK(h.place("A", order("BTC", true, "9000", "0.001")).error == Reason::OrderTooSmall);
  CHECK(h.place("A", order("BTC", true, "10000", "0.001")).kind == OrderStatus::Kind::Resting);
}

TEST_CASE("initial margin is checked when a position opens or grows", "[exchange]") {
  Harness h(test_genesis(1'000 * kUsd));
  // 1,000 USD at the default 20x carries 20,000 notional: 0.4 BTC at 50,000, not 0.5 (minus fees).
  CHECK(h.place("A", order("BTC", true, "50000", "0.5")).error == Reason::InsufficientMargin);
  CHECK(h.place("A", order("BTC", true, "50000", "0.39")).kind == OrderStatus::Kind::Resting);
  // The resting bid reserves its margin: a second one does not fit.
  CHECK(h.place("A", order("BTC", true, "49000", "0.2")).error == Reason::InsufficientMargin);
  // An ask on the other side does not add to the worst case (max of the two sides).
  CHECK(h.place("A", order("BTC", false, "60000", "0.3")).kind == OrderStatus::Kind::Resting);
}

TEST_CASE(
    "a Gtc order the book cannot fill is checked resting only - one it can fill pays the taker fee",
    "[exchange]") {
  Harness h(test_genesis(1'000 * kUsd));
  // 1,000 USD at 20x; 0.4 BTC at 50,000 is 20,000 notional, 1,000 of initial margin.
  // Into an empty book the bid can only rest: free collateral 1,000 - 1,000 = 0, accepted.
  CHECK(h.place("A", order("BTC", true, "50000", "0.4")).kind == OrderStatus::Kind::Resting);
  // The same size as an ask at 50,000 would fill against it now: the short needs 1,000 and the
  // taker fee 20,000 * 0.045% = 9 comes on top: free collateral -9, refused.
  CHECK(h.place("B", order("BTC", false, "50000", "0.4")).error == Reason::InsufficientMargin);
  // Resting above the bid it is fine again: 0.39 at 50,100 = 19,539 notional, 976.95 reserved.
  CHECK(h.place("B", order("BTC", false, "50100", "0.39")).kind == OrderStatus::Kind::Resting);
}

TEST_CASE("Alo is rejected if it would cross - Ioc with no match is an error", "[exchange]") {
  Harness h;
  h.place("B", order("BTC", false, "50000", "1"));
  CHECK(h.place("A", order("BTC", true, "50000", "1", Tif::Alo)).error == Reason::AloWouldCross);
  CHECK(h.place("A", order("BTC", true, "49000", "1", Tif::Alo)).kind ==
        OrderStatus::Kind::Resting);
  CHECK(h.place("A", order("BTC", true, "48000", "1", Tif::Ioc)).error == Reason::IocNotFilled);
}

TEST_CASE("self-trade prevention expires the resting order", "[exchange]") {
  Harness h;
  h.place("A", order("BTC", false, "50000", "1"));
  h.place("B", order("BTC", false, "50100", "1"));
  // A's buy meets its own ask first: that ask is expired, then A buys from B at 50,100.
  OrderStatus s = h.place("A", order("BTC", true, "50100", "1", Tif::Ioc));
  CHECK(s.kind == OrderStatus::Kind::Filled);
  CHECK(s.avg_px == 50'100 * kUsd);
  CHECK(h.account("A").orders.empty());
  CHECK(h.position("A", kBtc).szi == 1000);
  CHECK(h.position("A", kBtc).ask_ntl == 0);
}

TEST_CASE("reduce-only: rejected without a position - clamped to it - trimmed as it shrinks",
          "[exchange]") {
  Harness h;
  CHECK(h.place("A", order("BTC", false, "50000", "1", Tif::Gtc, true)).error ==
        Reason::ReduceOnlyWouldIncrease);
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("A", order("BTC", true, "50000", "1", Tif::Ioc));
  // Reduce-only sell of 3 against a long of 1 rests as 1.
  OrderStatus s = h.place("A", order("BTC", false, "55000", "3", Tif::Gtc, true));
  REQUIRE(s.kind == OrderStatus::Kind::Resting);
  CHECK(h.exchange().markets()[kBtc].book.find(s.oid)->sz == 1000);
  // Another reduce-only sell has nothing left to reduce.
  CHECK(h.place("A", order("BTC", false, "56000", "1", Tif::Gtc, true)).error ==
        Reason::ReduceOnlyWouldIncrease);
  // Selling 0.4 elsewhere shrinks the long to 0.6: the reduce-only order is trimmed to 0.6.
  h.place("C", order("BTC", true, "50000", "0.4"));
  h.place("A", order("BTC", false, "50000", "0.4", Tif::Ioc));
  CHECK(h.exchange().markets()[kBtc].book.find(s.oid)->sz == 600);
  CHECK(h.position("A", kBtc).reduce_only_sz == 600);
}

TEST_CASE("a reduce-only Ioc closes the whole position beside a resting reduce-only order",
          "[exchange]") {
  Harness h;
  open_long_from_b(h, "1");
  OrderStatus take_profit = h.place("A", order("BTC", false, "55000", "1", Tif::Gtc, true));
  REQUIRE(take_profit.kind == OrderStatus::Kind::Resting);
  // Another resting reduce-only order has nothing left to cover ...
  CHECK(h.place("A", order("BTC", false, "56000", "1", Tif::Gtc, true)).error ==
        Reason::ReduceOnlyWouldIncrease);
  // ... but a reduce-only Ioc (a market close) takes the whole long at B's bid, and the take-profit
  // has nothing left to reduce: cancelled.
  h.place("B", order("BTC", true, "49000", "1"));
  OrderStatus closed = h.place("A", order("BTC", false, "49000", "1", Tif::Ioc, true));
  CHECK(closed.kind == OrderStatus::Kind::Filled);
  CHECK(closed.total_sz == 1000);
  CHECK(h.position("A", kBtc).szi == 0);
  CHECK(h.exchange().markets()[kBtc].book.find(take_profit.oid) == nullptr);
  CHECK(h.position("A", kBtc).reduce_only_sz == 0);
}

TEST_CASE("reduce-only makers never open a position within one taker's sweep", "[exchange]") {
  Harness h;
  h.place("B", order("BTC", false, "50000", "2"));
  h.place("A", order("BTC", true, "50000", "2", Tif::Ioc));  // A long 2
  // A offers 1 plainly at 50,100 and 1 reduce-only at 50,200: 2 in all against a long of 2.
  h.place("A", order("BTC", false, "50100", "1"));
  OrderStatus ro = h.place("A", order("BTC", false, "50200", "1", Tif::Gtc, true));
  REQUIRE(ro.kind == OrderStatus::Kind::Resting);
  // Another sale of 1.6 elsewhere leaves A long 0.4 (the reduce-only order is trimmed to 0.4).
  h.place("B", order("BTC", true, "50000", "1.6"));
  h.place("A", order("BTC", false, "50000", "1.6", Tif::Ioc));
  REQUIRE(h.position("A", kBtc).szi == 400);
  REQUIRE(h.exchange().markets()[kBtc].book.find(ro.oid)->sz == 400);
  // C buys 2 up to 50,200 in one order. The plain ask fills 1 first: A goes short 0.6, so the
  // reduce-only ask has nothing left to reduce and is cancelled, not filled (before the fix it
  // filled 0.4 and took A to short 1.0). C gets the 1 alone.
  OrderStatus taken = h.place("C", order("BTC", true, "50200", "2", Tif::Ioc));
  CHECK(taken.kind == OrderStatus::Kind::Filled);
  CHECK(taken.total_sz == 1000);
  CHECK(h.position("A", kBtc).szi == -600);
  CHECK(h.position("C", kBtc).szi == 1000);
  CHECK(h.exchange().markets()[kBtc].book.find(ro.oid) == nullptr);
  CHECK(h.position("A", kBtc).reduce_only_sz == 0);
}

TEST_CASE("a reduce-only maker is trimmed to what the sweep has left of the position",
          "[exchange]") {
  Harness h;
  open_long_from_b(h, "1");
  // A offers 0.6 plainly at 50,100 and 1 reduce-only at 50,200.
  h.place("A", order("BTC", false, "50100", "0.6"));
  OrderStatus ro = h.place("A", order("BTC", false, "50200", "1", Tif::Gtc, true));
  REQUIRE(h.exchange().markets()[kBtc].book.find(ro.oid)->sz == 1000);
  // C buys 2 up to 50,200: 0.6 from the plain ask leaves A long 0.4, so the reduce-only ask fills
  // 0.4 and no more. A ends flat; C gets 1.0 (0.6 @ 50,100 + 0.4 @ 50,200).
  OrderStatus taken = h.place("C", order("BTC", true, "50200", "2", Tif::Ioc));
  CHECK(taken.total_sz == 1000);
  // avgPx = (50,100 * 0.6 + 50,200 * 0.4) / 1 = 30,060 + 20,080 = 50,140.
  CHECK(taken.avg_px == 50'140 * kUsd);
  CHECK(h.position("A", kBtc).szi == 0);
  CHECK(h.position("C", kBtc).szi == 1000);
  CHECK(h.exchange().markets()[kBtc].book.find(ro.oid) == nullptr);
}

TEST_CASE("order and trigger prices stay within 10x of the day's start price", "[exchange]") {
  Harness h;  // BTC starts the day at 50,000: prices from 5,000 to 500,000
  CHECK(h.place("A", order("BTC", false, "500000", "0.001")).kind == OrderStatus::Kind::Resting);
  CHECK(h.place("A", order("BTC", false, "500001", "0.001")).error == Reason::InvalidPrice);
  CHECK(h.place("A", order("BTC", true, "5000", "0.01")).kind == OrderStatus::Kind::Resting);
  CHECK(h.place("A", order("BTC", true, "4999", "0.01")).error == Reason::InvalidPrice);
  auto stop =
      trigger_order(order("BTC", false, "48000", "0.001", Tif::Ioc), "4999", state::TpSl::Sl);
  CHECK(h.place("A", stop).error == Reason::InvalidPrice);
  stop.trigger_px = {"5000", 5'000'000'000};
  CHECK(h.place("A", stop).kind == OrderStatus::Kind::Resting);
}

TEST_CASE("cloids: unique per account among open orders - cancel by cloid", "[exchange]") {
  Harness h;
  auto with_cloid = order("BTC", true, "40000", "1");
  with_cloid.cloid.bytes[15] = 7;
  OrderStatus first = h.place("A", with_cloid);
  REQUIRE(first.kind == OrderStatus::Kind::Resting);
  CHECK(h.place("A", with_cloid).error == Reason::DuplicateCloid);
  CHECK(h.place("B", with_cloid).kind ==
        OrderStatus::Kind::Resting);  // another account may reuse it
  state::CancelByCloid cancel;
  cancel.cancels.items.push_back({"BTC", with_cloid.cloid});
  auto receipt = h.act("A", cancel);
  CHECK(receipt.outcome.response.at(0).kind == OrderStatus::Kind::Success);
  CHECK(h.exchange().markets()[kBtc].book.find(first.oid) == nullptr);
  CHECK(h.place("A", with_cloid).kind == OrderStatus::Kind::Resting);  // free again
}

TEST_CASE("cancel and modify: owner only - modify loses priority", "[exchange]") {
  Harness h;
  OrderStatus a1 = h.place("A", order("BTC", true, "40000", "1"));
  OrderStatus b1 = h.place("B", order("BTC", true, "40000", "1"));
  state::CancelOrders steal;
  steal.cancels.items.push_back({"BTC", a1.oid});
  CHECK(h.act("B", steal).outcome.response.at(0).error == Reason::UnknownOrder);
  state::ModifyOrder mod;
  mod.oid = a1.oid;
  mod.order = order("BTC", true, "40000", "2");
  OrderStatus moved = h.act("A", mod).outcome.response.at(0);
  REQUIRE(moved.kind == OrderStatus::Kind::Resting);
  CHECK(moved.oid > b1.oid);
  // A seller of 1 now meets B first.
  h.place("C", order("BTC", false, "40000", "1", Tif::Ioc));
  CHECK(h.position("B", kBtc).szi == 1000);
  CHECK(h.position("A", kBtc).szi == 0);
}

TEST_CASE("a modify refused for its own price - size or notional leaves the order resting",
          "[exchange]") {
  Harness h;
  OrderStatus bid = h.place("A", order("BTC", true, "40000", "1"));
  state::ModifyOrder mod;
  mod.oid = bid.oid;
  mod.order = order("BTC", true, "40000.5", "1");  // 6 significant figures: off the grid
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::InvalidPrice);
  mod.order = order("BTC", true, "40000", "0.0005");  // half a lot (szDecimals 3)
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::InvalidSize);
  mod.order = order("BTC", true, "9000", "0.001");  // 9 USD
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::OrderTooSmall);
  // Each time the bid stayed, at its size and with its oid.
  REQUIRE(h.exchange().markets()[kBtc].book.find(bid.oid) != nullptr);
  CHECK(h.exchange().markets()[kBtc].book.find(bid.oid)->sz == 1000);
  CHECK(h.position("A", kBtc).bid_ntl == 40'000 * kUsd);
}

TEST_CASE("a modify refused for the account leaves the order as it was - queue place included",
          "[exchange]") {
  Harness h(test_genesis(1'000 * kUsd));
  // 0.2 BTC at 50,000 is 10,000 notional: 500 of A's 1,000 reserved at the default 20x.
  OrderStatus a = h.place("A", order("BTC", true, "50000", "0.2"));
  OrderStatus b = h.place("B", order("BTC", true, "50000", "0.2"));  // queued behind A
  REQUIRE(a.kind == OrderStatus::Kind::Resting);
  REQUIRE(h.place("C", order("BTC", false, "50500", "0.1")).kind == OrderStatus::Kind::Resting);
  state::ModifyOrder mod;
  mod.oid = a.oid;
  // 0.5 at 50,000 needs 1,250 once A's own 500 is released: more than the 1,000 A has.
  mod.order = order("BTC", true, "50000", "0.5");
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::InsufficientMargin);
  // An Alo bid at C's ask would cross it.
  mod.order = order("BTC", true, "50500", "0.2", Tif::Alo);
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::AloWouldCross);
  // A has no position for a reduce-only order to reduce.
  mod.order = order("BTC", false, "51000", "0.2", Tif::Gtc, true);
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::ReduceOnlyWouldIncrease);

  const RestingOrder* bid = h.exchange().markets()[kBtc].book.find(a.oid);
  REQUIRE(bid != nullptr);
  CHECK(bid->sz == 200);
  CHECK(bid->px == 50'000 * kUsd);
  CHECK(h.position("A", kBtc).bid_ntl == 10'000 * kUsd);
  CHECK(h.position("A", kBtc).open_orders == 1);
  // Still first in the queue: a seller of 0.2 meets A, not B.
  h.place("C", order("BTC", false, "50000", "0.2", Tif::Ioc));
  CHECK(h.position("A", kBtc).szi == 200);
  CHECK(h.position("B", kBtc).szi == 0);
  CHECK(h.exchange().markets()[kBtc].book.find(b.oid)->sz == 200);
}

TEST_CASE("a modify of a trigger order refused for margin leaves the trigger waiting",
          "[exchange]") {
  Harness h(test_genesis(1'000 * kUsd));
  auto stop =
      trigger_order(order("BTC", false, "48000", "0.001", Tif::Ioc), "49000", state::TpSl::Sl);
  OrderStatus placed = h.place("A", stop);
  REQUIRE(placed.kind == OrderStatus::Kind::Resting);
  state::ModifyOrder mod;
  mod.oid = placed.oid;
  mod.order = order("BTC", true, "50000", "0.5");  // 25,000 notional at 20x: 1,250 > 1,000
  CHECK(h.act("A", mod).outcome.response.at(0).error == Reason::InsufficientMargin);
  const auto* waiting = h.exchange().find_trigger(placed.oid);
  REQUIRE(waiting != nullptr);
  CHECK(waiting->second.trigger_px == 49'000 * kUsd);
  CHECK(waiting->second.order.sz == 1);
}

TEST_CASE("a trigger order too small to place is refused when given", "[exchange]") {
  Harness h;
  auto stop = trigger_order(order("BTC", false, "48000", "0.001", Tif::Ioc), "49000",
                            state::TpSl::Sl);  // 48 USD: accepted
  CHECK(h.place("A", stop).kind == OrderStatus::Kind::Resting);
  stop.px = {"9000", 9'000 * kUsd};  // 0.001 at 9,000 = 9 USD: it could never be placed
  stop.trigger_px = {"9500", 9'500 * kUsd};
  CHECK(h.place("A", stop).error == Reason::OrderTooSmall);
}

TEST_CASE("in-block order: cancels run before Gtc/Ioc orders whatever the proposer order",
          "[exchange]") {
  Harness h;
  OrderStatus ask = h.place("B", order("BTC", false, "50000", "1"));
  state::PlaceOrders buy;
  buy.orders.items.push_back(order("BTC", true, "50000", "1", Tif::Ioc));
  state::CancelOrders cancel;
  cancel.cancels.items.push_back({"BTC", ask.oid});
  auto result = h.block({{"A", buy}, {"B", cancel}});
  // Receipts stay in proposer order; the cancel ran first, so the Ioc found nothing.
  CHECK(result.receipts[0].outcome.response.at(0).error == Reason::IocNotFilled);
  CHECK(result.receipts[1].outcome.response.at(0).kind == OrderStatus::Kind::Success);
}

TEST_CASE("leverage: range - isolated-only rules - margin mode locked with a position",
          "[exchange]") {
  Harness h;
  state::UpdateLeverage lev{"BTC", true, 51};
  CHECK(h.act("A", lev).outcome.reason == Reason::LeverageOutOfRange);
  lev.leverage = 0;
  CHECK(h.act("A", lev).outcome.reason == Reason::LeverageOutOfRange);
  lev.leverage = 5;
  CHECK(h.act("A", lev).outcome.ok);
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("A", order("BTC", true, "50000", "1", Tif::Ioc));
  state::UpdateLeverage to_isolated{"BTC", false, 5};
  CHECK(h.act("A", to_isolated).outcome.reason == Reason::OpenPosition);
}

TEST_CASE("isolated margin: moved in on open - added and removed - released on close",
          "[exchange]") {
  Harness h;
  REQUIRE(h.act("A", state::UpdateLeverage{"BTC", false, 10}).outcome.ok);
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("A", order("BTC", true, "50000", "1", Tif::Ioc));
  // Opening 50,000 notional at 10x moves 5,000 into the position; fee 22.5 from cash.
  CHECK(h.position("A", kBtc).isolated_margin == 5'000 * kUsd);
  CHECK(h.account("A").usd == 95'000 * kUsd - 22'500'000);
  state::UpdateIsolatedMargin add{"BTC", {"1000", 1'000 * kUsd}};
  REQUIRE(h.act("A", add).outcome.ok);
  CHECK(h.position("A", kBtc).isolated_margin == 6'000 * kUsd);
  state::UpdateIsolatedMargin too_much{"BTC", {"-1500", -1'500 * kUsd}};
  CHECK(h.act("A", too_much).outcome.reason == Reason::InsufficientMargin);  // 4,500 < 5,000 needed
  state::UpdateIsolatedMargin remove{"BTC", {"-1000", -1'000 * kUsd}};
  CHECK(h.act("A", remove).outcome.ok);
  // Closing at 50,000 returns all 5,000 to cash.
  h.place("C", order("BTC", true, "50000", "1"));
  h.place("A", order("BTC", false, "50000", "1", Tif::Ioc));
  CHECK(h.position("A", kBtc).isolated_margin == 0);
  CHECK(h.account("A").usd == 100'000 * kUsd - 2 * 22'500'000);
}

TEST_CASE("a withdrawal leaves 10% of the cross position value behind", "[exchange]") {
  Harness h;
  REQUIRE(h.set_leverage("A", "BTC", 50));
  open_long_from_b(h, "1");
  // Account value 100,000 - 22.5 (taker fee). Initial margin at 50x is 1,000, but 10% of the
  // 50,000 position value is 5,000: 94,977.5 may leave, not 98,977.5.
  const MarginSummary m = h.exchange().margin_summary(h.account("A"));
  CHECK(m.margin_required == 1'000 * kUsd);
  CHECK(m.cross_value == 50'000 * kUsd);
  CHECK(m.withdrawable == 94'977'500'000);
  CHECK(m.free_usd == 98'977'500'000);
  state::UsdSend send;
  send.destination = address_of_name("C");
  send.amount = {"94977.500001", 94'977'500'001};
  CHECK(h.act("A", send).outcome.reason == Reason::InsufficientBalance);
  send.amount = {"94977.5", 94'977'500'000};
  CHECK(h.act("A", send).outcome.ok);
  CHECK(h.exchange().margin_summary(h.account("A")).withdrawable == 0);
}

TEST_CASE("usdSend only from free collateral - agents trade but never transfer", "[exchange]") {
  Harness h(test_genesis(1'000 * kUsd));
  state::UsdSend send;
  send.destination = address_of_name("D");
  send.amount = {"1000.000001", 1'000'000'001};
  CHECK(h.act("A", send).outcome.reason == Reason::InsufficientBalance);
  send.amount = {"400", 400 * kUsd};
  CHECK(h.act("A", send).outcome.ok);
  CHECK(h.account("D").usd == 400 * kUsd);
  // With 600 left at 20x, a 0.2 BTC bid (10,000 notional) reserves 500: only 100 remains free.
  h.place("A", order("BTC", true, "50000", "0.2"));
  send.amount = {"101", 101 * kUsd};
  CHECK(h.act("A", send).outcome.reason == Reason::InsufficientBalance);

  state::ApproveAgent approve;
  approve.agent = address_of_name("bot");
  approve.name = "bot";
  REQUIRE(h.act("A", approve).outcome.ok);
  CHECK(h.place("bot", order("BTC", true, "40000", "0.001")).kind == OrderStatus::Kind::Resting);
  CHECK(h.account("A").orders.size() == 2);  // the agent's order belongs to A
  send.amount = {"1", kUsd};
  CHECK(h.act("bot", send).outcome.reason == Reason::AgentNotAllowed);
  CHECK(h.act("B", approve).outcome.reason == Reason::BadAgent);  // already A's agent
  // An address with an account of its own cannot be made anyone's agent (its own actions would
  // become the approver's), and USD cannot be sent to an agent (it could never move again).
  approve.agent = address_of_name("D");
  CHECK(h.act("B", approve).outcome.reason == Reason::BadAgent);
  state::UsdSend to_D = send;
  to_D.destination = address_of_name("D");
  CHECK(h.act("D", to_D).outcome.reason != Reason::AgentNotAllowed);  // D still acts for itself
  send.destination = address_of_name("bot");
  CHECK(h.act("B", send).outcome.reason == Reason::BadAgent);
  CHECK(h.exchange().find_account(address_of_name("bot")) == nullptr);
}

TEST_CASE("trigger orders wait for the mark and then trade", "[exchange]") {
  Harness h;
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("A", order("BTC", true, "50000", "1", Tif::Ioc));
  // Stop-loss: sell 1 reduce-only when the mark falls to 49,000 or below.
  auto stop =
      trigger_order(order("BTC", false, "48000", "1", Tif::Ioc, true), "49000", state::TpSl::Sl);
  REQUIRE(h.place("A", stop).kind == OrderStatus::Kind::Resting);
  h.place("C", order("BTC", true, "48500", "1"));
  h.exchange().set_mark_px(kBtc, 49'500 * kUsd);
  h.block({});
  CHECK(h.position("A", kBtc).szi == 1000);  // not yet
  h.exchange().set_mark_px(kBtc, 48'900 * kUsd);
  h.block({});
  CHECK(h.position("A", kBtc).szi == 0);  // fired and sold to C at 48,500
  CHECK(h.position("C", kBtc).szi == 1000);
}

TEST_CASE("a trigger order placed already past its price fires at the end of its block",
          "[exchange]") {
  Harness h;
  open_long_from_b(h, "1");
  h.place("C", order("BTC", true, "49500", "1"));
  // A stop-loss at 51,000 with the mark at 50,000 is already past: the mark need not move.
  auto stop =
      trigger_order(order("BTC", false, "48000", "1", Tif::Ioc, true), "51000", state::TpSl::Sl);
  REQUIRE(h.place("A", stop).kind == OrderStatus::Kind::Resting);
  CHECK(h.position("A", kBtc).szi == 0);  // fired in the same block, sold to C at 49,500
  CHECK(h.position("C", kBtc).szi == 1000);
  // One not yet past (a stop at 45,000) still waits.
  open_long_from_b(h, "1");
  stop.trigger_px = {"45000", 45'000 * kUsd};
  REQUIRE(h.place("A", stop).kind == OrderStatus::Kind::Resting);
  h.block({});
  CHECK(h.position("A", kBtc).szi == 1000);
}

TEST_CASE("a mark move fires exactly the triggers it reaches - on its market - in oid order",
          "[exchange]") {
  Harness h;
  auto trigger = [&](std::string market, bool buy, std::string limit_px, state::TpSl tpsl,
                     std::string trigger_px, std::int64_t trigger_units) {
    auto spec = order(std::move(market), buy, std::move(limit_px), "0.01");
    spec.trigger_px = {std::move(trigger_px), trigger_units};
    spec.tpsl = tpsl;
    const OrderStatus placed = h.place("A", spec);
    REQUIRE(placed.kind == OrderStatus::Kind::Resting);
    return placed.oid;
  };
  using state::TpSl;
  // BTC's mark is 50,000. Limits far from any order, so what fires rests and can be seen.
  const OrderId sell_tp_51k = trigger("BTC", false, "60000", TpSl::Tp, "51000", 51'000 * kUsd);
  const OrderId buy_sl_50_5k = trigger("BTC", true, "40000", TpSl::Sl, "50500", 50'500 * kUsd);
  const OrderId sell_sl_49k = trigger("BTC", false, "60000", TpSl::Sl, "49000", 49'000 * kUsd);
  const OrderId buy_tp_49_5k = trigger("BTC", true, "40000", TpSl::Tp, "49500", 49'500 * kUsd);
  const OrderId sell_tp_52k = trigger("BTC", false, "60000", TpSl::Tp, "52000", 52'000 * kUsd);
  const OrderId eth_sell_tp = trigger("ETH", false, "4000", TpSl::Tp, "3100", 3'100 * kUsd);
  auto waiting = [&] {
    std::vector<OrderId> oids = h.account("A").triggers;
    std::sort(oids.begin(), oids.end());
    return oids;
  };
  auto resting_px = [&](OrderId oid) { return h.exchange().markets()[kBtc].book.find(oid)->px; };
  REQUIRE(h.account("A").orders.empty());

  // Up to 51,000: the sell take-profit at 51,000 (reached exactly) and the buy stop-loss at
  // 50,500 fire; the take-profit at 52,000 and the falling ones wait.
  h.exchange().set_mark_px(kBtc, 51'000 * kUsd);
  h.block({});
  CHECK(waiting() == std::vector<OrderId>{sell_sl_49k, buy_tp_49_5k, sell_tp_52k, eth_sell_tp});
  std::vector<OrderId> resting = h.account("A").orders;
  std::sort(resting.begin(), resting.end());
  // They rest under the oids they were given.
  CHECK(resting == std::vector<OrderId>{sell_tp_51k, buy_sl_50_5k});
  CHECK(resting_px(sell_tp_51k) == 60'000 * kUsd);
  CHECK(resting_px(buy_sl_50_5k) == 40'000 * kUsd);

  // Down to 49,000: the sell stop-loss at 49,000 (reached exactly) and the buy take-profit at
  // 49,500 fire.
  h.exchange().set_mark_px(kBtc, 49'000 * kUsd);
  h.block({});
  CHECK(waiting() == std::vector<OrderId>{sell_tp_52k, eth_sell_tp});
  CHECK(h.account("A").orders.size() == 4);

  // Restored from storage, the waiting triggers are queued again: there a rise to 52,000 fires
  // the last BTC one.
  state::MemKvStore store;
  REQUIRE(h.executor().save(store));
  auto restored = Executor::restore(store, Exchange(test_genesis()), h.executor().height());
  REQUIRE(restored);
  CHECK(restored->app_hash() == h.executor().app_hash());
  restored->app().set_mark_px(kBtc, 52'000 * kUsd);
  state::Block next;
  next.context = {h.executor().height() + 1, h.time() + 1000, {}};
  restored->execute(next);
  const Account& a = *restored->app().find_account(address_of_name("A"));
  CHECK(a.triggers == std::vector<OrderId>{eth_sell_tp});
  CHECK(a.orders.size() == 5);
  CHECK(restored->app().markets()[kBtc].triggers_on_rise.empty());
  CHECK(restored->app().markets()[kBtc].triggers_on_fall.empty());
}

TEST_CASE("triggers fired by rising and falling marks in two markets are released in oid order",
          "[exchange]") {
  Harness h;
  auto trigger = [&](std::string market, std::string limit_px, state::TpSl tpsl,
                     std::string trigger_px, std::int64_t trigger_units) {
    auto spec = order(std::move(market), false, std::move(limit_px), "0.01");
    spec.trigger_px = {std::move(trigger_px), trigger_units};
    spec.tpsl = tpsl;
    REQUIRE(h.place("A", spec).kind == OrderStatus::Kind::Resting);
  };
  using state::TpSl;
  // Marks: BTC 50,000, ETH 3,000. Each fires at the next move of its market's mark: a sell
  // stop-loss at 50,500 (falling side), an ETH take-profit at 2,900 and a BTC take-profit at
  // 49,500 (rising side), placed in that order.
  trigger("BTC", "60000", TpSl::Sl, "50500", 50'500 * kUsd);
  trigger("ETH", "4000", TpSl::Tp, "2900", 2'900 * kUsd);
  trigger("BTC", "61000", TpSl::Tp, "49500", 49'500 * kUsd);
  h.exchange().set_mark_px(kBtc, 50'100 * kUsd);
  h.exchange().set_mark_px(1, 3'010 * kUsd);
  h.block({});
  CHECK(h.account("A").triggers.empty());
  std::vector<OrderId> placed = h.account("A").orders;
  std::sort(placed.begin(), placed.end());
  REQUIRE(placed.size() == 3);
  // Fresh oids in the triggers' order, not market by market or side by side.
  const auto& markets = h.exchange().markets();
  REQUIRE(markets[kBtc].book.find(placed[0]));
  CHECK(markets[kBtc].book.find(placed[0])->px == 60'000 * kUsd);
  REQUIRE(markets[1].book.find(placed[1]));
  CHECK(markets[1].book.find(placed[1])->px == 4'000 * kUsd);
  REQUIRE(markets[kBtc].book.find(placed[2]));
  CHECK(markets[kBtc].book.find(placed[2])->px == 61'000 * kUsd);
}

TEST_CASE("a fired trigger order keeps its oid and queues from when it fired - after a restore too",
          "[exchange]") {
  Harness h;
  auto take_profit = trigger_order(order("BTC", false, "60000", "0.01"), "51000", state::TpSl::Tp);
  const OrderId fired = h.place("A", take_profit).oid;
  const OrderId earlier = h.place("B", order("BTC", false, "60000", "0.01")).oid;
  REQUIRE(earlier > fired);
  h.exchange().set_mark_px(kBtc, 51'000 * kUsd);
  h.block({});
  auto queue = [](const Exchange& exchange) {
    std::vector<OrderId> oids;
    exchange.markets()[kBtc].book.visit_side(Side::Ask, [&](const RestingOrder& o) {
      oids.push_back(o.oid);
      return true;
    });
    return oids;
  };
  // A rests under the oid it was given, behind B, which was on the book when A's order fired.
  CHECK(queue(h.exchange()) == std::vector<OrderId>{earlier, fired});
  // A refused modify puts it back at that place, not at its oid's.
  state::ModifyOrder too_big;
  too_big.oid = fired;
  too_big.order = order("BTC", false, "60000", "100");  // 6,000,000 notional at 20x
  CHECK(h.act("A", too_big).outcome.response.at(0).error == Reason::InsufficientMargin);
  CHECK(queue(h.exchange()) == std::vector<OrderId>{earlier, fired});

  state::MemKvStore store;
  REQUIRE(h.executor().save(store));
  auto restored = Executor::restore(store, Exchange(test_genesis()), h.executor().height());
  REQUIRE(restored);
  CHECK(restored->app_hash() == h.executor().app_hash());
  CHECK(queue(restored->app()) == std::vector<OrderId>{earlier, fired});

  // A buyer of 0.01 meets B; A's order is cancelled by its oid.
  h.place("C", order("BTC", true, "60000", "0.01", Tif::Ioc));
  CHECK(h.position("B", kBtc).szi == -10);
  CHECK(h.position("A", kBtc).szi == 0);
  state::CancelOrders cancel;
  cancel.cancels.items.push_back({"BTC", fired});
  CHECK(h.act("A", cancel).outcome.response.at(0).kind == OrderStatus::Kind::Success);
  CHECK(queue(h.exchange()).empty());
}

TEST_CASE(
    "reduce-only orders are trimmed newest first by when they entered the book - a fired "
    "trigger order after an older oid",
    "[exchange]") {
  Harness h;
  open_long_from_b(h, "0.01");  // A long 10 lots
  auto take_profit = trigger_order(order("BTC", false, "60000", "0.006", Tif::Gtc, true), "51000",
                                   state::TpSl::Tp);
  const OrderId fired = h.place("A", take_profit).oid;
  const OrderId resting = h.place("A", order("BTC", false, "61000", "0.004", Tif::Gtc, true)).oid;
  REQUIRE(resting > fired);
  h.exchange().set_mark_px(kBtc, 51'000 * kUsd);
  h.block({});  // the take-profit rests now: 6 + 4 reduce-only lots against the long 10
  REQUIRE(h.exchange().markets()[kBtc].book.find(fired) != nullptr);
  // A sells 5 lots: 5 of the 10 reduce-only lots must go, from the take-profit, which entered
  // the book last (its oid is older than the other order's).
  h.place("B", order("BTC", true, "50000", "0.005"));
  REQUIRE(h.place("A", order("BTC", false, "50000", "0.005", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  CHECK(h.position("A", kBtc).szi == 5);
  CHECK(h.exchange().markets()[kBtc].book.find(fired)->sz == 1);
  CHECK(h.exchange().markets()[kBtc].book.find(resting)->sz == 4);
  CHECK(h.position("A", kBtc).reduce_only_sz == 5);
}

TEST_CASE("a trigger order's cloid is taken until it fires - cancelByCloid reaches it",
          "[exchange]") {
  Harness h;
  auto stop = trigger_order(order("BTC", false, "40000", "0.01"), "45000", state::TpSl::Sl);
  stop.cloid.bytes[15] = 7;
  const OrderStatus waiting = h.place("A", stop);
  REQUIRE(waiting.kind == OrderStatus::Kind::Resting);
  // The same cloid again, as a trigger or as a resting order: taken.
  CHECK(h.place("A", stop).error == Reason::DuplicateCloid);
  auto resting = order("BTC", true, "30000", "0.01");
  resting.cloid = stop.cloid;
  CHECK(h.place("A", resting).error == Reason::DuplicateCloid);
  CHECK(h.place("B", stop).kind == OrderStatus::Kind::Resting);  // per account

  state::CancelByCloid cancel;
  cancel.cancels.items.push_back({"BTC", stop.cloid});
  auto cancelled = h.act("A", cancel);
  REQUIRE(cancelled.outcome.response.at(0).kind == OrderStatus::Kind::Success);
  CHECK(cancelled.outcome.response.at(0).oid == waiting.oid);
  CHECK(h.account("A").triggers.empty());

  // Placed again, it fires at 45,000 and its order rests at 40,000 with the cloid.
  const OrderStatus again = h.place("A", stop);
  REQUIRE(again.kind == OrderStatus::Kind::Resting);
  {  // the cloid is the trigger's after a restore too
    state::MemKvStore store;
    REQUIRE(h.executor().save(store));
    auto restored = Executor::restore(store, Exchange(test_genesis()), h.executor().height());
    REQUIRE(restored);
    CHECK(restored->app().find_account(address_of_name("A"))->cloids.at({kBtc, stop.cloid}) ==
          again.oid);
  }
  h.exchange().set_mark_px(kBtc, 45'000 * kUsd);
  h.block({});
  REQUIRE(h.account("A").orders.size() == 1);
  CHECK(h.account("A").orders[0] == again.oid);  // the trigger's own oid
  CHECK(h.account("A").cloids.at({kBtc, stop.cloid}) == again.oid);
}

TEST_CASE("trigger orders count toward the open-order limit", "[exchange]") {
  Harness h;
  // 999 resting bids 0.001 BTC each, 40,000 down by a dollar, up to 64 to an action.
  for (int placed = 0; placed < 999;) {
    state::PlaceOrders bids;
    for (int i = 0; i < 64 && placed < 999; ++i, ++placed)
      bids.orders.items.push_back(order("BTC", true, std::to_string(40'000 - placed), "0.001"));
    auto receipt = h.act("A", bids);
    REQUIRE(receipt.outcome.ok);
    for (const OrderStatus& s : receipt.outcome.response)
      REQUIRE(s.kind == OrderStatus::Kind::Resting);
  }
  auto take_profit = trigger_order(order("BTC", false, "60000", "0.001"), "60000", state::TpSl::Tp);
  const OrderStatus trigger = h.place("A", take_profit);  // the 1000th open order
  REQUIRE(trigger.kind == OrderStatus::Kind::Resting);
  CHECK(h.account("A").triggers == std::vector<OrderId>{trigger.oid});
  CHECK(h.place("A", take_profit).error == Reason::TooManyOpenOrders);
  CHECK(h.place("A", order("BTC", true, "30000", "0.001")).error == Reason::TooManyOpenOrders);
  CHECK(h.place("B", take_profit).kind == OrderStatus::Kind::Resting);  // a limit per account
  // Cancelling the trigger makes room again.
  state::CancelOrders cancel;
  cancel.cancels.items.push_back({"BTC", trigger.oid});
  REQUIRE(h.act("A", cancel).outcome.response.at(0).kind == OrderStatus::Kind::Success);
  CHECK(h.account("A").triggers.empty());
  CHECK(h.place("A", order("BTC", true, "30000", "0.001")).kind == OrderStatus::Kind::Resting);
}

TEST_CASE("a rejected tx changes nothing but its nonce use", "[exchange]") {
  Harness h;
  auto before = h.executor().app_hash();
  state::UsdSend send;
  send.destination = address_of_name("B");
  send.amount = {"1000000", 1'000'000 * kUsd};
  auto receipt = h.act("A", send);
  CHECK(receipt.outcome.reason == Reason::InsufficientBalance);
  // Only the nonce key changed.
  CHECK(h.executor().app_hash() != before);
  CHECK(h.account("A").usd == 100'000 * kUsd);
  CHECK(h.executor().nonces_of(address_of_name("A"))->kept().size() == 1);
}

TEST_CASE("save and restore give the same app hash - memory and LevelDB", "[exchange]") {
  Harness h;
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("B", order("BTC", false, "50100", "2"));
  auto cl = order("BTC", true, "49000", "1");
  cl.cloid.bytes[0] = 1;
  h.place("A", cl);
  h.place("A", order("BTC", true, "50100", "1.5", Tif::Ioc));
  REQUIRE(h.act("C", state::UpdateLeverage{"ETH", false, 3}).outcome.ok);
  state::MemKvStore store;
  REQUIRE(h.executor().save(store).ok());
  auto restored = Executor::restore(store, Exchange(test_genesis()), h.executor().height());
  REQUIRE(restored.ok());
  CHECK(restored->app_hash() == h.executor().app_hash());
  CHECK(*state::StateCommitment::recompute(store, state::kStatePrefix) == h.executor().app_hash());
  // The restored book and accounts behave the same: cancelling by cloid works, same next oid.
  CHECK(restored->app().find_account(address_of_name("A"))->cloids.size() == 1);
  CHECK(restored->app().markets()[kBtc].book.size() == h.exchange().markets()[kBtc].book.size());
}

TEST_CASE("query results have the SPEC section 5 shapes with decimal strings", "[exchange]") {
  Harness h;
  auto bid = order("BTC", true, "49000", "0.5");
  bid.cloid.bytes[15] = 9;
  h.place("A", bid);
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("A", order("BTC", true, "50000", "0.25", Tif::Ioc));

  auto book = order_book_to_json(h.exchange(), kBtc, 5, 7, 123).as_object();
  CHECK(book.at("market").as_string() == "BTC");
  CHECK(book.at("bids").as_array().at(0).as_object().at("px").as_string() == "49000");
  CHECK(book.at("bids").as_array().at(0).as_object().at("sz").as_string() == "0.5");
  CHECK(book.at("asks").as_array().at(0).as_object().at("sz").as_string() == "0.75");
  CHECK(book.at("asks").as_array().at(0).as_object().at("n").as_uint64() == 1);

  auto acct = account_to_json(h.exchange(), address_of_name("A")).as_object();
  // 100,000 - taker fee on 12,500 notional (5.625).
  CHECK(acct.at("usd").as_string() == "99994.375");
  const auto& pos = acct.at("positions").as_array().at(0).as_object();
  CHECK(pos.at("szi").as_string() == "0.25");
  CHECK(pos.at("entryPx").as_string() == "50000");
  CHECK(pos.at("positionValue").as_string() == "12500");
  CHECK(pos.at("leverage").as_object().at("type").as_string() == "cross");
  // Margin: position 12,500 at 20x = 625; bid 24,500 joins the worst case: (12,500 + 24,500) / 20 =
  // 1,850.
  CHECK(acct.at("marginUsed").as_string() == "1850");

  auto orders = open_orders_to_json(h.exchange(), address_of_name("A")).as_array();
  REQUIRE(orders.size() == 1);
  CHECK(orders[0].as_object().at("side").as_string() == "B");
  CHECK(orders[0].as_object().at("cloid").as_string() == "0x00000000000000000000000000000009");

  auto fills = fills_to_json(h.exchange(), h.fills_of("A")).as_array();
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].as_object().at("dir").as_string() == "Open Long");
  CHECK(fills[0].as_object().at("fee").as_string() == "5.625");

  auto markets = markets_to_json(h.exchange()).as_array();
  CHECK(markets.at(0).as_object().at("openInterest").as_string() == "0.25");
  CHECK(markets.at(0).as_object().at("midPx").as_string() == "49500");
}

TEST_CASE("genesis stake balances show as free stake in perp_account and survive a restore",
          "[exchange]") {
  GenesisState genesis = test_genesis();
  genesis.balances[0].stake = 600'000 * kMicro + 250'000;  // A: 600,000.25 stake tokens
  Harness h(genesis);
  h.block({});
  auto stake_of = [](const Exchange& exchange, std::string_view who) {
    return account_to_json(exchange, address_of_name(who)).at("stake").as_object();
  };
  const auto a = stake_of(h.exchange(), "A");
  CHECK(a.at("free").as_string() == "600000.25");
  CHECK(a.at("staked").as_string() == "0");
  CHECK(stake_of(h.exchange(), "B").at("free").as_string() == "0");
  state::MemKvStore store;
  REQUIRE(h.executor().save(store));
  // Restored over a genesis without the stake: the balance comes from A's stored record.
  auto restored = Executor::restore(store, Exchange(test_genesis()), h.executor().height());
  REQUIRE(restored);
  CHECK(restored->app_hash() == h.executor().app_hash());
  CHECK(stake_of(restored->app(), "A").at("free").as_string() == "600000.25");
}

TEST_CASE("perp_account totals include isolated positions - withdrawable stays cross",
          "[exchange]") {
  Harness h;
  REQUIRE(h.set_leverage("A", "BTC", 10, false));
  open_long_from_b(h, "1");
  // Isolated 10x long 1 BTC at 50,000: 5,000 moves into the position, fee 22.5 from the cash:
  // usd 94,977.5. Mark 51,000: unrealized +1,000, maintenance 51,000 / (2 x 50) = 510.
  h.exchange().set_mark_px(kBtc, 51'000 * kUsd);
  const auto acct = account_to_json(h.exchange(), address_of_name("A")).as_object();
  CHECK(acct.at("usd").as_string() == "94977.5");
  CHECK(acct.at("accountValue").as_string() == "100977.5");  // 94,977.5 + 5,000 + 1,000
  CHECK(acct.at("marginUsed").as_string() == "5000");
  CHECK(acct.at("maintenanceMargin").as_string() == "510");
  CHECK(acct.at("withdrawable").as_string() == "94977.5");
}

TEST_CASE("perp_openOrders lists trigger orders with their trigger beside resting ones",
          "[exchange]") {
  Harness h;
  OrderStatus bid = h.place("A", order("BTC", true, "40000", "0.5"));
  auto stop =
      trigger_order(order("BTC", false, "47000", "0.25", Tif::Ioc), "48000", state::TpSl::Sl);
  OrderStatus waiting = h.place("A", stop);
  REQUIRE(waiting.kind == OrderStatus::Kind::Resting);
  const std::string bid_oid = std::to_string(bid.oid), stop_oid = std::to_string(waiting.oid);
  const std::string bid_time =
      std::to_string(h.exchange().markets()[kBtc].book.find(bid.oid)->time_ms);
  REQUIRE(h.exchange().find_trigger(waiting.oid) != nullptr);
  const std::string stop_time =
      std::to_string(h.exchange().find_trigger(waiting.oid)->second.order.time_ms);
  CHECK(json::serialize(open_orders_to_json(h.exchange(), address_of_name("A"))) ==
        R"([{"market":"BTC","oid":)" + bid_oid +
            R"(,"cloid":null,"side":"B","px":"40000","sz":"0.5","origSz":"0.5","timestamp":)" +
            bid_time + R"(},{"market":"BTC","oid":)" + stop_oid +
            R"(,"cloid":null,"side":"A","px":"47000","sz":"0.25","origSz":"0.25","timestamp":)" +
            stop_time + R"(,"triggerPx":"48000","tpsl":"sl"}])");
  // Cancelled by the oid it was given, it leaves the list.
  state::CancelOrders cancel;
  cancel.cancels.items.push_back({"BTC", waiting.oid});
  REQUIRE(h.act("A", cancel).outcome.response.at(0).kind == OrderStatus::Kind::Success);
  CHECK(open_orders_to_json(h.exchange(), address_of_name("A")).as_array().size() == 1);
}

TEST_CASE("executor state saved to LevelDB restores to the same app hash and keeps trading alike",
          "[exchange]") {
  Harness h;
  h.place("B", order("BTC", false, "50000", "1"));
  h.place("A", order("BTC", true, "49000", "1"));
  h.place("A", order("BTC", true, "50000", "0.5", Tif::Ioc));
  auto dir = std::filesystem::temp_directory_path() / ("perpd-exec-" + std::to_string(h.time()));
  {
    auto db = state::open_leveldb(dir.string(), true);
    REQUIRE(db.ok());
    // As a node would: genesis, then each block's changes (here: one save of the whole state).
    REQUIRE(h.executor().save(**db).ok());
  }
  auto db = state::open_leveldb(dir.string(), false);
  REQUIRE(db.ok());
  auto restored = Executor::restore(**db, Exchange(test_genesis()), h.executor().height());
  REQUIRE(restored.ok());
  CHECK(restored->app_hash() == h.executor().app_hash());
  // The same next block on both gives the same result.
  state::Block block;
  block.context = {h.executor().height() + 1, h.time() + 1000, {}};
  state::VerifiedAction v;
  state::PlaceOrders p;
  p.orders.items.push_back(order("BTC", false, "49000", "1", Tif::Ioc));
  v.signed_action.action = p;
  v.signed_action.nonce = h.time() + 999;
  v.signer = address_of_name("C");
  block.txs.push_back(v);
  auto a = h.executor().execute(block);
  auto b = restored->execute(block);
  CHECK(a.app_hash == b.app_hash);
  CHECK(a.receipts[0].outcome.response[0].kind == OrderStatus::Kind::Filled);
  std::filesystem::remove_all(dir);
}

TEST_CASE("restoring damaged state records is a StorageError - never a crash", "[exchange]") {
  Harness h;
  h.place("A", order("BTC", true, "49000", "1"));
  state::MemKvStore store;
  REQUIRE(h.executor().save(store).ok());
  // Find the order record and damage its price (off the grid), then truncate an account record.
  const std::string order_key = first_record(store, "s/O").first;
  const auto [account_key, account_value] = first_record(store, "s/A");
  std::string value = *store.get(order_key).value();
  value[4 + 20 + 2 + 7] ^= 0x01;  // last byte of px: 49000.000001 is not a valid price
  state::WriteBatch damage;
  damage.put(order_key, value);
  REQUIRE(store.write(damage).ok());
  auto restored = Executor::restore(store, Exchange(test_genesis()), 1);
  CHECK(restored.reason() == Reason::StorageError);

  state::WriteBatch truncate;
  truncate.put(order_key, "x");
  truncate.put(account_key, account_value.substr(0, 5));
  REQUIRE(store.write(truncate).ok());
  CHECK(Executor::restore(store, Exchange(test_genesis()), 1).reason() == Reason::StorageError);

  // An account id far past any other: refused, not allocated for (4 billion accounts).
  value[4 + 20 + 2 + 7] ^= 0x01;  // the order as it was: only the account is damaged now
  state::WriteBatch far_id;
  far_id.put(order_key, value);
  far_id.put(account_key, "\xff\xff\xff\xf0" + account_value.substr(4));
  REQUIRE(store.write(far_id).ok());
  auto far = Executor::restore(store, Exchange(test_genesis()), 1);
  REQUIRE(far.reason() == Reason::StorageError);
  INFO(far.error().message);
  CHECK(far.error().message.find("damaged state record at key s/") != std::string::npos);
  CHECK(far.error().message.find(state::to_hex(
            std::span(reinterpret_cast<const std::uint8_t*>(account_key.data()) + 2, 1))) !=
        std::string::npos);
}

TEST_CASE(
    "restoring a queue place that was never drawn - or an oid stored twice - is a "
    "StorageError",
    "[exchange]") {
  Harness h;
  h.place("A", order("BTC", true, "49000", "1"));
  state::MemKvStore store;
  REQUIRE(h.executor().save(store).ok());
  const auto [order_key, order_value] = first_record(store, "s/O");
  auto restore_with = [&](std::string key, std::string value) {
    state::MemKvStore damaged;
    state::WriteBatch all;
    REQUIRE(store
                .scan("",
                      [&](std::string_view k, std::string_view v) {
                        all.put(k, v);
                        return true;
                      })
                .ok());
    all.put(key, value);
    REQUIRE(damaged.write(all).ok());
    return Executor::restore(damaged, Exchange(test_genesis()), 1).reason();
  };
  auto be64 = [](std::uint64_t v) {
    std::string out;
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
    return out;
  };
  // The order is oid 1 and the next oid 2: place 2 was never drawn.
  CHECK(restore_with(order_key, order_value + be64(2)) == Reason::StorageError);
  // The same oid as a waiting trigger order too (a trigger record: the order, tif, tpsl, px).
  std::string trigger_key = order_key;
  trigger_key[2] = 'T';
  CHECK(restore_with(trigger_key, order_value + std::string("\x01\x01", 2) + be64(45'000 * kUsd)) ==
        Reason::StorageError);
}

TEST_CASE("margin tiers: a larger position gets a lower maximum leverage and more maintenance",
          "[exchange]") {
  GenesisState g = test_genesis();
  // BTC: up to 50x below 100,000 USD of notional, 10x from there.
  g.markets[0].tiers = {{0, 50}, {100'000 * kUsd, 10}};
  Harness h(g);
  REQUIRE(h.act("A", state::UpdateLeverage{"BTC", true, 40}).outcome.ok);
  h.place("B", order("BTC", false, "50000", "3"));
  h.place("A", order("BTC", true, "50000", "1", Tif::Ioc));
  // 50,000 notional is in the first tier: 40x holds. Initial 1,250; maintenance 50,000 / 100 = 500.
  MarginSummary m = h.exchange().margin_summary(h.account("A"));
  CHECK(m.margin_required == 1'250 * kUsd);
  CHECK(m.maintenance_margin == 500 * kUsd);
  h.place("A", order("BTC", true, "50000", "2", Tif::Ioc));
  // 150,000 notional is in the 10x tier: initial 150,000 / 10 = 15,000 whatever the 40x setting;
  // maintenance = half the initial at the tier's maximum: 150,000 / 20 = 7,500.
  m = h.exchange().margin_summary(h.account("A"));
  CHECK(m.margin_required == 15'000 * kUsd);
  CHECK(m.maintenance_margin == 7'500 * kUsd);
}

TEST_CASE("updateLeverage: lowering needs margin - raising is allowed even under water",
          "[exchange]") {
  Harness h(test_genesis(3'000 * kUsd));
  h.place("B", order("BTC", false, "50000", "1"));
  // At 20x, 1 BTC (50,000) needs 2,500 of A's 3,000.
  REQUIRE(h.place("A", order("BTC", true, "50000", "1", Tif::Ioc)).kind ==
          OrderStatus::Kind::Filled);
  // 10x would need 5,000: rejected.
  CHECK(h.act("A", state::UpdateLeverage{"BTC", true, 10}).outcome.reason ==
        Reason::InsufficientMargin);
  // A 2% drop: account value 3,000 - 22.5 - 1,000 < 2,450 required: under water.
  h.exchange().set_mark_px(kBtc, 49'000 * kUsd);
  CHECK(h.exchange().margin_summary(h.account("A")).account_value <
        h.exchange().margin_summary(h.account("A")).margin_required);
  // Raising to 40x lowers the requirement: allowed.
  CHECK(h.act("A", state::UpdateLeverage{"BTC", true, 40}).outcome.ok);
  CHECK(h.position("A", kBtc).leverage == 40);
}

TEST_CASE("order statuses as JSON text: resting - filled - success - error", "[exchange]") {
  Harness h;
  const OrderStatus resting = h.place("B", order("BTC", false, "50000", "0.3"));
  const OrderStatus filled = h.place("A", order("BTC", true, "50000", "0.25", Tif::Ioc));
  const OrderStatus error = h.place("A", order("XYZ", true, "1", "1"));
  REQUIRE(resting.kind == OrderStatus::Kind::Resting);
  REQUIRE(filled.kind == OrderStatus::Kind::Filled);
  OrderStatus success;
  success.kind = OrderStatus::Kind::Success;
  const OrderStatuses statuses{resting, filled, success, error};
  const std::string text = order_statuses_json_text(h.exchange(), statuses);
  const json::value expected =
      json::parse(R"({"statuses":[{"resting":{"oid":)" + std::to_string(resting.oid) +
                  R"(}},{"filled":{"oid":)" + std::to_string(filled.oid) +
                  R"(,"totalSz":"0.25","avgPx":"50000"}},"success",{"error":"UnknownMarket"}]})");
  CHECK(json::parse(text) == expected);
  CHECK(order_statuses_json_text(h.exchange(), {}) == R"({"statuses":[]})");
}
