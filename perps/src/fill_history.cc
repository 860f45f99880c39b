#include "perps/fill_history.h"

namespace perps {

void FillHistory::record(const std::vector<FillEvent>& events) {
  for (const FillEvent& fill : events) {
    auto& history = by_user_[fill.user];
    history.push_back(fill);
    // Trim in batches so a busy user does not pay a shift per fill.
    if (history.size() > 2 * kept_per_user_)
      history.erase(history.begin(), history.end() - static_cast<std::ptrdiff_t>(kept_per_user_));
  }
}

const std::vector<FillEvent>& FillHistory::of(const state::Address& user) const {
  static const std::vector<FillEvent> none;
  auto it = by_user_.find(user);
  return it == by_user_.end() ? none : it->second;
}

}  // namespace perps
