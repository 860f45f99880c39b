#include "perps/order_book.h"

#include <algorithm>
#include <cassert>

#include "state/linear_probing.h"

namespace perps {

// ---- OidIndex ---------------------------------------------------------------------------------

OrderBook::OidIndex::OidIndex() {
  rehash(64);
}

std::uint32_t OrderBook::OidIndex::find(OrderId oid) const {
  for (std::size_t i = home(oid);; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.node == kNil) return kNil;
    if (slot.oid == oid) return slot.node;
  }
}

void OrderBook::OidIndex::prefetch(OrderId oid) const {
  __builtin_prefetch(&slots_[home(oid)]);
}

void OrderBook::OidIndex::insert(OrderId oid, std::uint32_t node) {
  if (2 * (size_ + 1) > slots_.size()) rehash(2 * slots_.size());
  std::size_t i = home(oid);
  while (slots_[i].node != kNil) {
    assert(slots_[i].oid != oid);
    i = (i + 1) & mask_;
  }
  slots_[i] = {oid, node};
  ++size_;
}

void OrderBook::OidIndex::erase(OrderId oid) {
  std::size_t hole = home(oid);
  while (slots_[hole].oid != oid || slots_[hole].node == kNil) {
    assert(slots_[hole].node != kNil);
    hole = (hole + 1) & mask_;
  }
  hole = state::backward_shift(
      slots_, hole, mask_, [](const Slot& s) { return s.node == kNil; },
      [this](const Slot& s) { return home(s.oid); });
  slots_[hole].node = kNil;
  --size_;
}

void OrderBook::OidIndex::reserve(std::size_t n) {
  std::size_t capacity = slots_.size();
  while (2 * n > capacity) capacity *= 2;
  if (capacity != slots_.size()) rehash(capacity);
}

void OrderBook::OidIndex::rehash(std::size_t capacity) {
  assert(std::has_single_bit(capacity));
  std::vector<Slot> old(capacity, Slot{0, kNil});
  old.swap(slots_);
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  for (const Slot& slot : old) {
    if (slot.node == kNil) continue;
    std::size_t i = home(slot.oid);
    while (slots_[i].node != kNil) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
}

// ---- OrderBook --------------------------------------------------------------------------------

OrderBook::OrderBook(PriceGrid grid) : grid_(grid) {}

void OrderBook::reserve(std::size_t orders) {
  nodes_.reserve(orders);
  index_.reserve(orders);
}

PlaceOutcome OrderBook::place(const RestingOrder& order, TimeInForce tif,
                              std::vector<MatchEvent>& events) {
  assert(order.sz > 0);
  assert(order.px > 0 && order.px < (Px{1} << 62) && grid_.valid(order.px));
  assert(index_.find(order.oid) == kNil);
  SideState& makers = sides_[side_ix(opposite(order.side))];
  const bool taker_bid = order.side == Side::Bid;
  auto crosses = [&] {
    return makers.best_page != kNil &&
           (taker_bid ? makers.best_px <= order.px : makers.best_px >= order.px);
  };

  if (tif == TimeInForce::Alo && crosses()) return {PlaceOutcome::Status::AloWouldCross, 0};

  Lots remaining = order.sz;
  while (remaining > 0 && crosses()) {
    const std::uint32_t page = makers.best_page;
    const auto slot = static_cast<std::uint32_t>(makers.best & (kPageLevels - 1));
    Level& level = pages_[page]->levels[slot];
    do {
      const std::uint32_t x = level.head;
      RestingOrder& maker = nodes_[x].order;
      if (maker.owner == order.owner) {
        events.push_back({MatchEvent::Kind::SelfTradeExpired, maker.oid, maker.owner, maker.px,
                          maker.sz, true, maker.reduce_only, maker.cloid});
        level.sz -= maker.sz;
        remove_node(level, x);
      } else {
        const Lots traded = std::min(remaining, maker.sz);
        maker.sz -= traded;
        level.sz -= traded;
        remaining -= traded;
        const bool done = maker.sz == 0;
        events.push_back({MatchEvent::Kind::Fill, maker.oid, maker.owner, maker.px, traded, done,
                          maker.reduce_only, maker.cloid});
        if (done) remove_node(level, x);
      }
    } while (remaining > 0 && level.n > 0);
    if (level.n == 0) drop_level(opposite(order.side), page, slot);
  }

  const Lots filled = order.sz - remaining;
  if (remaining == 0) return {PlaceOutcome::Status::Filled, filled};
  if (tif == TimeInForce::Ioc) return {PlaceOutcome::Status::IocRemainderCancelled, filled};
  rest(order, remaining);
  return {PlaceOutcome::Status::Rested, filled};
}

void OrderBook::rest(const RestingOrder& order, Lots remaining) {
  const std::int64_t ix = grid_.level(order.px);
  SideState& s = sides_[side_ix(order.side)];
  const std::uint32_t page_ix = page_for(s, ix >> kPageBits);
  const auto slot = static_cast<std::uint32_t>(ix & (kPageLevels - 1));

  std::uint32_t x;
  if (free_node_ != kNil) {
    x = free_node_;
    free_node_ = nodes_[x].next;
  } else {
    assert(nodes_.size() < kNil);
    x = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& node = nodes_[x];
  node.order = order;
  node.order.sz = remaining;
  node.page = page_ix;
  node.slot = static_cast<std::uint16_t>(slot);

  Page& page = *pages_[page_ix];
  Level& level = page.levels[slot];
  const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
  std::uint64_t& word = page.words[slot >> 6];
  node.next = kNil;
  if ((word & bit) == 0) {
    word |= bit;
    page.summary |= std::uint64_t{1} << (slot >> 6);
    level = {x, x, 1, remaining};
    node.prev = kNil;
  } else {
    // Appending reads no other node (the tail's link is only written): no dependent miss.
    node.prev = level.tail;
    nodes_[level.tail].next = x;
    level.tail = x;
    ++level.n;
    level.sz += remaining;
  }
  index_.insert(order.oid, x);

  const bool better = s.best_page == kNil || (order.side == Side::Bid ? ix > s.best : ix < s.best);
  if (better) {
    s.best_page = page_ix;
    s.best = ix;
    s.best_px = order.px;
  }
}

std::uint32_t OrderBook::page_for(SideState& s, std::int64_t page_no) {
  // Most orders land near the top of the book, so on the best level's page.
  if (s.best_page != kNil && pages_[s.best_page]->page_no == page_no) return s.best_page;
  auto it = std::lower_bound(s.dir.begin(), s.dir.end(), page_no,
                             [](const PageRef& ref, std::int64_t no) { return ref.page_no < no; });
  if (it != s.dir.end() && it->page_no == page_no) return it->page;

  std::uint32_t page_ix;
  if (!free_pages_.empty()) {
    page_ix = free_pages_.back();
    free_pages_.pop_back();
  } else {
    page_ix = static_cast<std::uint32_t>(pages_.size());
    pages_.push_back(std::make_unique<Page>());
    free_pages_.reserve(pages_.size());
  }
  pages_[page_ix]->page_no = page_no;
  s.dir.insert(it, PageRef{page_no, page_ix});
  return page_ix;
}

void OrderBook::remove_node(Level& level, std::uint32_t x) {
  Node& node = nodes_[x];
  index_.erase(node.order.oid);
  if (--level.n != 0) {
    (node.prev == kNil ? level.head : nodes_[node.prev].next) = node.next;
    (node.next == kNil ? level.tail : nodes_[node.next].prev) = node.prev;
  }
  node.next = free_node_;
  free_node_ = x;
}

void OrderBook::drop_level(Side side, std::uint32_t page_ix, std::uint32_t slot) {
  SideState& s = sides_[side_ix(side)];
  Page& page = *pages_[page_ix];
  std::uint64_t& word = page.words[slot >> 6];
  word &= ~(std::uint64_t{1} << (slot & 63));
  if (word == 0) page.summary &= ~(std::uint64_t{1} << (slot >> 6));
  if (page.summary == 0) {
    auto it =
        std::lower_bound(s.dir.begin(), s.dir.end(), page.page_no,
                         [](const PageRef& ref, std::int64_t no) { return ref.page_no < no; });
    assert(it != s.dir.end() && it->page == page_ix);
    s.dir.erase(it);
    free_pages_.push_back(page_ix);
  }
  if (page.page_no * kPageLevels + slot == s.best) refresh_best(side);
}

void OrderBook::refresh_best(Side side) {
  SideState& s = sides_[side_ix(side)];
  if (s.dir.empty()) {
    s.best_page = kNil;
    return;
  }
  // The best page is the last (bids) or first (asks) in the directory; within it the highest or
  // lowest occupied slot comes straight out of the two bitmap levels.
  const bool bid = side == Side::Bid;
  const PageRef& ref = bid ? s.dir.back() : s.dir.front();
  const Page& page = *pages_[ref.page];
  int w, b;
  if (bid) {
    w = 63 - std::countl_zero(page.summary);
    b = 63 - std::countl_zero(page.words[w]);
  } else {
    w = std::countr_zero(page.summary);
    b = std::countr_zero(page.words[w]);
  }
  s.best_page = ref.page;
  s.best = ref.page_no * kPageLevels + 64 * w + b;
  s.best_px = grid_.price(s.best);
}

std::optional<RestingOrder> OrderBook::cancel(OrderId oid) {
  const std::uint32_t x = index_.find(oid);
  if (x == kNil) return std::nullopt;
  const Node& node = nodes_[x];
  const RestingOrder order = node.order;
  const std::uint32_t page = node.page;
  const std::uint32_t slot = node.slot;
  Level& level = pages_[page]->levels[slot];
  level.sz -= order.sz;
  remove_node(level, x);
  if (level.n == 0) drop_level(order.side, page, slot);
  return order;
}

void OrderBook::reinstate(const RestingOrder& order,
                          const std::function<std::uint64_t(OrderId)>& place_of) {
  rest(order, order.sz);  // at the tail, then back past every later place
  const std::uint64_t place = place_of(order.oid);
  const std::uint32_t x = index_.find(order.oid);
  Node& node = nodes_[x];
  std::uint32_t before = node.prev;
  if (before == kNil || place_of(nodes_[before].order.oid) < place) return;
  Level& level = pages_[node.page]->levels[node.slot];
  level.tail = before;
  nodes_[before].next = kNil;
  while (before != kNil && place_of(nodes_[before].order.oid) > place) before = nodes_[before].prev;
  // A later place was passed, so the node after x exists.
  const std::uint32_t after = before == kNil ? level.head : nodes_[before].next;
  node.prev = before;
  node.next = after;
  (before == kNil ? level.head : nodes_[before].next) = x;
  nodes_[after].prev = x;
}

const RestingOrder* OrderBook::find(OrderId oid) const {
  const std::uint32_t x = index_.find(oid);
  return x == kNil ? nullptr : &nodes_[x].order;
}

void OrderBook::prefetch(OrderId oid, bool near) const {
  if (!near) {
    index_.prefetch(oid);
  } else if (const std::uint32_t x = index_.find(oid); x != kNil) {
    __builtin_prefetch(&nodes_[x]);
  }
}

void OrderBook::levels(Side side, std::size_t depth, std::vector<BookLevel>& out) const {
  out.clear();
  if (depth == 0) return;
  visit_levels(side, [&](std::int64_t ix, const Level& level) {
    out.push_back({grid_.price(ix), level.sz, level.n});
    return out.size() < depth;
  });
}

bool OrderBook::reduce_size(OrderId oid, Lots new_sz) {
  const std::uint32_t x = index_.find(oid);
  if (x == kNil) return false;
  RestingOrder& order = nodes_[x].order;
  if (new_sz <= 0 || new_sz > order.sz) return false;
  pages_[nodes_[x].page]->levels[nodes_[x].slot].sz -= order.sz - new_sz;
  order.sz = new_sz;
  return true;
}

}  // namespace perps
