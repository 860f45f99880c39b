#include "node/block_store.h"

#include <cstring>

namespace node {
namespace {
using state::make_error;
using state::Reason;

constexpr std::string_view kMetaKey = "c/meta";
constexpr std::string_view kGenesisKey = "c/genesis";

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<std::uint8_t>(in[at + i]);
  return v;
}
std::string key(std::string_view prefix, std::uint64_t height) {
  std::string k(prefix);
  put_be(k, height, 8);
  return k;
}
std::string tx_key(const state::Hash256& hash) {
  std::string k("c/t/");
  k.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return k;
}
std::string user_fills_prefix(const state::Address& user) {
  std::string k("c/f/");
  k.append(reinterpret_cast<const char*>(user.data()), user.size());
  return k;
}
state::Error damaged(std::string what, std::optional<std::uint64_t> height = std::nullopt) {
  return make_error(Reason::StorageError,
                    "damaged " + what + " record" +
                        (height ? " at height " + std::to_string(*height) : std::string()));
}

constexpr std::size_t kHeaderBytes = 8 + 8 + 20 + 32 + 32 + 32;

// Walks a block record's transactions (after the header and app hash), handing each to visit
// until it returns false; false when the record's lengths do not add up to its size.
template <class Visit>
bool walk_txs(std::string_view v, Visit visit) {
  std::size_t at = kHeaderBytes + 32;
  if (v.size() < at + 4) return false;
  const std::uint64_t count = get_be(v, at, 4);
  at += 4;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (v.size() < at + 4) return false;
    const std::uint64_t len = get_be(v, at, 4);
    at += 4;
    if (v.size() < at + len) return false;
    if (!visit(i, v.substr(at, len))) return true;
    at += len;
  }
  return at == v.size();
}

}  // namespace

state::Result<std::optional<consensus::CommitInfo>> BlockStore::commit_info() const {
  auto value = kv_.get(kMetaKey);
  if (!value) return value.error();
  if (!*value) return std::optional<consensus::CommitInfo>();
  const std::string& v = **value;
  if (v.size() != 8 + 8 + 32 + 32) return damaged("commit");
  consensus::CommitInfo info;
  info.height = get_be(v, 0, 8);
  info.time_ms = get_be(v, 8, 8);
  std::memcpy(info.block_hash.data(), v.data() + 16, 32);
  std::memcpy(info.app_hash.data(), v.data() + 48, 32);
  return std::optional(info);
}

void BlockStore::add_commit_info(state::WriteBatch& batch, const consensus::CommitInfo& info) {
  std::string v;
  put_be(v, info.height, 8);
  put_be(v, info.time_ms, 8);
  v.append(reinterpret_cast<const char*>(info.block_hash.data()), 32);
  v.append(reinterpret_cast<const char*>(info.app_hash.data()), 32);
  batch.put(kMetaKey, v);
}

state::Result<std::optional<state::Hash256>> BlockStore::genesis_hash() const {
  auto value = kv_.get(kGenesisKey);
  if (!value) return value.error();
  if (!*value) return std::optional<state::Hash256>();
  if ((*value)->size() != 32) return damaged("genesis hash");
  state::Hash256 hash;
  std::memcpy(hash.data(), (*value)->data(), 32);
  return std::optional(hash);
}

void BlockStore::add_genesis_hash(state::WriteBatch& batch, const state::Hash256& hash) {
  batch.put(kGenesisKey, std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

state::Result<bool> BlockStore::empty() const {
  bool any = false;
  PERPD_TRY(kv_.scan_from("", "", [&](std::string_view, std::string_view) {
    any = true;
    return false;
  }));
  return !any;
}

void BlockStore::add_block(state::WriteBatch& batch, const consensus::BlockHeader& header,
                           const std::vector<std::string>& txs,
                           const std::vector<StoredReceipt>& receipts,
                           const std::vector<UserFills>& fills, const state::Hash256& app_hash) {
  std::size_t size = kHeaderBytes + 32 + 4;
  for (const auto& tx : txs) size += 4 + tx.size();
  std::string block;
  block.reserve(size);  // one allocation, not a doubling series for a ~1 MB block
  block += header.encode();
  block.append(reinterpret_cast<const char*>(app_hash.data()), 32);
  put_be(block, txs.size(), 4);
  for (const auto& tx : txs) {
    put_be(block, tx.size(), 4);
    block += tx;
  }
  batch.put(key("c/b/", header.height), block);
  std::string record;
  for (std::uint32_t i = 0; i < receipts.size(); ++i) {
    if (!receipts[i].indexed) continue;
    record.clear();
    put_be(record, header.height, 8);
    put_be(record, i, 4);
    record.append(reinterpret_cast<const char*>(receipts[i].signer.data()), 20);
    record += receipts[i].outcome_record;
    batch.put(tx_key(receipts[i].tx_hash), record);
  }
  add_user_fills(batch, header.height, fills);
  add_commit_info(batch, {header.height, header.time_ms, header.hash(), app_hash});
}

state::Result<std::optional<StoredBlock>> BlockStore::block(std::uint64_t height) const {
  auto value = kv_.get(key("c/b/", height));
  if (!value) return value.error();
  if (!*value) return std::optional<StoredBlock>();
  std::string_view v = **value;
  StoredBlock out;
  if (v.size() < kHeaderBytes + 32 + 4 ||
      !consensus::BlockHeader::decode(v.substr(0, kHeaderBytes), out.header))
    return damaged("block", height);
  std::memcpy(out.app_hash.data(), v.data() + kHeaderBytes, 32);
  const bool whole = walk_txs(v, [&](std::uint64_t, std::string_view tx) {
    out.txs.emplace_back(tx);
    return true;
  });
  if (!whole) return damaged("block", height);
  return std::optional(std::move(out));
}

state::Result<std::optional<std::string>> BlockStore::transaction(std::uint64_t height,
                                                                  std::uint32_t index) const {
  auto value = kv_.get(key("c/b/", height));
  if (!value) return value.error();
  if (!*value) return std::optional<std::string>();
  std::optional<std::string> found;
  const bool valid = walk_txs(**value, [&](std::uint64_t i, std::string_view tx) {
    if (i != index) return true;
    found.emplace(tx);
    return false;
  });
  if (!valid) return damaged("block", height);
  return found;
}

state::Result<std::optional<TxRecord>> BlockStore::find_tx(const state::Hash256& hash) const {
  auto value = kv_.get(tx_key(hash));
  if (!value) return value.error();
  if (!*value) return std::optional<TxRecord>();
  const std::string& v = **value;
  if (v.size() < 8 + 4 + 20) return damaged("transaction");
  TxRecord record;
  record.at = {get_be(v, 0, 8), static_cast<std::uint32_t>(get_be(v, 8, 4))};
  std::memcpy(record.signer.data(), v.data() + 12, 20);
  record.outcome_record = v.substr(12 + 20);
  return std::optional(std::move(record));
}

void BlockStore::add_user_fills(state::WriteBatch& batch, std::uint64_t height,
                                const std::vector<UserFills>& fills) {
  for (const UserFills& f : fills) batch.put(key(user_fills_prefix(f.user), height), f.events);
}

state::Status BlockStore::for_each_user_fills_newest_first(
    const state::Address& user,
    const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  const std::string prefix = user_fills_prefix(user);
  return kv_.scan_reverse(prefix, [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix.size() + 8) return true;
    return visit(get_be(k, prefix.size(), 8), v);
  });
}

state::Status BlockStore::for_each_legacy_events(
    std::uint64_t from_height,
    const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  return kv_.scan_from("c/e/", key("c/e/", from_height),
                       [&](std::string_view k, std::string_view v) {
                         if (k.size() != 4 + 8) return true;
                         return visit(get_be(k, 4, 8), v);
                       });
}

void BlockStore::set_aside_legacy_events(state::WriteBatch& batch, std::uint64_t height,
                                         std::optional<std::string_view> damaged) {
  batch.del(key("c/e/", height));
  if (damaged) batch.put(key("c/e-damaged/", height), *damaged);
}

}  // namespace node
