#include "state/state_commitment.h"

#include "state/keccak.h"

namespace state {

Hash256 state_element(std::string_view key, std::string_view value) {
  const std::uint32_t len = static_cast<std::uint32_t>(key.size());
  const std::uint8_t prefix[4] = {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                                  static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
  return Keccak256().update(prefix).update(key).update(value).finish();
}

void StateCommitment::set(std::string_view key, std::optional<std::string_view> value) {
  auto it = digests_.find(key);
  if (it != digests_.end()) {
    hash_.remove(it->second);
    if (!value) {
      digests_.erase(it);
      return;
    }
    it->second = state_element(key, *value);
    hash_.add(it->second);
  } else if (value) {
    Hash256 element = state_element(key, *value);
    hash_.add(element);
    digests_.emplace(std::string(key), element);
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
