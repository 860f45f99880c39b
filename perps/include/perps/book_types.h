// The order book's vocabulary: what goes in (an order with its time in force), what comes out
// (fills, expired makers, the outcome). The book is a pure matching component: risk checks come
// before it (clearinghouse), settlement after it. Both books (perps/order_book.h, the fast one,
// and perps/reference_book.h, the obviously correct one) implement the same operations and are
// held to one test suite and one implementation-independent book hash.
#pragma once

#include <cstdint>

#include "state/bytes.h"

namespace perps {

using AccountId = std::uint32_t;  // dense index assigned by the exchange in first-seen order
using OrderId = std::uint64_t;    // "oid": global, increasing in placement order
using Px = std::int64_t;          // price in micro-dollars per whole unit of the underlying
using Lots = std::int64_t;        // size in lots of 10^-szDecimals units

enum class Side : std::uint8_t { Bid = 0, Ask = 1 };
enum class TimeInForce : std::uint8_t { Gtc, Ioc, Alo };

inline Side opposite(Side side) { return side == Side::Bid ? Side::Ask : Side::Bid; }

// An order as the book holds it. sz is what remains; orig_sz what was placed.
struct RestingOrder {
  OrderId oid = 0;
  AccountId owner = 0;
  Side side = Side::Bid;
  bool reduce_only = false;
  Px px = 0;
  Lots sz = 0;
  Lots orig_sz = 0;
  std::uint64_t time_ms = 0;  // block time of placement
  state::Bytes16 cloid;       // zero = none
};

// One event of matching, in the order it happened.
struct MatchEvent {
  enum class Kind : std::uint8_t {
    Fill,              // the taker traded sz at the maker's px
    SelfTradeExpired,  // the maker had the taker's owner: removed unfilled (sz = its remaining size)
  };
  Kind kind = Kind::Fill;
  OrderId maker_oid = 0;
  AccountId maker = 0;
  Px px = 0;
  Lots sz = 0;
  bool maker_done = false;  // the maker left the book (fully filled or expired)
  // The maker's flags, so the exchange can settle a maker the book has already removed.
  bool maker_reduce_only = false;
  state::Bytes16 maker_cloid;
};

struct PlaceOutcome {
  enum class Status : std::uint8_t {
    Rested,          // some or none filled, the remainder rests (Gtc/Alo)
    Filled,          // fully filled, nothing rests
    IocRemainderCancelled,  // Ioc: the unfilled remainder (possibly all) was dropped
    AloWouldCross,   // Alo rejected: it would have taken liquidity; book unchanged
  };
  Status status = Status::Rested;
  Lots filled = 0;  // total taker size filled
};

}  // namespace perps
