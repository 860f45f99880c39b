// The app hash: LtHash16 (state/lthash.h) over one element per key/value pair of the state,
//   element = SHA-256(u32be(len(key)) || key || value),   app hash = SHA-256(lane bytes),
// updated in O(1) per changed key (remove the old element, add the new). Because LtHash is a sum,
// the result does not depend on the order keys were written, and a full listing of the state (a
// snapshot) can be checked against it by recomputing from scratch. SHA-256 rather than keccak:
// with SHA-NI a 60-200-byte record costs ~120-190 ns against ~360-720 ns for the hand-written
// keccak. Why not a Merkle trie on SHA-256(key), rebuilt along dirty paths once per block: it
// would re-hash 1.4 (50,000-order blocks) to 3.6 (5,000) internal nodes per changed key at
// today's state size, growing with log(state), plus a key hash and a sort; no cheaper than the
// ~1.25 LtHash expansions per changed key at 50,000 orders and dearer at 5,000
// (docs/benchmarks.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "state/digest_table.h"
#include "state/kv_store.h"
#include "state/lthash.h"

namespace state {

Hash256 state_element(std::string_view key, std::string_view value);

class StateCommitment {
 public:
  // key now holds value (nullopt: key deleted).
  void set(std::string_view key, std::optional<std::string_view> value);
  // set() for each operation of batch in order, keys with prefix stripped (every key must start
  // with it). Faster than set() one by one: the digest table's cache misses overlap.
  void apply(const WriteBatch& batch, std::string_view prefix);
  Hash256 app_hash() const { return hash_.checksum(); }
  std::size_t size() const { return digests_.size(); }

  // The app hash of every pair under prefix in store, computed from scratch (keys keep the prefix
  // stripped, as the executor stores them).
  static Result<Hash256> recompute(const KvStore& store, std::string_view prefix);

 private:
  void set(std::string_view key, std::size_t key_hash, std::optional<std::string_view> value);
  DigestTable digests_;
  LtHash16 hash_;
};

}  // namespace state
