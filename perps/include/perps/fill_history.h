// Recent fills per user, for the fills query. Not consensus state: it is fed from each block's
// events after execution (the node keeps the full history in its store), so the exchange's hot
// path does no per-user bookkeeping.
#pragma once

#include <map>
#include <vector>

#include "perps/exchange.h"

namespace perps {

class FillHistory {
 public:
  explicit FillHistory(std::size_t kept_per_user = 2000) : kept_per_user_(kept_per_user) {}

  // Adds a block's fill events (both sides of each trade), in execution order.
  void record(const std::vector<FillEvent>& events);
  // The user's most recent fills, oldest first (at most kept_per_user, amortized).
  const std::vector<FillEvent>& of(const state::Address& user) const;

 private:
  std::size_t kept_per_user_;
  std::map<state::Address, std::vector<FillEvent>> by_user_;
};

}  // namespace perps
