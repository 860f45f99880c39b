// Fill events as bytes, so a node can store each block's events and rebuild its query indexes
// (fills by user) after a restart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "perps/exchange.h"
#include "state/result.h"

namespace perps {

std::string encode_fill_events(const std::vector<FillEvent>& events);
// StorageError when the bytes are damaged.
state::Result<std::vector<FillEvent>> decode_fill_events(std::string_view bytes);

}  // namespace perps
