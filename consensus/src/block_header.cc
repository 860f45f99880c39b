#include <cstring>
#include <span>
#include <vector>

#include "consensus/application.h"
#include "state/keccak.h"

namespace consensus {
namespace {

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<std::uint8_t>(p[i]);
  return v;
}
template <std::size_t N>
void put_bytes(std::string& out, const state::FixedBytes<N>& b) {
  out.append(reinterpret_cast<const char*>(b.data()), N);
}
template <std::size_t N>
void get_bytes(const char*& p, state::FixedBytes<N>& b) {
  std::memcpy(b.data(), p, N);
  p += N;
}
constexpr std::size_t kEncodedSize = 8 + 8 + 20 + 32 + 32 + 32;

}  // namespace

std::string BlockHeader::encode() const {
  std::string out;
  out.reserve(kEncodedSize);
  put_u64(out, height);
  put_u64(out, time_ms);
  put_bytes(out, proposer);
  put_bytes(out, parent_hash);
  put_bytes(out, payload_hash);
  put_bytes(out, last_app_hash);
  return out;
}

bool BlockHeader::decode(std::string_view bytes, BlockHeader& out) {
  if (bytes.size() != kEncodedSize) return false;
  const char* p = bytes.data();
  out.height = get_u64(p);
  out.time_ms = get_u64(p + 8);
  p += 16;
  get_bytes(p, out.proposer);
  get_bytes(p, out.parent_hash);
  get_bytes(p, out.payload_hash);
  get_bytes(p, out.last_app_hash);
  return true;
}

state::Hash256 BlockHeader::hash() const {
  return state::keccak256(encode());
}

state::Hash256 payload_hash(const std::vector<std::string>& txs) {
  state::Keccak256 hasher;
  const auto n = static_cast<std::uint32_t>(txs.size());
  const std::uint8_t count[4] = {static_cast<std::uint8_t>(n >> 24),
                                 static_cast<std::uint8_t>(n >> 16),
                                 static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  hasher.update(count);
  // The transactions' own hashes are independent: computed several per permutation.
  std::vector<std::span<const std::uint8_t>> messages;
  messages.reserve(txs.size());
  for (const auto& tx : txs)
    messages.emplace_back(reinterpret_cast<const std::uint8_t*>(tx.data()), tx.size());
  std::vector<state::Hash256> hashes(txs.size());
  state::keccak256_many(messages, hashes);
  for (const auto& h : hashes) hasher.update(std::span<const std::uint8_t>(h.data(), h.size()));
  return hasher.finish();
}

}  // namespace consensus
