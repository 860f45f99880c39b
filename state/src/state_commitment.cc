#include "state/state_commitment.h"

#include <algorithm>
#include <array>

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
  // The table (~120 B per key) is far larger than the caches, so each lookup is a miss; hashing
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
