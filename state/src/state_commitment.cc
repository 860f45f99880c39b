#include "state/state_commitment.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <utility>

#include <sys/mman.h>

#include "state/linear_probing.h"
#include "state/sha256.h"

namespace state {

Hash256 state_element(std::string_view key, std::string_view value) {
  const std::uint32_t len = static_cast<std::uint32_t>(key.size());
  const std::uint8_t prefix[4] = {
      static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
      static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
  return sha256({prefix, as_bytes(key), as_bytes(value)});
}

void StateCommitment::set(std::string_view key, std::optional<std::string_view> value) {
  set(key, DigestTable::hash(key), value);
}

void StateCommitment::set(std::string_view key, std::size_t key_hash,
                          std::optional<std::string_view> value) {
  if (Hash256* digest = digests_.find(key, key_hash)) {
    if (!value) {
      hash_.remove(*digest);
      digests_.erase(key, key_hash);
      return;
    }
    const Hash256 element = state_element(key, *value);
    hash_.replace(*digest, element);
    *digest = element;
  } else if (value) {
    const Hash256 element = state_element(key, *value);
    hash_.add(element);
    digests_.insert(key, key_hash, element);
  }
}

void StateCommitment::apply(const WriteBatch& batch, std::string_view prefix) {
  // The table (~128 B per key) is far larger than the caches, so each lookup is a miss; hashing
  // the key a few operations ahead and prefetching its slot overlaps the misses with the crypto.
  constexpr std::size_t kAhead = 4;
  std::array<std::size_t, kAhead + 1> hashes;  // of operations i .. i + kAhead, by index mod size
  const std::size_t n = batch.size();
  auto hash_ahead = [&](std::size_t j) {
    const std::size_t hash = DigestTable::hash(batch.op(j).key.substr(prefix.size()));
    digests_.prefetch(hash);
    hashes[j % hashes.size()] = hash;
  };
  for (std::size_t j = 0; j < std::min(n, kAhead); ++j) hash_ahead(j);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) hash_ahead(i + kAhead);
    const WriteBatch::Op op = batch.op(i);
    set(op.key.substr(prefix.size()), hashes[i % hashes.size()], op.value);
  }
}

StateCommitment::DigestTable::SlotArray::SlotArray(std::size_t slots) : size_(slots) {
  void* mapping =
      mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) throw std::bad_alloc();
  slots_ = static_cast<Slot*>(mapping);  // zero bytes: every slot empty
}

StateCommitment::DigestTable::SlotArray& StateCommitment::DigestTable::SlotArray::operator=(
    SlotArray&& other) noexcept {
  if (this != &other) {
    release();
    slots_ = std::exchange(other.slots_, nullptr);
    size_ = std::exchange(other.size_, 0);
    faulted_ = std::exchange(other.faulted_, 0);
  }
  return *this;
}

void StateCommitment::DigestTable::SlotArray::release() {
  if (slots_) munmap(slots_, bytes());
  slots_ = nullptr;
}

void StateCommitment::DigestTable::SlotArray::fault_in(std::size_t end) {
  constexpr std::size_t kPageSlots = 4096 / sizeof(Slot);
  end = std::min(end, size_);
  for (; faulted_ < end; faulted_ += kPageSlots)
    reinterpret_cast<volatile std::uint8_t&>(slots_[faulted_].state) = 0;  // a write maps the page
}

std::size_t StateCommitment::DigestTable::probe(const SlotArray& slots, std::string_view key,
                                                std::size_t hash) {
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots[i];
    if (slot.state == 0) return i;
    if (slot.state == 1 && slot.len == key.size() &&
        std::memcmp(slot.key, key.data(), key.size()) == 0)
      return i;
  }
}

void StateCommitment::DigestTable::prefetch(std::size_t hash) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
}

Hash256* StateCommitment::DigestTable::find(std::string_view key, std::size_t hash) {
  if (key.size() > kInlineKey) {
    auto it = long_keys_.find(std::string(key));
    return it == long_keys_.end() ? nullptr : &it->second;
  }
  if (slots_.empty()) return nullptr;
  if (Slot& slot = slots_[probe(slots_, key, hash)]; slot.state == 1) return &slot.digest;
  if (draining_.empty()) return nullptr;
  Slot& slot = draining_[probe(draining_, key, hash)];
  return slot.state == 1 ? &slot.digest : nullptr;
}

void StateCommitment::DigestTable::insert(std::string_view key, std::size_t hash,
                                          const Hash256& digest) {
  if (key.size() > kInlineKey) {
    long_keys_.emplace(std::string(key), digest);
    return;
  }
  drain(kDrainStep);
  prepare_growth();
  if (2 * (size_ + 1) > slots_.size()) start_growth();  // load at most 1/2
  Slot& slot = slots_[probe(slots_, key, hash)];
  slot.state = 1;
  slot.len = static_cast<std::uint8_t>(key.size());
  std::memcpy(slot.key, key.data(), key.size());
  slot.digest = digest;
  ++size_;
}

void StateCommitment::DigestTable::erase(std::string_view key, std::size_t hash) {
  if (key.size() > kInlineKey) {
    long_keys_.erase(std::string(key));
    return;
  }
  const std::size_t at = probe(slots_, key, hash);
  if (slots_[at].state == 1) {
    const std::size_t mask = slots_.size() - 1;
    const std::size_t hole = backward_shift(
        slots_, at, mask, [](const Slot& s) { return s.state == 0; },
        [mask](const Slot& s) { return DigestTable::hash(std::string_view(s.key, s.len)) & mask; });
    slots_[hole].state = 0;
  } else {
    draining_[probe(draining_, key, hash)].state = 2;  // not yet moved on: it must be here
  }
  --size_;
  drain(kDrainStep);
}

void StateCommitment::DigestTable::prepare_growth() {
  // From load 3/8 to 1/2 (S/8 inserts for an array of S slots), the next array's 2S slots in
  // step: 16 slots' pages per insert. If erases bring the load back down, next_ stays mapped.
  const std::size_t from = 3 * slots_.size() / 8;
  if (slots_.empty() || size_ < from) return;
  if (next_.empty()) next_ = SlotArray(2 * slots_.size());
  next_.fault_in((size_ - from + 1) * 16);
}

void StateCommitment::DigestTable::start_growth() {
  drain(draining_.size());  // only if a caller outgrew the step's guarantee
  draining_ = std::move(slots_);
  drained_ = 0;
  slots_ = next_.empty() ? SlotArray(std::max<std::size_t>(1024, 2 * draining_.size()))
                         : std::move(next_);
}

void StateCommitment::DigestTable::drain(std::size_t slots) {
  if (draining_.empty()) return;
  const std::size_t end = std::min(draining_.size(), drained_ + slots);
  for (; drained_ < end; ++drained_) {
    Slot& slot = draining_[drained_];
    if (slot.state != 1) continue;
    const std::string_view key(slot.key, slot.len);
    slots_[probe(slots_, key, hash(key))] = slot;  // absent there: lands in an empty slot
    slot.state = 2;
  }
  if (drained_ == draining_.size()) {
    draining_ = SlotArray();
    drained_ = 0;
  }
}

Result<Hash256> StateCommitment::recompute(const KvStore& store, std::string_view prefix) {
  LtHash16 hash;
  Status status = store.scan(prefix, [&](std::string_view key, std::string_view value) {
    hash.add(state_element(key.substr(prefix.size()), value));
    return true;
  });
  if (!status) return status.error();
  return hash.checksum();
}

}  // namespace state
