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
#include <unordered_map>
#include <vector>

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
  // Key -> current element digest. Open addressing with the key inline in a 64-byte slot, so a
  // lookup is one cache line (the node-based map cost a bucket and a node miss per changed key).
  // Keys longer than kInlineKey bytes (none today) go to an ordinary map.
  // Growth is spread over many inserts. A doubling used to rehash every key at once, and at
  // ~500,000 keys that held a block for 200 ms (more as the state grows). Now the next array is
  // mapped from load 3/8 and its pages faulted in a few per insert (fresh memory costs ~1 ms per
  // 2 MiB on this VM), and after the switch at load 1/2 the old array drains into the new one a
  // few slots per insert or erase, while lookups check both.
  // determinism: looked up by key only, never iterated; LtHash sums are order-independent.
  class DigestTable {
   public:
    static constexpr std::size_t kInlineKey = 30;
    static std::size_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
    // hash is hash(key): apply() computes it once for the prefetch and the lookup.
    Hash256* find(std::string_view key, std::size_t hash);
    void insert(std::string_view key, std::size_t hash,
                const Hash256& digest);                  // key must be absent
    void erase(std::string_view key, std::size_t hash);  // key must be present
    void prefetch(std::size_t hash) const;
    std::size_t size() const { return size_ + long_keys_.size(); }

   private:
    struct Slot {
      // 0 empty, 1 full, 2 moved on (only in the draining array, which takes no inserts, so a
      // moved slot keeps later keys of its probe run reachable). erase() in the current array
      // shifts later keys back: no tombstones there.
      std::uint8_t state = 0;
      std::uint8_t len = 0;
      char key[kInlineKey];
      Hash256 digest;
    };
    static_assert(sizeof(Slot) == 64);
    // A power-of-two array of slots from mmap: zero-filled by the kernel (no clearing pass), and
    // unmapped whole once drained. Small pages on purpose: on this VM a never-used 2 MiB page
    // took ~6 ms to fault in (a reused one 0.25 ms, 4 KiB pages ~1 ms per 2 MiB), and with THP
    // defrag=madvise a huge-page fault may compact memory first; the load test showed no gain.
    class SlotArray {
     public:
      SlotArray() = default;
      explicit SlotArray(std::size_t slots);
      SlotArray(SlotArray&& other) noexcept { *this = std::move(other); }
      SlotArray& operator=(SlotArray&& other) noexcept;
      ~SlotArray() { release(); }
      std::size_t size() const { return size_; }
      bool empty() const { return size_ == 0; }
      // Writes to every page of slots [0, end) not written yet, so that the kernel's page faults
      // happen now rather than all on the first inserts after the switch.
      void fault_in(std::size_t end);
      Slot& operator[](std::size_t i) { return slots_[i]; }
      const Slot& operator[](std::size_t i) const { return slots_[i]; }

     private:
      std::size_t bytes() const { return size_ * sizeof(Slot); }  // of the mapping at slots_
      void release();
      Slot* slots_ = nullptr;
      std::size_t size_ = 0;
      std::size_t faulted_ = 0;  // slots [0, faulted_) are faulted in
    };
    // Slots examined per insert or erase while an old array drains: it has 2x the keys' slots of
    // room, so any step of at least 2 empties it before the new array reaches load 1/2.
    static constexpr std::size_t kDrainStep = 8;
    // In slots, the slot holding key, or the first empty one (moved slots are passed over).
    static std::size_t probe(const SlotArray& slots, std::string_view key, std::size_t hash);
    void prepare_growth();
    void start_growth();
    void drain(std::size_t slots);
    SlotArray slots_;          // where keys are inserted
    SlotArray next_;           // the array after the next growth, being faulted in (from load 3/8)
    SlotArray draining_;       // the array before the last growth, until every key has moved on
    std::size_t drained_ = 0;  // draining_[0, drained_) has moved on
    std::size_t size_ = 0;     // inline keys in both arrays
    std::unordered_map<std::string, Hash256> long_keys_;
  };
  void set(std::string_view key, std::size_t key_hash, std::optional<std::string_view> value);
  DigestTable digests_;
  LtHash16 hash_;
};

}  // namespace state
