// An implementation-independent digest of an order book: two books (of any implementation) have
// equal hashes iff they hold the same orders, field for field, in the same priority. This is what
// the differential test compares, and what a node can log to find where validators diverged.
//
// Encoding: Keccak-256 over the concatenation, in for_each_order order (bids best price first,
// then asks best price first, time priority within a level), of one fixed-width record per order,
// every integer big-endian:
//   oid u64 | owner u32 | side u8 (0 bid, 1 ask) | px i64 | sz i64 | orig_sz i64 | time_ms u64 |
//   reduce_only u8 | cloid 16 bytes                                           = 62 bytes
// Fixed widths make the concatenation unambiguous without lengths or separators; the empty book
// hashes to keccak256("").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "perps/book_types.h"
#include "state/bytes.h"
#include "state/keccak.h"

namespace perps {

inline constexpr std::size_t kBookHashRecordBytes = 62;

// Writes one order's record (layout above) into out.
inline void book_hash_record(const RestingOrder& order,
                             std::array<std::uint8_t, kBookHashRecordBytes>& out) {
  std::size_t at = 0;
  auto put = [&](std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out[at++] = static_cast<std::uint8_t>(value >> (8 * i));
  };
  put(order.oid, 8);
  put(order.owner, 4);
  put(static_cast<std::uint8_t>(order.side), 1);
  put(static_cast<std::uint64_t>(order.px), 8);
  put(static_cast<std::uint64_t>(order.sz), 8);
  put(static_cast<std::uint64_t>(order.orig_sz), 8);
  put(order.time_ms, 8);
  put(order.reduce_only ? 1 : 0, 1);
  for (std::uint8_t b : order.cloid.bytes) out[at++] = b;
}

// Book is any type with `template <class F> void for_each_order(F&&) const` calling
// F(const RestingOrder&) in priority order (OrderBook, ReferenceBook).
template <class Book>
state::Hash256 book_hash(const Book& book) {
  state::Keccak256 hasher;
  std::array<std::uint8_t, kBookHashRecordBytes> record;
  book.for_each_order([&](const RestingOrder& order) {
    book_hash_record(order, record);
    hasher.update(record);
  });
  return hasher.finish();
}

}  // namespace perps
