// The order book of one market: price-time priority matching with self-trade prevention.
//
// Contract (shared word for word with perps::ReferenceBook; the two are held to one test suite,
// a differential test and one book hash, perps/book_hash.h):
// - place(order, tif, events): order is the taker; order.sz (= order.orig_sz) is the size to
//   trade. It matches the opposite side while the opposite best price crosses order.px (a bid
//   crosses asks at px <= order.px, an ask crosses bids at px >= order.px), best price first, then
//   earliest first within a level, at the MAKER's price. A maker with the taker's owner is removed
//   unfilled (SelfTradeExpired, sz = its remaining size, maker_done) and matching goes on. A Fill's
//   maker_done says the maker's remaining size reached 0 and it left the book.
//     Alo: if the opposite best crosses at all, nothing changes and the status is AloWouldCross.
//     Ioc: the remainder is dropped: IocRemainderCancelled (even with nothing filled), or Filled.
//     Gtc (and a non-crossing Alo): the remainder rests at order.px behind the orders already
//     there, with sz = remainder and the rest of `order` unchanged: Rested, or Filled if none left.
//   Events are appended (the caller clears); no allocation happens when events has the capacity.
//   Preconditions (asserted in debug builds only): sz > 0, 0 < px < 2^62, px valid on the book's
//   price grid (perps/price_grid.h), oid not resting.
// - cancel(oid): removes and returns the resting order; nullopt if absent.
// - find(oid): the resting order or nullptr; the pointer is valid until the next mutating call.
// - best_bid()/best_ask(): nullopt for an empty side. size(): resting orders.
// - levels(side, depth, out): replaces out with at most depth aggregated levels, best first.
// - for_each_order(f): f(const RestingOrder&) for every resting order, bids best price first
//   then asks best price first, earliest first within a level. f must not modify the book.
// - reduce_size(oid, new_sz): shrinks a resting order in place, keeping its priority; false (no
//   change) if absent or new_sz is not in (0, current size].
// - reserve(orders): pre-sizes for that many resting orders (optional; growth is automatic).
//
// How it is fast (>= 10M mixed operations per second on one core, no allocation per operation
// once the pools have grown to the book's high-water mark):
// - A level is addressed by grid.level(px): the valid prices of the market's price grid
//   (perps/price_grid.h) numbered densely, so consecutive valid prices are adjacent levels however
//   coarse or uneven the grid is in micro-dollars. Levels live in pages of 4096; each side keeps a
//   sorted vector of its non-empty pages (a market's book spans a handful), so any valid price in
//   (0, 2^62) is allowed in one book. A page has a two-level occupancy bitmap (64 words + one
//   summary word), so the best level of a page is two count-zero instructions away: the new best
//   after the best level empties is found in O(1) without scanning.
// - A level is the head and tail of a doubly linked FIFO of nodes plus its aggregate size and
//   count: 24 bytes, so a page is 96 KiB. Keeping the tail costs 8 bytes a level and saves the
//   append a dependent miss on the head node (40% of rest()'s time in the executor benchmark).
// - Nodes live in one vector with a free list and 32-bit indices; an open-addressing table
//   (linear probing, backward-shift deletion, no tombstones) maps oid -> node.
// - Emptied pages go back to a pool: a price drifting across pages does not allocate.
// Deterministic: the hash table is only ever probed, never iterated. Its keys are oids the
// exchange assigns in increasing order, so a user cannot aim collisions at it.
//
// Memory (high-water marks: nothing is returned to the heap): 80 bytes per node plus 32 to 64
// bytes of index per resting order, plus 96.5 KiB per non-empty page per side. Pages are bounded
// by the number of grid levels in the price range in use / 4096, not by the order count: a
// realistic book costs about 230 bytes per order all told (tests/bench/bench_book.cc, BM_Memory),
// while orders deliberately spread one per page (4096 valid prices apart) cost a page each, so
// the exchange's price band around the oracle is what bounds that case. The grid must be the
// market's real one: on a grid finer than the valid prices, each occupied level of a sparse book
// can take a page of its own.
//
// Move-only (it owns its pages); not thread-safe (one market is executed by one thread).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "perps/book_level.h"
#include "perps/book_types.h"
#include "perps/chunked_pool.h"
#include "perps/price_grid.h"

namespace perps {

class OrderBook {
 public:
  explicit OrderBook(PriceGrid grid = PriceGrid::uniform(1));
  OrderBook(OrderBook&&) noexcept = default;
  OrderBook& operator=(OrderBook&&) noexcept = default;

  PlaceOutcome place(const RestingOrder& order, TimeInForce tif, std::vector<MatchEvent>& events);
  std::optional<RestingOrder> cancel(OrderId oid);
  // Puts back an order cancel() took out at its place in its level's queue (not at the tail):
  // place_of(oid) gives each order's place, which orders a level by time.
  void reinstate(const RestingOrder& order, const std::function<std::uint64_t(OrderId)>& place_of);
  const RestingOrder* find(OrderId oid) const;
  // Requests the memory find(oid) will read: its index slot (near = false), then its node.
  void prefetch(OrderId oid, bool near) const;
  std::optional<Px> best_bid() const { return best(Side::Bid); }
  std::optional<Px> best_ask() const { return best(Side::Ask); }
  std::size_t size() const { return index_.size(); }
  void levels(Side side, std::size_t depth, std::vector<BookLevel>& out) const;
  bool reduce_size(OrderId oid, Lots new_sz);
  void reserve(std::size_t orders);

  // Visits one side's orders in matching priority (best price, then time) while f(order) returns
  // true. Lets the exchange look at the makers an order would meet before it trades.
  template <class F>
  void visit_side(Side side, F&& f) const {
    visit_levels(side, [&](std::int64_t, const Level& level) {
      std::uint32_t node = level.head;
      for (std::uint32_t i = 0; i < level.n; ++i) {
        if (!f(nodes_[node].order)) return false;
        node = nodes_[node].next;
      }
      return true;
    });
  }

  template <class F>
  void for_each_order(F&& f) const {
    for (Side side : {Side::Bid, Side::Ask}) {
      visit_levels(side, [&](std::int64_t, const Level& level) {
        std::uint32_t node = level.head;
        for (std::uint32_t i = 0; i < level.n; ++i) {
          const RestingOrder& order = nodes_[node].order;
          f(order);
          node = nodes_[node].next;
        }
        return true;
      });
    }
  }

 private:
  static constexpr int kPageBits = 12;
  static constexpr std::int64_t kPageLevels = std::int64_t{1} << kPageBits;  // = 64 * 64
  static constexpr std::uint32_t kNil = ~std::uint32_t{0};

  struct Node {
    RestingOrder order;
    std::uint32_t prev;  // within the level's list (kNil at its ends); the free list uses next
    std::uint32_t next;
    std::uint32_t page;  // where the order rests, so a cancel needs no division or page lookup
    std::uint16_t slot;
  };
  // Valid only while the level's occupancy bit is set, so pages need no clearing on reuse.
  struct Level {
    std::uint32_t head;  // earliest order
    std::uint32_t tail;  // latest order
    std::uint32_t n;     // orders
    Lots sz;             // sum of their remaining sizes
  };
  struct Page {
    std::int64_t page_no = 0;   // level index / kPageLevels
    std::uint64_t summary = 0;  // bit w set iff words[w] != 0
    std::uint64_t words[64]{};  // bit b of words[w] set iff levels[64 * w + b] is occupied
    Level levels[kPageLevels];
  };
  struct PageRef {
    std::int64_t page_no;
    std::uint32_t page;  // index into pages_
  };
  struct SideState {
    std::vector<PageRef> dir;        // non-empty pages, ascending page_no
    std::uint32_t best_page = kNil;  // kNil iff the side is empty
    std::int64_t best = 0;           // level index of the best level
    Px best_px = 0;
  };

  // oid -> node index. Open addressing with linear probing and backward-shift deletion; Fibonacci
  // hashing spreads the increasing oids. Grows by doubling at load 1/2.
  class OidIndex {
   public:
    OidIndex();
    std::uint32_t find(OrderId oid) const;
    void prefetch(OrderId oid) const;
    void insert(OrderId oid, std::uint32_t node);  // oid must be absent
    void erase(OrderId oid);                       // oid must be present
    void reserve(std::size_t n);
    std::size_t size() const { return size_; }

   private:
    struct Slot {
      OrderId oid;
      std::uint32_t node;  // kNil: empty slot
    };
    std::size_t home(OrderId oid) const {
      return static_cast<std::size_t>((oid * 0x9E3779B97F4A7C15ULL) >> shift_);
    }
    void rehash(std::size_t capacity);

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    int shift_ = 64;
    std::size_t size_ = 0;
  };

  static std::size_t side_ix(Side side) { return static_cast<std::size_t>(side); }
  std::optional<Px> best(Side side) const {
    const SideState& s = sides_[side_ix(side)];
    if (s.best_page == kNil) return std::nullopt;
    return s.best_px;
  }

  std::uint32_t page_for(SideState& s, std::int64_t page_no);
  void rest(const RestingOrder& order, Lots remaining);
  // Unlinks node x from its level and frees it; the caller has adjusted level.sz.
  void remove_node(Level& level, std::uint32_t x);
  // Marks an emptied level unoccupied, releases its page if that emptied too, and moves the best.
  void drop_level(Side side, std::uint32_t page, std::uint32_t slot);
  void refresh_best(Side side);

  // Calls g(level index, level) for each occupied level of side, best first, while g is true.
  template <class G>
  void visit_levels(Side side, G&& g) const {
    const SideState& s = sides_[side_ix(side)];
    if (side == Side::Bid) {
      for (auto ref = s.dir.rbegin(); ref != s.dir.rend(); ++ref) {
        const Page& page = *pages_[ref->page];
        for (std::uint64_t summary = page.summary; summary != 0;) {
          const int w = 63 - std::countl_zero(summary);
          summary &= ~(std::uint64_t{1} << w);
          for (std::uint64_t word = page.words[w]; word != 0;) {
            const int b = 63 - std::countl_zero(word);
            word &= ~(std::uint64_t{1} << b);
            const int slot = 64 * w + b;
            if (!g(ref->page_no * kPageLevels + slot, page.levels[slot])) return;
          }
        }
      }
    } else {
      for (const PageRef& ref : s.dir) {
        const Page& page = *pages_[ref.page];
        for (std::uint64_t summary = page.summary; summary != 0; summary &= summary - 1) {
          const int w = std::countr_zero(summary);
          for (std::uint64_t word = page.words[w]; word != 0; word &= word - 1) {
            const int slot = 64 * w + std::countr_zero(word);
            if (!g(ref.page_no * kPageLevels + slot, page.levels[slot])) return;
          }
        }
      }
    }
  }

  SideState sides_[2];  // indexed by Side
  ChunkedPool<Node> nodes_;
  std::uint32_t free_node_ = kNil;  // head of the free list through Node::next
  std::vector<std::unique_ptr<Page>> pages_;
  std::vector<std::uint32_t> free_pages_;  // capacity kept >= pages_.size(): pushes never allocate
  OidIndex index_;
  PriceGrid grid_;
};

}  // namespace perps
