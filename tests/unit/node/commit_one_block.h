// Drives one block through a Node the way the single-validator engine does: prepare, process,
// finalize and commit, one second after the last committed block.
#pragma once

#include <catch2/catch.hpp>

#include "consensus/application.h"
#include "node/node.h"

inline void commit_one_block(node::Node& node) {
  const consensus::CommitInfo last = node.last_commit();
  consensus::BlockHeader header;
  header.height = last.height + 1;
  header.time_ms = last.time_ms + 1000;
  header.parent_hash = last.block_hash;
  header.last_app_hash = last.app_hash;
  auto txs = node.prepare_proposal(header.height, header.time_ms, 1 << 20);
  header.payload_hash = consensus::payload_hash(txs);
  REQUIRE(node.process_proposal(header, txs));
  node.finalize_block(header, txs);
  node.commit();
}
