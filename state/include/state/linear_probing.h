// Backward-shift deletion for open-addressing tables with linear probing over a power-of-two
// array (the exchange's order index, the app-hash digest table): no tombstones, so lookups never
// walk dead slots and the table never needs a rehash to clear them.
#pragma once

#include <cstddef>

namespace state {

// After the key in slots[hole] is removed, each later key of its probe run moves back into the
// hole unless its home lies cyclically in (hole, its slot], so every key stays reachable from its
// home. Returns the slot left over, which the caller marks empty.
template <class Slots, class IsEmpty, class HomeOf>
std::size_t backward_shift(Slots& slots, std::size_t hole, std::size_t mask, IsEmpty is_empty,
                           HomeOf home_of) {
  for (std::size_t j = (hole + 1) & mask; !is_empty(slots[j]); j = (j + 1) & mask) {
    const std::size_t home = home_of(slots[j]);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (!movable) continue;
    slots[hole] = slots[j];
    hole = j;
  }
  return hole;
}

}  // namespace state
