// The boundary between consensus and the state machine, shaped like CometBFT's ABCI: consensus
// orders opaque transactions into blocks and never looks inside them; the application proposes
// transactions, checks proposals, executes finalized blocks and persists them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "state/bytes.h"

namespace consensus {

struct BlockHeader {
  std::uint64_t height = 0;
  std::uint64_t time_ms = 0;  // chosen by the proposer; strictly increasing
  state::Address proposer;
  state::Hash256 parent_hash;    // hash of the block at height - 1 (zero for height 1)
  state::Hash256 payload_hash;   // payload_hash(txs)
  state::Hash256 last_app_hash;  // the app hash after the block at height - 1

  // keccak256 of the fixed-width big-endian fields in declaration order.
  state::Hash256 hash() const;
  std::string encode() const;
  static bool decode(std::string_view bytes, BlockHeader& out);
  bool operator==(const BlockHeader&) const = default;
};

// keccak256(u32be(count) || keccak256(tx_1) || ... || keccak256(tx_n)).
state::Hash256 payload_hash(const std::vector<std::string>& txs);

struct CommitInfo {
  std::uint64_t height = 0;  // 0: only genesis is committed
  std::uint64_t time_ms = 0;
  state::Hash256 block_hash;  // zero at genesis
  state::Hash256 app_hash;
};

class Application {
 public:
  virtual ~Application() = default;

  // The transactions the proposer puts in the next block, at most max_bytes in total.
  virtual std::vector<std::string> prepare_proposal(std::uint64_t height, std::uint64_t time_ms,
                                                    std::size_t max_bytes) = 0;
  // Whether a proposed block is acceptable (decodes, verifies); a validator votes only for those.
  // Consensus has already checked header.payload_hash against txs (as CometBFT checks block
  // parts against the header), so the application does not hash the payload again.
  virtual bool process_proposal(const BlockHeader& header, const std::vector<std::string>& txs) = 0;
  // Executes a decided block; returns the app hash after it (carried by the next header).
  virtual state::Hash256 finalize_block(const BlockHeader& header,
                                        const std::vector<std::string>& txs) = 0;
  // Persists the finalized block and its results atomically, then answers whoever waited on it.
  virtual void commit() = 0;
  // What is committed (where consensus resumes after a restart).
  virtual CommitInfo last_commit() const = 0;
};

}  // namespace consensus
