// Fills as the node stores them for perp_fills: one record per user per block ("c/f/", see
// block_store.h), so a user's recent fills are one reverse scan and a restart rebuilds nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "node/block_store.h"
#include "perps/exchange.h"

namespace node {

// A block's fill events as one record per user, each user's in execution order.
std::vector<UserFills> fills_by_user(const std::vector<perps::FillEvent>& events);

// The user's fills with start_ms <= time <= end_ms in blocks up to max_height, the most recent
// `limit` of them, oldest first, looking back over at most `examined` of the user's fills
// (newest first): a query's work stays bounded whatever the history. StorageError for a record
// that does not decode or holds another user's fills.
state::Result<std::vector<perps::FillEvent>> recent_fills(
    const BlockStore& store, const state::Address& user, std::uint64_t start_ms,
    std::uint64_t end_ms, std::size_t limit, std::size_t examined, std::uint64_t max_height);

}  // namespace node
