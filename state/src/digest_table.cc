#include "state/digest_table.h"

#include <cstring>

#include "state/linear_probing.h"

namespace state {

DigestTable::DigestTable(HashFunction hash_function) : hash_function_(hash_function) {
  segments_.push_back(std::make_unique<Segment>());
  directory_.push_back(segments_.back().get());
}

std::size_t DigestTable::probe(const Segment& segment, std::string_view key, std::size_t hash) {
  for (std::size_t i = hash & kMask;; i = (i + 1) & kMask) {
    const Slot& slot = segment.slots[i];
    if (!slot.full) return i;  // a segment is never full, so the run ends
    if (slot.len == key.size() && std::memcmp(slot.key, key.data(), key.size()) == 0) return i;
  }
}

void DigestTable::place(Segment& segment, std::size_t at, std::string_view key,
                        const Hash256& digest) {
  Slot& slot = segment.slots[at];
  slot.full = 1;
  slot.len = static_cast<std::uint8_t>(key.size());
  std::memcpy(slot.key, key.data(), key.size());
  slot.digest = digest;
  ++segment.size;
}

void DigestTable::prefetch(std::size_t hash) const {
  __builtin_prefetch(&segment_of(hash).slots[hash & kMask]);
}

Hash256* DigestTable::find(std::string_view key, std::size_t hash) {
  if (key.size() <= kInlineKey) {
    Segment& segment = segment_of(hash);
    if (Slot& slot = segment.slots[probe(segment, key, hash)]; slot.full) return &slot.digest;
  }
  if (overflow_.empty()) return nullptr;
  auto it = overflow_.find(std::string(key));
  return it == overflow_.end() ? nullptr : &it->second;
}

void DigestTable::insert(std::string_view key, std::size_t hash, const Hash256& digest) {
  if (key.size() <= kInlineKey) {
    for (;;) {
      Segment& segment = segment_of(hash);
      if (segment.size < kSplitAt) {
        place(segment, probe(segment, key, hash), key, digest);
        ++size_;
        return;
      }
      if (segment.depth >= kMaxDepth) break;
      split(hash);
    }
  }
  overflow_.emplace(std::string(key), digest);
}

void DigestTable::erase(std::string_view key, std::size_t hash) {
  if (key.size() <= kInlineKey) {
    Segment& segment = segment_of(hash);
    const std::size_t at = probe(segment, key, hash);
    if (segment.slots[at].full) {
      const std::size_t hole = backward_shift(
          segment.slots, at, kMask, [](const Slot& s) { return !s.full; },
          [this](const Slot& s) { return hash_function_(std::string_view(s.key, s.len)) & kMask; });
      segment.slots[hole].full = 0;
      --segment.size;
      --size_;
      return;
    }
  }
  overflow_.erase(std::string(key));
}

void DigestTable::split(std::size_t hash) {
  Segment& segment = segment_of(hash);
  if (segment.depth == depth_) {
    std::vector<Segment*> doubled(2 * directory_.size());
    for (std::size_t i = 0; i < doubled.size(); ++i) doubled[i] = directory_[i / 2];
    directory_ = std::move(doubled);
    ++depth_;
  }
  // The segment's directory entries are a run of 2^(depth_ - depth) aligned to its size; the
  // upper half moves to the sibling, as do the keys whose next hash bit is 1.
  const std::size_t run = std::size_t{1} << (depth_ - segment.depth);
  const std::size_t start = directory_index(hash) & ~(run - 1);
  const unsigned bit = 63 - segment.depth;
  ++segment.depth;
  segments_.push_back(std::make_unique<Segment>());
  Segment& sibling = *segments_.back();
  sibling.depth = segment.depth;
  for (std::size_t i = start + run / 2; i < start + run; ++i) directory_[i] = &sibling;

  if (!scratch_) scratch_.reset(new Slot[kSegmentSlots]);
  std::memcpy(static_cast<void*>(scratch_.get()), segment.slots.get(),
              kSegmentSlots * sizeof(Slot));
  for (std::size_t i = 0; i < kSegmentSlots; ++i) segment.slots[i].full = 0;
  segment.size = 0;
  for (std::size_t i = 0; i < kSegmentSlots; ++i) {
    const Slot& slot = scratch_[i];
    if (!slot.full) continue;
    const std::string_view key(slot.key, slot.len);
    const std::size_t key_hash = hash_function_(key);
    Segment& to = (key_hash >> bit) & 1 ? sibling : segment;
    place(to, probe(to, key, key_hash), key, slot.digest);
  }
}

}  // namespace state
