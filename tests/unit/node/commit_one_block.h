// Drives one block through a Node the way the single-validator engine does: prepare, process,
// finalize and commit, one second after the last committed block.
#pragma once

#include <catch2/catch.hpp>

#include "consensus/application.h"
#include "node/node.h"

// The next block's header as the engine starts it (payload hash still to fill in).
inline consensus::BlockHeader next_header(const node::Node& node) {
  const consensus::CommitInfo last = node.last_commit();
  consensus::BlockHeader header;
  header.height = last.height + 1;
  header.time_ms = last.time_ms + 1000;
  header.parent_hash = last.block_hash;
  header.last_app_hash = last.app_hash;
  return header;
}

// The next block prepared, processed and finalized but not committed (a test may query the node
// in between): its header and how many transactions it took.
struct FinalizedBlock {
  consensus::BlockHeader header;
  std::size_t txs = 0;
};

// max_block_bytes bounds what the block takes from the mempool (0: an empty block).
inline FinalizedBlock finalize_next_block(node::Node& node, std::size_t max_block_bytes = 1 << 20) {
  consensus::BlockHeader header = next_header(node);
  auto txs = node.prepare_proposal(header.height, header.time_ms, max_block_bytes);
  header.payload_hash = consensus::payload_hash(txs);
  REQUIRE(node.process_proposal(header, txs));
  node.finalize_block(header, txs);
  return {header, txs.size()};
}

inline void commit_one_block(node::Node& node, std::size_t max_block_bytes = 1 << 20) {
  finalize_next_block(node, max_block_bytes);
  node.commit();
}
