// Genesis files (SPEC section 6): one JSON object, unknown fields rejected, every amount a decimal
// string. The loader validates every field and names the one that fails.
#pragma once

#include <string>
#include <string_view>

#include "perps/genesis_state.h"
#include "state/result.h"

namespace genesis {

// Parses and validates a genesis text. Every failure is Reason::BadGenesis with a message that
// starts with the field's path, e.g. "markets[1].szDecimals: must be 0..6" or
// "validators[0].address: not a 0x-prefixed 20-byte hex address".
state::Result<perps::GenesisState> parse_genesis(std::string_view json_text);

// Reads and parses a file; a missing or unreadable file is BadGenesis naming the path.
state::Result<perps::GenesisState> load_genesis_file(const std::string& path);

// The canonical text of a genesis (SPEC field order, decimal strings, checksummed addresses,
// two-space indentation): what `perpd init` writes; parse_genesis(genesis_to_json(g)) == g.
std::string genesis_to_json(const perps::GenesisState& genesis);

}  // namespace genesis
