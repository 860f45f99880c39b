#include "perps/reference_book.h"

#include <algorithm>
#include <cassert>

namespace perps {

ReferenceBook::ReferenceBook(PriceGrid /*grid*/) {}

PlaceOutcome ReferenceBook::place(const RestingOrder& order, TimeInForce tif,
                                  std::vector<MatchEvent>& events) {
  assert(order.sz > 0 && order.px > 0 && !where_.contains(order.oid));
  Ladder& makers = book_side(opposite(order.side));
  // The opposite side's best level if it crosses the taker's limit, else makers.end().
  auto crossing_best = [&]() {
    if (makers.empty()) return makers.end();
    if (order.side == Side::Bid) {
      auto best = makers.begin();
      return best->first <= order.px ? best : makers.end();
    }
    auto best = std::prev(makers.end());
    return best->first >= order.px ? best : makers.end();
  };

  if (tif == TimeInForce::Alo && crossing_best() != makers.end())
    return {PlaceOutcome::Status::AloWouldCross, 0};

  Lots remaining = order.sz;
  while (remaining > 0) {
    auto level = crossing_best();
    if (level == makers.end()) break;
    Queue& queue = level->second;
    RestingOrder& maker = queue.front();
    bool maker_done = true;
    if (maker.owner == order.owner) {
      events.push_back(
          {MatchEvent::Kind::SelfTradeExpired, maker.oid, maker.owner, maker.px, maker.sz, true, maker.reduce_only, maker.cloid});
    } else {
      const Lots traded = std::min(remaining, maker.sz);
      maker.sz -= traded;
      remaining -= traded;
      maker_done = maker.sz == 0;
      events.push_back(
          {MatchEvent::Kind::Fill, maker.oid, maker.owner, maker.px, traded, maker_done, maker.reduce_only, maker.cloid});
    }
    if (maker_done) {
      where_.erase(maker.oid);
      queue.pop_front();
      if (queue.empty()) makers.erase(level);
    }
  }

  const Lots filled = order.sz - remaining;
  if (remaining == 0) return {PlaceOutcome::Status::Filled, filled};
  if (tif == TimeInForce::Ioc) return {PlaceOutcome::Status::IocRemainderCancelled, filled};
  Queue& queue = book_side(order.side)[order.px];
  queue.push_back(order);
  queue.back().sz = remaining;
  where_.emplace(order.oid, std::prev(queue.end()));
  return {PlaceOutcome::Status::Rested, filled};
}

std::optional<RestingOrder> ReferenceBook::cancel(OrderId oid) {
  auto it = where_.find(oid);
  if (it == where_.end()) return std::nullopt;
  const RestingOrder order = *it->second;
  Ladder& side = book_side(order.side);
  auto level = side.find(order.px);
  level->second.erase(it->second);
  if (level->second.empty()) side.erase(level);
  where_.erase(it);
  return order;
}

const RestingOrder* ReferenceBook::find(OrderId oid) const {
  auto it = where_.find(oid);
  return it == where_.end() ? nullptr : &*it->second;
}

std::optional<Px> ReferenceBook::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.rbegin()->first;
}

std::optional<Px> ReferenceBook::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.begin()->first;
}

void ReferenceBook::levels(Side side, std::size_t depth, std::vector<BookLevel>& out) const {
  out.clear();
  auto add = [&](const std::pair<const Px, Queue>& level) {
    BookLevel row{level.first, 0, 0};
    for (const RestingOrder& order : level.second) {
      row.sz += order.sz;
      ++row.n;
    }
    out.push_back(row);
  };
  if (side == Side::Bid) {
    for (auto level = bids_.rbegin(); level != bids_.rend() && out.size() < depth; ++level)
      add(*level);
  } else {
    for (auto level = asks_.begin(); level != asks_.end() && out.size() < depth; ++level)
      add(*level);
  }
}

bool ReferenceBook::reduce_size(OrderId oid, Lots new_sz) {
  auto it = where_.find(oid);
  if (it == where_.end() || new_sz <= 0 || new_sz > it->second->sz) return false;
  it->second->sz = new_sz;
  return true;
}

}  // namespace perps
