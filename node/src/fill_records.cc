#include "node/fill_records.h"

#include <algorithm>
#include <map>

#include "perps/event_codec.h"

namespace node {

std::vector<UserFills> fills_by_user(const std::vector<perps::FillEvent>& events) {
  std::map<state::Address, std::vector<perps::FillEvent>> by_user;
  for (const perps::FillEvent& fill : events) by_user[fill.user].push_back(fill);
  std::vector<UserFills> out;
  out.reserve(by_user.size());
  for (const auto& [user, fills] : by_user) out.push_back({user, perps::encode_fill_events(fills)});
  return out;
}

state::Result<std::vector<perps::FillEvent>> recent_fills(
    const BlockStore& store, const state::Address& user, std::uint64_t start_ms,
    std::uint64_t end_ms, std::size_t limit, std::size_t examined, std::uint64_t max_height) {
  std::vector<perps::FillEvent> fills;  // newest first until the end
  if (end_ms < start_ms) return fills;
  std::size_t seen = 0;
  state::Status decoded = state::Status::Ok();
  state::Status scanned = store.for_each_user_fills_newest_first(
      user, [&](std::uint64_t height, std::string_view bytes) {
        if (height > max_height) return true;
        auto events = perps::decode_fill_events(bytes);
        const bool theirs = events && std::all_of(events->begin(), events->end(),
                                                  [&](const auto& f) { return f.user == user; });
        if (!theirs) {
          decoded = state::make_error(state::Reason::StorageError,
                                      "damaged fill record at height " + std::to_string(height));
          return false;
        }
        // Block times never decrease with height: the first fill before start ends the scan.
        for (auto f = events->rbegin(); f != events->rend(); ++f) {
          if (++seen > examined || f->time_ms < start_ms) return false;
          if (f->time_ms > end_ms) continue;
          fills.push_back(*f);
          if (fills.size() == limit) return false;
        }
        return true;
      });
  if (!scanned) return scanned.error();
  if (!decoded) return decoded.error();
  std::reverse(fills.begin(), fills.end());
  return fills;
}

}  // namespace node
