// The obviously correct order book: a sorted map of price -> FIFO per side and a map oid ->
// position. No cleverness, so that the fast book (perps/order_book.h) can be checked against it
// operation by operation (tests/unit/perps/order_book_diff_test.cc). Both books have the same
// interface and the same contract; it is written out in order_book.h and only summarised here.
//
// Not for production: every resting order and every price level costs heap allocations.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <optional>
#include <vector>

#include "perps/book_level.h"
#include "perps/book_types.h"
#include "perps/price_grid.h"

namespace perps {

class ReferenceBook {
 public:
  // The price grid is accepted for interface parity with OrderBook and otherwise ignored: this
  // book handles any positive price.
  explicit ReferenceBook(PriceGrid grid = PriceGrid::uniform(1));

  // Matches the taker `order` (order.sz = size to trade) against the opposite side at the makers'
  // prices, best price then earliest first, expiring makers of the taker's own owner; the
  // remainder rests (Gtc, Alo), or is dropped (Ioc). Alo that would cross changes nothing.
  // Appends to events. Preconditions: sz > 0, px > 0, oid not in the book.
  PlaceOutcome place(const RestingOrder& order, TimeInForce tif, std::vector<MatchEvent>& events);
  // Removes and returns the order; nullopt if it is not resting.
  std::optional<RestingOrder> cancel(OrderId oid);
  // The resting order, or nullptr. Valid until the next mutating call.
  const RestingOrder* find(OrderId oid) const;
  std::optional<Px> best_bid() const;
  std::optional<Px> best_ask() const;
  std::size_t size() const { return where_.size(); }
  // Replaces out with at most depth aggregated levels of side, best first.
  void levels(Side side, std::size_t depth, std::vector<BookLevel>& out) const;
  // Shrinks a resting order's remaining size to new_sz keeping its priority. False (and no change)
  // when oid is not resting or new_sz is not in (0, current size].
  bool reduce_size(OrderId oid, Lots new_sz);
  // Interface parity with OrderBook; nothing to pre-size here.
  void reserve(std::size_t /*orders*/) {}

  // Calls f(const RestingOrder&) for every resting order: bids best price first, then asks best
  // price first; within a level earliest first. f must not modify the book.
  template <class F>
  void visit_side(Side side, F&& f) const {
    if (side == Side::Bid) {
      for (auto level = bids_.rbegin(); level != bids_.rend(); ++level)
        for (const RestingOrder& order : level->second)
          if (!f(order)) return;
    } else {
      for (const auto& [px, queue] : asks_)
        for (const RestingOrder& order : queue)
          if (!f(order)) return;
    }
  }

  template <class F>
  void for_each_order(F&& f) const {
    for (auto level = bids_.rbegin(); level != bids_.rend(); ++level)
      for (const RestingOrder& order : level->second) f(order);
    for (const auto& [px, queue] : asks_)
      for (const RestingOrder& order : queue) f(order);
  }

 private:
  using Queue = std::list<RestingOrder>;  // time priority: front is earliest
  using Ladder = std::map<Px, Queue>;     // ascending price on both sides: best bid is the last

  Ladder& book_side(Side side) { return side == Side::Bid ? bids_ : asks_; }

  Ladder bids_;
  Ladder asks_;
  std::map<OrderId, Queue::iterator> where_;
};

}  // namespace perps
