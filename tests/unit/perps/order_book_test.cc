// One suite for both order books (the fast perps::OrderBook and the obviously correct
// perps::ReferenceBook): every expected value below is worked out by hand from the contract in
// perps/order_book.h, so the two books are held to the contract, not merely to each other (that
// is order_book_diff_test.cc).
#include <catch2/catch.hpp>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "perps/book_hash.h"
#include "perps/order_book.h"
#include "perps/reference_book.h"

using namespace perps;
using Status = PlaceOutcome::Status;

namespace {

constexpr Side kBid = Side::Bid;
constexpr Side kAsk = Side::Ask;
constexpr TimeInForce kGtc = TimeInForce::Gtc;
constexpr TimeInForce kIoc = TimeInForce::Ioc;
constexpr TimeInForce kAlo = TimeInForce::Alo;
constexpr Px k2p60 = Px{1} << 60;

RestingOrder make_order(OrderId oid, AccountId owner, Side side, Px px, Lots sz) {
  RestingOrder order;
  order.oid = oid;
  order.owner = owner;
  order.side = side;
  order.px = px;
  order.sz = order.orig_sz = sz;
  order.time_ms = 1000 + oid;  // distinct, so a swapped field would show
  return order;
}

// "fill #<maker oid> a<maker account> <sz>@<px> [done]" or "expire ...": readable on failure.
std::string describe(const MatchEvent& event) {
  std::ostringstream out;
  out << (event.kind == MatchEvent::Kind::Fill ? "fill" : "expire") << " #" << event.maker_oid
      << " a" << event.maker << " " << event.sz << "@" << event.px
      << (event.maker_done ? " done" : "");
  return out.str();
}

template <class Book>
struct Harness {
  Book book;
  std::vector<MatchEvent> events;

  explicit Harness(PriceGrid grid = PriceGrid::uniform(1)) : book(grid) {}

  PlaceOutcome place(OrderId oid, AccountId owner, Side side, Px px, Lots sz,
                     TimeInForce tif = kGtc) {
    events.clear();
    return book.place(make_order(oid, owner, side, px, sz), tif, events);
  }
  // Places a resting maker and checks that it rested untouched.
  void rest(OrderId oid, AccountId owner, Side side, Px px, Lots sz) {
    const PlaceOutcome outcome = place(oid, owner, side, px, sz);
    REQUIRE(outcome.status == Status::Rested);
    REQUIRE(outcome.filled == 0);
    REQUIRE(events.empty());
  }
  std::vector<std::string> log() const {
    std::vector<std::string> out;
    for (const MatchEvent& event : events) out.push_back(describe(event));
    return out;
  }
  // "px=<px> sz=<sz> n=<orders>" per level, best first.
  std::vector<std::string> levels(Side side, std::size_t depth = 1000) const {
    std::vector<BookLevel> rows;
    book.levels(side, depth, rows);
    std::vector<std::string> out;
    for (const BookLevel& row : rows)
      out.push_back("px=" + std::to_string(row.px) + " sz=" + std::to_string(row.sz) +
                    " n=" + std::to_string(row.n));
    return out;
  }
  // Resting oids in for_each_order order.
  std::vector<OrderId> oids() const {
    std::vector<OrderId> out;
    book.for_each_order([&](const RestingOrder& order) { out.push_back(order.oid); });
    return out;
  }
  Lots size_of(OrderId oid) const {
    const RestingOrder* order = book.find(oid);
    return order ? order->sz : -1;
  }
};

using Strings = std::vector<std::string>;
using Oids = std::vector<OrderId>;

}  // namespace

TEMPLATE_TEST_CASE("an empty book has no best prices and no levels", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  CHECK_FALSE(h.book.best_bid().has_value());
  CHECK_FALSE(h.book.best_ask().has_value());
  CHECK(h.book.size() == 0);
  CHECK(h.levels(kBid).empty());
  CHECK(h.levels(kAsk).empty());
  CHECK(h.oids().empty());
  CHECK(h.book.find(1) == nullptr);
  CHECK_FALSE(h.book.cancel(1).has_value());
  CHECK_FALSE(h.book.reduce_size(1, 1));
  // keccak256 of the empty string.
  CHECK(state::to_hex(book_hash(h.book)) ==
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

TEMPLATE_TEST_CASE("a buy taker sweeps asks best price first at the maker price", "[book]",
                   OrderBook, ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 3, kAsk, 101, 5);  // the worse price arrives first: price beats time
  h.rest(2, 2, kAsk, 100, 3);
  CHECK(h.book.best_ask() == 100);

  const PlaceOutcome outcome = h.place(3, 1, kBid, 105, 7);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 7);
  CHECK(h.log() == Strings{"fill #2 a2 3@100 done", "fill #1 a3 4@101"});
  CHECK(h.book.best_ask() == 101);
  CHECK_FALSE(h.book.best_bid().has_value());
  CHECK(h.book.size() == 1);
  REQUIRE(h.book.find(1) != nullptr);
  CHECK(h.book.find(1)->sz == 1);
  CHECK(h.book.find(1)->orig_sz == 5);
  CHECK(h.book.find(2) == nullptr);
  CHECK(h.book.find(3) == nullptr);
  CHECK(h.levels(kAsk) == Strings{"px=101 sz=1 n=1"});
}

TEMPLATE_TEST_CASE("a sell taker sweeps bids best price first at the maker price", "[book]",
                   OrderBook, ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 2, kBid, 99, 5);
  h.rest(2, 3, kBid, 100, 3);
  CHECK(h.book.best_bid() == 100);

  const PlaceOutcome outcome = h.place(3, 1, kAsk, 95, 7);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 7);
  CHECK(h.log() == Strings{"fill #2 a3 3@100 done", "fill #1 a2 4@99"});
  CHECK(h.book.best_bid() == 99);
  CHECK(h.size_of(1) == 1);
  CHECK(h.levels(kBid) == Strings{"px=99 sz=1 n=1"});
}

TEMPLATE_TEST_CASE("orders at one price fill earliest first", "[book]", OrderBook, ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 2, kAsk, 100, 2);
  h.rest(2, 3, kAsk, 100, 3);
  h.rest(3, 4, kAsk, 100, 4);

  PlaceOutcome outcome = h.place(4, 1, kBid, 100, 4, kIoc);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 4);
  CHECK(h.log() == Strings{"fill #1 a2 2@100 done", "fill #2 a3 2@100"});
  CHECK(h.oids() == Oids{2, 3});
  CHECK(h.size_of(2) == 1);
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=5 n=2"});

  // A later order at the same price queues behind the partially filled one.
  h.rest(5, 5, kAsk, 100, 2);
  CHECK(h.oids() == Oids{2, 3, 5});
  outcome = h.place(6, 1, kBid, 100, 6);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 6);
  CHECK(h.log() == Strings{"fill #2 a3 1@100 done", "fill #3 a4 4@100 done", "fill #5 a5 1@100"});
  CHECK(h.oids() == Oids{5});
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=1 n=1"});
}

TEMPLATE_TEST_CASE("a taker stops at its limit and a gtc remainder rests", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 2, kAsk, 100, 3);
  h.rest(2, 2, kAsk, 101, 4);

  PlaceOutcome outcome = h.place(3, 1, kBid, 100, 5);
  CHECK(outcome.status == Status::Rested);
  CHECK(outcome.filled == 3);
  CHECK(h.log() == Strings{"fill #1 a2 3@100 done"});
  CHECK(h.book.best_bid() == 100);
  CHECK(h.book.best_ask() == 101);
  const RestingOrder* rested = h.book.find(3);
  REQUIRE(rested != nullptr);
  CHECK(rested->sz == 2);
  CHECK(rested->orig_sz == 5);
  CHECK(rested->owner == 1);
  CHECK(rested->side == kBid);
  CHECK(rested->px == 100);
  CHECK(rested->time_ms == 1003);

  // A gtc that crosses nothing rests whole, behind what is already at its price.
  outcome = h.place(4, 4, kBid, 100, 1);
  CHECK(outcome.status == Status::Rested);
  CHECK(outcome.filled == 0);
  CHECK(h.events.empty());
  CHECK(h.oids() == Oids{3, 4, 2});
  CHECK(h.levels(kBid) == Strings{"px=100 sz=3 n=2"});
}

TEMPLATE_TEST_CASE("an ioc never rests", "[book]", OrderBook, ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 2, kAsk, 100, 2);

  PlaceOutcome outcome = h.place(2, 1, kBid, 100, 5, kIoc);
  CHECK(outcome.status == Status::IocRemainderCancelled);
  CHECK(outcome.filled == 2);
  CHECK(h.log() == Strings{"fill #1 a2 2@100 done"});
  CHECK(h.book.size() == 0);
  CHECK(h.book.find(2) == nullptr);
  CHECK_FALSE(h.book.best_bid().has_value());

  // Nothing to trade against: dropped with nothing filled.
  outcome = h.place(3, 1, kBid, 100, 5, kIoc);
  CHECK(outcome.status == Status::IocRemainderCancelled);
  CHECK(outcome.filled == 0);
  CHECK(h.events.empty());
  outcome = h.place(4, 1, kAsk, 100, 5, kIoc);
  CHECK(outcome.status == Status::IocRemainderCancelled);
  CHECK(outcome.filled == 0);
  CHECK(h.book.size() == 0);

  // Fully filled: Filled, not IocRemainderCancelled.
  h.rest(5, 2, kAsk, 100, 5);
  outcome = h.place(6, 1, kBid, 101, 3, kIoc);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 3);
  CHECK(h.log() == Strings{"fill #5 a2 3@100"});
  CHECK(h.size_of(5) == 2);
}

TEMPLATE_TEST_CASE("an alo rests only when it would not cross", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 2, kAsk, 100, 2);
  h.rest(2, 3, kBid, 98, 2);

  PlaceOutcome outcome = h.place(3, 1, kBid, 99, 1, kAlo);
  CHECK(outcome.status == Status::Rested);
  CHECK(outcome.filled == 0);
  CHECK(h.book.best_bid() == 99);

  const state::Hash256 before = book_hash(h.book);
  outcome = h.place(4, 1, kBid, 100, 1, kAlo);
  CHECK(outcome.status == Status::AloWouldCross);
  CHECK(outcome.filled == 0);
  CHECK(h.events.empty());
  CHECK(h.book.find(4) == nullptr);
  outcome = h.place(5, 1, kAsk, 99, 1, kAlo);
  CHECK(outcome.status == Status::AloWouldCross);
  // Crossing only the owner's own order still counts as crossing: nothing expires.
  outcome = h.place(6, 2, kBid, 100, 1, kAlo);
  CHECK(outcome.status == Status::AloWouldCross);
  CHECK(h.events.empty());
  CHECK(book_hash(h.book) == before);
  CHECK(h.book.size() == 3);

  outcome = h.place(7, 1, kAsk, 100, 1, kAlo);
  CHECK(outcome.status == Status::Rested);
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=3 n=2"});
}

TEMPLATE_TEST_CASE("self trade expires the maker and matching continues", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 1, kAsk, 100, 2);
  h.rest(2, 2, kAsk, 100, 3);
  h.rest(3, 1, kAsk, 101, 1);
  h.rest(4, 3, kAsk, 102, 5);

  const PlaceOutcome outcome = h.place(5, 1, kBid, 102, 6);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 6);
  CHECK(h.log() == Strings{"expire #1 a1 2@100 done", "fill #2 a2 3@100 done",
                           "expire #3 a1 1@101 done", "fill #4 a3 3@102"});
  CHECK(h.oids() == Oids{4});
  CHECK(h.size_of(4) == 2);
  CHECK(h.book.best_ask() == 102);
}

TEMPLATE_TEST_CASE("a taker facing only its own orders expires them and fills nothing", "[book]",
                   OrderBook, ReferenceBook) {
  Harness<TestType> h;
  SECTION("gtc rests after expiring") {
    h.rest(1, 1, kAsk, 100, 1);
    h.rest(2, 1, kAsk, 101, 2);
    h.rest(3, 1, kAsk, 150, 4);  // beyond the limit: untouched
    const PlaceOutcome outcome = h.place(4, 1, kBid, 101, 5);
    CHECK(outcome.status == Status::Rested);
    CHECK(outcome.filled == 0);
    CHECK(h.log() == Strings{"expire #1 a1 1@100 done", "expire #2 a1 2@101 done"});
    CHECK(h.book.best_bid() == 101);
    CHECK(h.book.best_ask() == 150);
    CHECK(h.levels(kBid) == Strings{"px=101 sz=5 n=1"});
    CHECK(h.oids() == Oids{4, 3});
  }
  SECTION("ioc leaves the book empty") {
    h.rest(1, 1, kBid, 100, 1);
    h.rest(2, 1, kBid, 99, 1);
    const PlaceOutcome outcome = h.place(3, 1, kAsk, 1, 5, kIoc);
    CHECK(outcome.status == Status::IocRemainderCancelled);
    CHECK(outcome.filled == 0);
    CHECK(h.log() == Strings{"expire #1 a1 1@100 done", "expire #2 a1 1@99 done"});
    CHECK(h.book.size() == 0);
    CHECK_FALSE(h.book.best_bid().has_value());
  }
}

TEMPLATE_TEST_CASE("cancel returns the order and ignores unknown oids", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 1, kBid, 100, 2);
  h.rest(2, 2, kBid, 100, 3);
  h.rest(3, 1, kBid, 99, 1);

  const std::optional<RestingOrder> cancelled = h.book.cancel(2);
  REQUIRE(cancelled.has_value());
  CHECK(cancelled->oid == 2);
  CHECK(cancelled->owner == 2);
  CHECK(cancelled->side == kBid);
  CHECK(cancelled->px == 100);
  CHECK(cancelled->sz == 3);
  CHECK(cancelled->orig_sz == 3);
  CHECK(cancelled->time_ms == 1002);
  CHECK(h.levels(kBid) == Strings{"px=100 sz=2 n=1", "px=99 sz=1 n=1"});
  CHECK_FALSE(h.book.cancel(2).has_value());
  CHECK_FALSE(h.book.cancel(42).has_value());
  CHECK(h.book.size() == 2);

  REQUIRE(h.book.cancel(1).has_value());
  CHECK(h.book.best_bid() == 99);  // the best level emptied: the next one takes over
  REQUIRE(h.book.cancel(3).has_value());
  CHECK_FALSE(h.book.best_bid().has_value());
  CHECK(h.book.size() == 0);

  // A partially filled order comes back with what remained.
  h.rest(4, 2, kAsk, 100, 5);
  h.place(5, 1, kBid, 100, 2);
  const std::optional<RestingOrder> partial = h.book.cancel(4);
  REQUIRE(partial.has_value());
  CHECK(partial->sz == 3);
  CHECK(partial->orig_sz == 5);
  CHECK_FALSE(h.book.best_ask().has_value());
}

TEMPLATE_TEST_CASE("reduce_size shrinks an order in place and keeps its priority", "[book]",
                   OrderBook, ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 2, kAsk, 100, 5);
  h.rest(2, 3, kAsk, 100, 5);

  CHECK(h.book.reduce_size(1, 2));
  CHECK(h.size_of(1) == 2);
  CHECK(h.book.find(1)->orig_sz == 5);
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=7 n=2"});
  CHECK(h.oids() == Oids{1, 2});

  CHECK_FALSE(h.book.reduce_size(1, 0));
  CHECK_FALSE(h.book.reduce_size(1, -1));
  CHECK_FALSE(h.book.reduce_size(1, 3));  // growing is not reducing
  CHECK_FALSE(h.book.reduce_size(99, 1));
  CHECK(h.book.reduce_size(1, 2));  // unchanged is allowed
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=7 n=2"});

  const PlaceOutcome outcome = h.place(3, 1, kBid, 100, 3);
  CHECK(outcome.status == Status::Filled);
  CHECK(h.log() == Strings{"fill #1 a2 2@100 done", "fill #2 a3 1@100"});
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=4 n=1"});
}

TEMPLATE_TEST_CASE("levels aggregate per price best first up to depth", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 1, kBid, 97, 5);
  h.rest(2, 1, kBid, 100, 1);
  h.rest(3, 2, kBid, 99, 4);
  h.rest(4, 3, kBid, 100, 2);
  h.rest(5, 1, kAsk, 105, 2);
  h.rest(6, 2, kAsk, 101, 1);
  h.rest(7, 3, kAsk, 101, 1);
  h.rest(8, 4, kAsk, 101, 1);

  CHECK(h.levels(kBid) == Strings{"px=100 sz=3 n=2", "px=99 sz=4 n=1", "px=97 sz=5 n=1"});
  CHECK(h.levels(kBid, 2) == Strings{"px=100 sz=3 n=2", "px=99 sz=4 n=1"});
  CHECK(h.levels(kBid, 0).empty());
  CHECK(h.levels(kAsk) == Strings{"px=101 sz=3 n=3", "px=105 sz=2 n=1"});
  CHECK(h.levels(kAsk, 1) == Strings{"px=101 sz=3 n=3"});

  std::vector<BookLevel> out{{1, 1, 1}, {2, 2, 2}, {3, 3, 3}};  // replaced, not appended to
  h.book.levels(kAsk, 1, out);
  CHECK(out == std::vector<BookLevel>{{101, 3, 3}});

  // for_each_order: bids best first, then asks best first, earliest first within a level.
  CHECK(h.oids() == Oids{2, 4, 3, 1, 6, 7, 8, 5});
}

TEMPLATE_TEST_CASE("prices near 1 and near 2^60 share one book", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  const Px far = k2p60 + 5 * 4096 + 7;  // five pages of 4096 levels above 2^60
  const Px top = (Px{1} << 62) - 1;     // the largest price allowed
  h.rest(1, 1, kBid, 1, 2);
  h.rest(2, 1, kBid, 2, 3);
  h.rest(3, 2, kAsk, k2p60, 4);
  h.rest(4, 2, kAsk, far, 5);
  h.rest(5, 3, kAsk, top, 1);
  CHECK(h.book.best_bid() == 2);
  CHECK(h.book.best_ask() == k2p60);
  CHECK(h.levels(kAsk) == Strings{"px=" + std::to_string(k2p60) + " sz=4 n=1",
                                  "px=" + std::to_string(far) + " sz=5 n=1",
                                  "px=" + std::to_string(top) + " sz=1 n=1"});

  PlaceOutcome outcome = h.place(6, 4, kBid, top, 6, kIoc);
  CHECK(outcome.status == Status::Filled);
  CHECK(h.log() == Strings{"fill #3 a2 4@" + std::to_string(k2p60) + " done",
                           "fill #4 a2 2@" + std::to_string(far)});
  CHECK(h.book.best_ask() == far);

  outcome = h.place(7, 4, kAsk, 1, 10, kIoc);
  CHECK(outcome.status == Status::IocRemainderCancelled);
  CHECK(outcome.filled == 5);
  CHECK(h.log() == Strings{"fill #2 a1 3@2 done", "fill #1 a1 2@1 done"});
  CHECK_FALSE(h.book.best_bid().has_value());

  // A bid pages away from the last one becomes the best; the far ask stays.
  h.rest(8, 1, kBid, far - 1, 1);
  CHECK(h.book.best_bid() == far - 1);
  REQUIRE(h.book.cancel(4).has_value());
  CHECK(h.book.best_ask() == top);
  CHECK(h.oids() == Oids{8, 5});
}

TEMPLATE_TEST_CASE("ten thousand orders at one level keep time priority", "[book]", OrderBook,
                   ReferenceBook) {
  Harness<TestType> h;
  for (OrderId oid = 1; oid <= 10'000; ++oid)
    h.rest(oid, static_cast<AccountId>(1 + oid % 4), kAsk, 100, 2);
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=20000 n=10000"});
  for (OrderId oid = 1; oid <= 10'000; oid += 2) REQUIRE(h.book.cancel(oid).has_value());
  CHECK(h.levels(kAsk) == Strings{"px=100 sz=10000 n=5000"});

  const PlaceOutcome outcome = h.place(10'001, 9, kBid, 100, 9'999);
  CHECK(outcome.status == Status::Filled);
  CHECK(outcome.filled == 9'999);
  REQUIRE(h.events.size() == 5'000);
  bool in_order = true;
  for (std::size_t i = 0; i + 1 < h.events.size(); ++i) {
    const MatchEvent& event = h.events[i];
    in_order = in_order && event.maker_oid == 2 * (i + 1) && event.sz == 2 && event.maker_done;
  }
  CHECK(in_order);
  CHECK(describe(h.events.back()) == "fill #10000 a1 1@100");
  CHECK(h.oids() == Oids{10'000});
}

TEMPLATE_TEST_CASE("a book refills after being emptied", "[book]", OrderBook, ReferenceBook) {
  Harness<TestType> h;
  OrderId oid = 1;
  for (Px round = 0; round < 3; ++round) {
    const Px bid = 20'000 - round * 5000;  // moves across pages of the fast book
    const Px ask = 30'000 + round * 5000;
    h.rest(oid++, 1, kBid, bid, 2);
    h.rest(oid++, 1, kAsk, ask, 2);
    CHECK(h.book.best_bid() == bid);
    CHECK(h.book.best_ask() == ask);
    PlaceOutcome outcome = h.place(oid++, 2, kAsk, 1, 2, kIoc);
    CHECK(outcome.status == Status::Filled);
    outcome = h.place(oid++, 2, kBid, ask, 2, kIoc);
    CHECK(outcome.status == Status::Filled);
    CHECK(h.book.size() == 0);
    CHECK_FALSE(h.book.best_bid().has_value());
    CHECK_FALSE(h.book.best_ask().has_value());
    CHECK(h.levels(kBid).empty());
    CHECK(h.levels(kAsk).empty());
  }
  // Emptied by cancels this time, then refilled at new prices.
  h.rest(oid++, 1, kBid, 7, 1);
  h.rest(oid++, 1, kAsk, 9, 1);
  REQUIRE(h.book.cancel(oid - 2).has_value());
  REQUIRE(h.book.cancel(oid - 1).has_value());
  CHECK(h.book.size() == 0);
  h.rest(oid++, 1, kAsk, 20'000, 3);
  h.rest(oid++, 1, kBid, 19'999, 4);
  CHECK(h.book.best_bid() == 19'999);
  CHECK(h.book.best_ask() == 20'000);
  CHECK(h.levels(kAsk) == Strings{"px=20000 sz=3 n=1"});
}

TEMPLATE_TEST_CASE("a coarse tick is honoured", "[book]", OrderBook, ReferenceBook) {
  constexpr Px kTick = 1'000'000;  // whole dollars in micro-dollars
  Harness<TestType> h(PriceGrid::uniform(kTick));
  const Px high = 1'000'000'000'000 * kTick;  // 10^18 < 2^60
  h.rest(1, 1, kAsk, high, 1);
  h.rest(2, 1, kAsk, 3 * kTick, 1);
  h.rest(3, 2, kBid, 2 * kTick, 1);
  h.rest(4, 2, kBid, kTick, 1);
  CHECK(h.levels(kAsk) ==
        Strings{"px=3000000 sz=1 n=1", "px=" + std::to_string(high) + " sz=1 n=1"});
  CHECK(h.levels(kBid) == Strings{"px=2000000 sz=1 n=1", "px=1000000 sz=1 n=1"});
  const PlaceOutcome outcome = h.place(5, 3, kBid, high, 2, kIoc);
  CHECK(outcome.filled == 2);
  CHECK(h.log() ==
        Strings{"fill #2 a1 1@3000000 done", "fill #1 a1 1@" + std::to_string(high) + " done"});
  CHECK_FALSE(h.book.best_ask().has_value());
}

TEMPLATE_TEST_CASE("a significant figure grid spans decades", "[book]", OrderBook, ReferenceBook) {
  // szDecimals 2: 0.1 USD steps below 10000 USD, whole dollars from there, 0.0001 USD near 1 USD.
  Harness<TestType> h(PriceGrid::significant_figures(2));
  const Px top = 4'611'686'018'427'000'000;  // the largest valid price below 2^62: whole dollars
  h.rest(1, 1, kAsk, 10'001'000'000, 1);     // 10001 USD
  h.rest(2, 1, kAsk, 10'000'000'000, 2);     // 10000 USD
  h.rest(3, 1, kAsk, 9'999'900'000, 3);      // 9999.9 USD: the grid price right below 10000
  h.rest(4, 2, kBid, 9'999'800'000, 4);      // 9999.8 USD
  h.rest(5, 2, kBid, 1'000'100, 5);          // 1.0001 USD
  h.rest(6, 2, kBid, 100, 6);                // 0.0001 USD: the lowest valid price
  h.rest(7, 1, kAsk, 123'456'000'000, 7);    // whole dollars beyond 5 figures
  h.rest(10, 1, kAsk, top, 1);
  CHECK(h.levels(kAsk) == Strings{"px=9999900000 sz=3 n=1", "px=10000000000 sz=2 n=1",
                                  "px=10001000000 sz=1 n=1", "px=123456000000 sz=7 n=1",
                                  "px=" + std::to_string(top) + " sz=1 n=1"});
  CHECK(h.levels(kBid) ==
        Strings{"px=9999800000 sz=4 n=1", "px=1000100 sz=5 n=1", "px=100 sz=6 n=1"});

  // A buy sweeps up through the decade boundary.
  PlaceOutcome outcome = h.place(8, 3, kBid, 10'001'000'000, 5, kIoc);
  CHECK(outcome.status == Status::Filled);
  CHECK(h.log() == Strings{"fill #3 a1 3@9999900000 done", "fill #2 a1 2@10000000000 done"});
  CHECK(h.book.best_ask() == 10'001'000'000);

  // A sell sweeps down across seven decades.
  outcome = h.place(9, 3, kAsk, 100, 12, kIoc);
  CHECK(outcome.status == Status::Filled);
  CHECK(h.log() ==
        Strings{"fill #4 a2 4@9999800000 done", "fill #5 a2 5@1000100 done", "fill #6 a2 3@100"});
  CHECK(h.book.best_bid() == 100);
  CHECK(h.levels(kBid) == Strings{"px=100 sz=3 n=1"});
  REQUIRE(h.book.cancel(1).has_value());
  REQUIRE(h.book.cancel(7).has_value());
  CHECK(h.book.best_ask() == top);
}

TEST_CASE("book hash is keccak over fixed width big endian records", "[book]") {
  // Expected bytes written out by hand from the layout in perps/book_hash.h.
  const std::string bid_record =
      "0000000000000009"                   // oid
      "00000002"                           // owner
      "00"                                 // side bid
      "0000000000000064"                   // px 100
      "0000000000000003"                   // sz
      "0000000000000003"                   // orig_sz
      "0000000000000000"                   // time_ms
      "00"                                 // reduce_only
      "00000000000000000000000000000000";  // cloid
  const std::string ask_record =
      "0102030405060708"
      "0a0b0c0d"
      "01"
      "1122334455667788"
      "0000000000000005"
      "0000000000000007"
      "00000190d1e2f300"
      "01"
      "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
  const state::Bytes expected = *state::parse_hex("0x" + bid_record + ask_record);

  RestingOrder ask;
  ask.oid = 0x0102030405060708;
  ask.owner = 0x0a0b0c0d;
  ask.side = kAsk;
  ask.px = 0x1122334455667788;
  ask.sz = ask.orig_sz = 7;
  ask.time_ms = 0x00000190d1e2f300;
  ask.reduce_only = true;
  for (std::uint8_t i = 0; i < 16; ++i) ask.cloid.bytes[i] = static_cast<std::uint8_t>(0xa0 + i);
  RestingOrder bid;
  bid.oid = 9;
  bid.owner = 2;
  bid.side = kBid;
  bid.px = 100;
  bid.sz = bid.orig_sz = 3;

  auto fill = [&](auto& book) {
    std::vector<MatchEvent> events;
    // The ask is placed first: the hash follows priority (bids first), not arrival.
    REQUIRE(book.place(ask, kGtc, events).status == Status::Rested);
    REQUIRE(book.reduce_size(ask.oid, 5));
    REQUIRE(book.place(bid, kGtc, events).status == Status::Rested);
  };
  OrderBook fast;
  ReferenceBook reference;
  fill(fast);
  fill(reference);
  CHECK(book_hash(fast) == state::keccak256(expected));
  CHECK(book_hash(reference) == state::keccak256(expected));

  // The same orders in another priority hash differently.
  OrderBook in_order, swapped;
  std::vector<MatchEvent> events;
  RestingOrder first = bid, second = bid;
  first.oid = 1;
  second.oid = 2;
  in_order.place(first, kGtc, events);
  in_order.place(second, kGtc, events);
  swapped.place(second, kGtc, events);
  swapped.place(first, kGtc, events);
  CHECK(book_hash(in_order) != book_hash(swapped));
}

TEMPLATE_TEST_CASE("visit_side walks one side in matching priority and stops when asked", "[book]",
                   OrderBook, ReferenceBook) {
  Harness<TestType> h;
  h.rest(1, 1, Side::Ask, 101, 5);
  h.rest(2, 2, Side::Ask, 100, 5);
  h.rest(3, 3, Side::Ask, 100, 5);
  h.rest(4, 4, Side::Bid, 99, 5);
  h.rest(5, 5, Side::Bid, 98, 5);
  Oids asks, bids, first_two;
  h.book.visit_side(Side::Ask, [&](const RestingOrder& o) {
    asks.push_back(o.oid);
    return true;
  });
  h.book.visit_side(Side::Bid, [&](const RestingOrder& o) {
    bids.push_back(o.oid);
    return true;
  });
  h.book.visit_side(Side::Ask, [&](const RestingOrder& o) {
    first_two.push_back(o.oid);
    return first_two.size() < 2;
  });
  CHECK(asks == Oids{2, 3, 1});
  CHECK(bids == Oids{4, 5});
  CHECK(first_two == Oids{2, 3});
}

TEST_CASE("reinstate puts a cancelled order back at its oid's place in its level", "[book]") {
  OrderBook book;
  std::vector<MatchEvent> events;
  for (OrderId oid : {1, 2, 3, 4}) book.place(make_order(oid, oid, kBid, 100, 10), kGtc, events);
  book.place(make_order(5, 5, kBid, 99, 7), kGtc, events);  // a level of its own
  auto queue = [&] {
    std::vector<OrderId> oids;
    book.visit_side(kBid, [&](const RestingOrder& order) {
      oids.push_back(order.oid);
      return true;
    });
    return oids;
  };
  for (OrderId oid : {2, 1, 4, 5}) {  // the middle, the head, the tail, a level alone
    const RestingOrder taken = *book.cancel(oid);
    book.reinstate(taken, [](OrderId id) { return id; });  // places are oids here
    CHECK(queue() == std::vector<OrderId>{1, 2, 3, 4, 5});
    CHECK(book.find(oid)->time_ms == 1000 + oid);
  }
  std::vector<BookLevel> levels;
  book.levels(kBid, 5, levels);
  REQUIRE(levels.size() == 2);
  CHECK(levels[0].px == 100);
  CHECK(levels[0].sz == 40);
  CHECK(levels[0].n == 4);
  // A seller of 25 meets them in oid order: 1 and 2 whole, 5 of 3.
  book.place(make_order(6, 6, kAsk, 100, 25), kIoc, events);
  REQUIRE(events.size() == 3);
  CHECK(events[0].maker_oid == 1);
  CHECK(events[1].maker_oid == 2);
  CHECK(events[2].maker_oid == 3);
  CHECK(events[2].sz == 5);
}
