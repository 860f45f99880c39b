// The app hash: LtHash16 over one element per key/value pair of the state,
//   element = keccak256(u32be(len(key)) || key || value),
// updated in O(1) per changed key (remove the old element, add the new). Because LtHash is a sum,
// the result does not depend on the order keys were written, and a full listing of the state (a
// snapshot) can be checked against it by recomputing from scratch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "state/kv_store.h"
#include "state/lthash.h"

namespace state {

Hash256 state_element(std::string_view key, std::string_view value);

class StateCommitment {
 public:
  // key now holds value (nullopt: key deleted).
  void set(std::string_view key, std::optional<std::string_view> value);
  Hash256 app_hash() const { return hash_.checksum(); }
  std::size_t size() const { return digests_.size(); }

  // The app hash of every pair under prefix in store, computed from scratch (keys keep the prefix
  // stripped, as the executor stores them).
  static Result<Hash256> recompute(const KvStore& store, std::string_view prefix);

 private:
  struct KeyHash {
    using is_transparent = void;  // look up by string_view without building a std::string
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  // determinism: looked up by key only, never iterated; LtHash sums are order-independent.
  std::unordered_map<std::string, Hash256, KeyHash, std::equal_to<>> digests_;
  LtHash16 hash_;
};

}  // namespace state
