// Nonce sets as stored: count, the first nonce, then ascending deltas, all LEB128 varints.
// Clients use millisecond timestamps, so deltas are small and a full set of 100 takes ~200 bytes
// instead of 800, which is what the app hash re-hashes whenever a signer acts.
#include <cstring>
#include <vector>

#include "state/block_executor.h"

namespace state {
namespace {

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

bool get_varint(std::string_view& in, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace

std::string encode_nonce_set(const NonceSet& set) {
  std::string out;
  encode_nonce_set(set, out);
  return out;
}

void encode_nonce_set(const NonceSet& set, std::string& out) {
  out.clear();
  auto kept = set.kept();
  put_varint(out, kept.size());
  std::uint64_t previous = 0;
  for (std::uint64_t nonce : kept) {
    put_varint(out, nonce - previous);
    previous = nonce;
  }
}

Result<NonceSet> decode_nonce_set(std::string_view bytes) {
  std::uint64_t count = 0;
  if (!get_varint(bytes, count) || count > kKeptNonces)
    return make_error(Reason::StorageError, "bad nonce set");
  std::vector<std::uint64_t> kept;
  std::uint64_t previous = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t delta = 0;
    if (!get_varint(bytes, delta) || (i > 0 && delta == 0))
      return make_error(Reason::StorageError, "bad nonce set");
    previous += delta;
    kept.push_back(previous);
  }
  if (!bytes.empty()) return make_error(Reason::StorageError, "bad nonce set");
  return NonceSet::from_kept(kept);
}

}  // namespace state
