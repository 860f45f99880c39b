#include "state/state_commitment.h"

#include <cstring>

#include "state/keccak.h"

namespace state {

Hash256 state_element(std::string_view key, std::string_view value) {
  const std::uint32_t len = static_cast<std::uint32_t>(key.size());
  const std::uint8_t prefix[4] = {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                                  static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
  return Keccak256().update(prefix).update(key).update(value).finish();
}

void StateCommitment::set(std::string_view key, std::optional<std::string_view> value) {
  if (Hash256* digest = digests_.find(key)) {
    hash_.remove(*digest);
    if (!value) {
      digests_.erase(key);
      return;
    }
    *digest = state_element(key, *value);
    hash_.add(*digest);
  } else if (value) {
    Hash256 element = state_element(key, *value);
    hash_.add(element);
    digests_.insert(key, element);
  }
}

std::size_t StateCommitment::DigestTable::probe(std::string_view key) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = std::hash<std::string_view>{}(key)&mask;
  std::size_t first_deleted = slots_.size();
  for (;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.state == 0) return first_deleted < slots_.size() ? first_deleted : i;
    if (slot.state == 2) {
      if (first_deleted == slots_.size()) first_deleted = i;
    } else if (slot.len == key.size() && std::memcmp(slot.key, key.data(), key.size()) == 0) {
      return i;
    }
  }
}

Hash256* StateCommitment::DigestTable::find(std::string_view key) {
  if (key.size() > kInlineKey) {
    auto it = long_keys_.find(std::string(key));
    return it == long_keys_.end() ? nullptr : &it->second;
  }
  if (slots_.empty()) return nullptr;
  Slot& slot = slots_[probe(key)];
  return slot.state == 1 ? &slot.digest : nullptr;
}

void StateCommitment::DigestTable::insert(std::string_view key, const Hash256& digest) {
  if (key.size() > kInlineKey) {
    long_keys_.emplace(std::string(key), digest);
    return;
  }
  if (2 * (used_ + 1) > slots_.size()) grow();  // load (full + deleted) at most 1/2
  Slot& slot = slots_[probe(key)];
  if (slot.state == 0) ++used_;
  slot.state = 1;
  slot.len = static_cast<std::uint8_t>(key.size());
  std::memcpy(slot.key, key.data(), key.size());
  slot.digest = digest;
  ++size_;
}

void StateCommitment::DigestTable::erase(std::string_view key) {
  if (key.size() > kInlineKey) {
    long_keys_.erase(std::string(key));
    return;
  }
  slots_[probe(key)].state = 2;
  --size_;
}

void StateCommitment::DigestTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  // Double when mostly full of live keys; same size when tombstones are what filled it.
  const std::size_t capacity = std::max<std::size_t>(1024, 4 * size_ + 4 > old.size() ? 2 * old.size() : old.size());
  slots_.assign(capacity, Slot{});
  used_ = size_;
  for (const Slot& slot : old) {
    if (slot.state != 1) continue;
    Slot& target = slots_[probe(std::string_view(slot.key, slot.len))];
    target = slot;
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
