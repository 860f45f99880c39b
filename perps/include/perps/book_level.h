// One aggregated price level of an order book (an L2 row), as every book reports it through
// levels(). Kept apart from book_types.h because only readers of depth need it.
#pragma once

#include <cstdint>

#include "perps/book_types.h"

namespace perps {

struct BookLevel {
  Px px = 0;
  Lots sz = 0;          // sum of the remaining sizes resting at px
  std::uint32_t n = 0;  // number of orders resting at px

  bool operator==(const BookLevel&) const = default;
};

}  // namespace perps
