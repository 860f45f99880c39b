// Genesis files (SPEC section 6): one JSON object, unknown fields rejected, every amount a decimal
// string. The loader validates every field and names the one that fails.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "perps/genesis_state.h"
#include "state/result.h"

namespace genesis {

// A genesis is a few kilobytes; the bounds keep a hostile or mistaken file from costing more
// than a quick rejection. The format itself nests 3 levels (object, array, object).
inline constexpr std::size_t kMaxGenesisBytes = 16 * 1024 * 1024;
inline constexpr unsigned kMaxGenesisDepth = 8;

// Parses and validates a genesis text. Every failure is Reason::BadGenesis with a message that
// starts with the field's path, e.g. "markets[1].szDecimals: must be 0..6" or
// "validators[0].address: not a 0x-prefixed 20-byte hex address".
state::Result<perps::GenesisState> parse_genesis(std::string_view json_text);

// Reads and parses a file; a missing or unreadable file is BadGenesis naming the path.
state::Result<perps::GenesisState> load_genesis_file(const std::string& path);

// The canonical text of a genesis (SPEC field order, decimal strings, checksummed addresses,
// two-space indentation): what `perpd init` writes; parse_genesis(genesis_to_json(g)) == g for
// every g that parse_genesis can return. Margin tiers are not part of the file format (core
// markets have one tier at maxLeverage), so GenesisMarket::tiers is not written.
std::string genesis_to_json(const perps::GenesisState& genesis);

}  // namespace genesis
