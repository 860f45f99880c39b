// A transaction's outcome as its tx record stores it: fixed-width binary fields instead of the
// JSON answer text (18 bytes for a resting order against ~70). Every stored byte is written to
// the log, the memtable, a level-0 table and each compaction, once per transaction; chain_getTx
// renders the same JSON back on demand.
#pragma once

#include <string>
#include <string_view>

#include "perps/exchange.h"
#include "state/block_executor.h"
#include "state/result.h"

namespace perps {

using Outcome = state::TxOutcome<Exchange::Response>;

std::string encode_outcome_record(const Outcome& outcome);
// StorageError when the bytes are damaged.
state::Result<Outcome> decode_outcome_record(std::string_view record);

// An ok outcome's response as JSON: its order statuses, or null for an action without any.
std::string response_json_text(const Exchange& exchange, const Exchange::Response& response);
// An outcome as perp_sendAction's answer and chain_getTx's "result" both carry it:
// {"status":"ok","response":...} or {"status":"err","response":{"reason":...,"message":...}}.
std::string outcome_json_text(const Exchange& exchange, const Outcome& outcome);
// A stored outcome as outcome_json_text gives it. Records written before this format held JSON
// text (they start with '{'): a refusal's reason and message at its top are moved under
// "response", anything else is returned as it is.
state::Result<std::string> stored_outcome_json_text(const Exchange& exchange,
                                                    std::string_view record);

}  // namespace perps
