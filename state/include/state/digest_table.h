// The app-hash commitment's table: state key -> the digest of its current element (what LtHash
// must subtract when the key changes).
//
// Extendible hashing over fixed-size segments: the directory picks a segment by the top bits of
// the key's hash, and each segment is an open-addressing table with linear probing inside it
// (the key inline in a 64-byte slot, so a lookup is one cache line). A segment past 3/4 full
// splits in two by its next hash bit, moving only its own keys. Why not one array doubling: a
// doubling rehashed every key at once (200 ms at ~500,000 keys), and spreading it over inserts
// still mapped a fresh array twice the size each time and unmapped the old one, so the table
// faulted in about twice its final size of never-used memory; on this VM a fresh page costs
// 1.7-3.5 us idle and ~15 us under load, against 0.02 us for a reused one. Here growth faults in
// one 256 KiB segment at a time, no memory is released to be faulted in again, and a split's
// pause is bounded by one segment.
//
// determinism: looked up by key only, never iterated in any way that reaches the app hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "state/bytes.h"

namespace state {

class DigestTable {
 public:
  using HashFunction = std::size_t (*)(std::string_view);
  static std::size_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  // hash_function must be the one callers pass hashes of (tests choose poor ones on purpose).
  explicit DigestTable(HashFunction hash_function = &DigestTable::hash);
  DigestTable(DigestTable&&) = default;  // segments stay put, so the directory stays valid
  DigestTable& operator=(DigestTable&&) = default;

  // hash is hash_function(key): callers compute it once for the prefetch and the lookup.
  Hash256* find(std::string_view key, std::size_t hash);
  void insert(std::string_view key, std::size_t hash, const Hash256& digest);  // key absent
  void erase(std::string_view key, std::size_t hash);                          // key present
  void prefetch(std::size_t hash) const;
  std::size_t size() const { return size_ + overflow_.size(); }
  std::size_t segment_count() const { return segments_.size(); }

  static constexpr std::size_t kInlineKey = 30;
  static constexpr std::size_t kSegmentSlots = 4096;  // 256 KiB of slots
  // Keys per segment before it splits: linear probing stays short (~2.5 slots to find a key,
  // ~8 to find a free one at the limit) and a segment is never full.
  static constexpr std::size_t kSplitAt = kSegmentSlots * 3 / 4;
  // A segment this deep no longer splits, and keys past its limit go to the overflow map: the
  // directory stops at 2^20 entries (8 MiB, room for two billion keys at the usual load), however
  // many keys share their leading hash bits.
  static constexpr unsigned kMaxDepth = 20;

 private:
  struct Slot {
    std::uint8_t full = 0;
    std::uint8_t len = 0;
    char key[kInlineKey];
    Hash256 digest;
  };
  static_assert(sizeof(Slot) == 64);
  struct Segment {
    unsigned depth = 0;  // leading hash bits its keys share (its directory entries: 2^(G-depth))
    std::size_t size = 0;
    std::unique_ptr<Slot[]> slots{new Slot[kSegmentSlots]};  // exactly 256 KiB: no size-class slack
  };

  static constexpr std::size_t kMask = kSegmentSlots - 1;
  std::size_t directory_index(std::size_t hash) const {
    return (hash >> (63 - depth_)) >> 1;  // two shifts: a shift by 64 (depth 0) is undefined
  }
  Segment& segment_of(std::size_t hash) const { return *directory_[directory_index(hash)]; }
  // The slot holding key, or the first empty one of its probe run.
  static std::size_t probe(const Segment& segment, std::string_view key, std::size_t hash);
  static void place(Segment& segment, std::size_t at, std::string_view key, const Hash256& digest);
  // Splits the segment hash falls in, doubling the directory first if it is as deep.
  void split(std::size_t hash);

  HashFunction hash_function_;
  unsigned depth_ = 0;                                 // the directory has 2^depth_ entries
  std::vector<Segment*> directory_;                    // by the hash's top depth_ bits
  std::vector<std::unique_ptr<Segment>> segments_;     // owns what directory_ points to
  std::unique_ptr<Slot[]> scratch_;                    // a split's copy of the slots it empties
  std::size_t size_ = 0;                               // keys in segments
  std::unordered_map<std::string, Hash256> overflow_;  // long keys, and keys of full segments
};

}  // namespace state
