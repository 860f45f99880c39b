// What the exchange starts from: validators, initial balances and core markets. The genesis file
// loader (genesis/, node issue) fills this struct; tests build it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "perps/book_types.h"
#include "state/bytes.h"

namespace perps {

struct GenesisValidator {
  state::Address address;
  std::uint64_t power = 0;
  std::string p2p;
};

struct GenesisBalance {
  state::Address address;
  std::int64_t usd = 0;    // micro-dollars
  std::int64_t stake = 0;  // stake-token micro-units
};

// A margin tier: from this position notional up, at most this leverage (SPEC section 4: at most 3
// tiers, increasing bounds, decreasing leverage).
struct MarginTierSpec {
  std::int64_t lower_bound = 0;  // position notional (micro-dollars) where the tier starts
  std::uint32_t max_leverage = 1;
};

struct GenesisMarket {
  std::string name;  // core market: bare coin name ("BTC")
  unsigned sz_decimals = 0;
  std::uint32_t max_leverage = 1;
  Px oracle_px = 0;                  // initial oracle and mark price
  std::int64_t impact_notional = 0;  // micro-dollars
  std::vector<MarginTierSpec> tiers;  // empty: one tier at max_leverage (deployers set more)
};

struct GenesisState {
  std::uint64_t chain_id = 0;
  std::uint64_t genesis_time_ms = 0;
  std::string stake_token = "PERP";
  std::vector<GenesisValidator> validators;
  std::vector<GenesisBalance> balances;
  std::vector<GenesisMarket> markets;
};

}  // namespace perps
