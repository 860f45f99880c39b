// The chain as stored in the node's LevelDB, beside the state records the executor writes under
// "s/". A block commits as ONE WriteBatch holding its header and transactions, the tx records,
// its fill events, the state changes and the new commit record, so a crash at any moment leaves
// either the whole block or none of it.
//
// Keys: "c/meta" -> commit record (height, time, block hash, app hash, header of the block)
//       "c/b/" + height (8, big-endian) -> header + app hash after it + transactions (binary)
//       "c/t/" + tx hash -> height (8) + index (4) + signer (20) + outcome record
//                           (perps/receipt_codec.h): where the transaction is and its receipt,
//                           one record so a block writes one key per transaction
//       "c/f/" + user (20) + height (8) -> the user's fills in that block, in execution order
//                           (perps/event_codec.h): a user's fills newest first are one
//                           reverse scan, and a restart rebuilds nothing
//       "c/e/" + height (8) -> a block's fill events, as nodes before "c/f/" stored them; start()
//                           moves them to "c/f/" records (one that does not decode to
//                           "c/e-damaged/" + height)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "consensus/application.h"
#include "state/kv_store.h"

namespace node {

struct StoredBlock {
  consensus::BlockHeader header;
  state::Hash256 app_hash;       // after this block
  std::vector<std::string> txs;  // binary envelopes, in block order
};

struct TxLocation {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
};

struct StoredReceipt {
  state::Hash256 tx_hash;  // the record's key
  state::Address signer;
  std::string outcome_record;  // perps/receipt_codec.h
  bool indexed = true;         // false: a replay; the hash keeps its first record
};

// One user's fill events in one block, encoded (perps/event_codec.h).
struct UserFills {
  state::Address user;
  std::string events;
};

struct TxRecord {
  TxLocation at;
  state::Address signer;
  std::string outcome_record;  // perps/receipt_codec.h (older records: the JSON text)
};

class BlockStore {
 public:
  explicit BlockStore(state::KvStore& kv) : kv_(kv) {}

  // nullopt when nothing is committed yet (a fresh database).
  state::Result<std::optional<consensus::CommitInfo>> commit_info() const;

  // Adds one block's records to batch (the caller adds the state changes and writes it);
  // receipts[i] belongs to txs[i]; a receipt not indexed is not stored.
  static void add_block(state::WriteBatch& batch, const consensus::BlockHeader& header,
                        const std::vector<std::string>& txs,
                        const std::vector<StoredReceipt>& receipts,
                        const std::vector<UserFills>& fills, const state::Hash256& app_hash);
  static void add_user_fills(state::WriteBatch& batch, std::uint64_t height,
                             const std::vector<UserFills>& fills);
  // The commit record alone (genesis: height 0).
  static void add_commit_info(state::WriteBatch& batch, const consensus::CommitInfo& info);
  // The hash of the genesis the chain was made from (none in databases older than the record).
  state::Result<std::optional<state::Hash256>> genesis_hash() const;
  static void add_genesis_hash(state::WriteBatch& batch, const state::Hash256& hash);
  // Whether the database holds any record at all.
  state::Result<bool> empty() const;

  state::Result<std::optional<StoredBlock>> block(std::uint64_t height) const;
  // One transaction of a stored block, without splitting out the others; nullopt when there is
  // no block at height or it holds no transaction at index.
  state::Result<std::optional<std::string>> transaction(std::uint64_t height,
                                                        std::uint32_t index) const;
  state::Result<std::optional<TxRecord>> find_tx(const state::Hash256& hash) const;
  // The user's fill records, the newest block first, until visit(height, events) returns false.
  state::Status for_each_user_fills_newest_first(
      const state::Address& user,
      const std::function<bool(std::uint64_t, std::string_view)>& visit) const;
  // Blocks' events as older nodes stored them ("c/e/"), in height order from from_height.
  state::Status for_each_legacy_events(
      std::uint64_t from_height,
      const std::function<bool(std::uint64_t, std::string_view)>& visit) const;
  // Deletes a block's legacy events record; one that does not decode is kept aside, under
  // "c/e-damaged/" + height, rather than lost.
  static void set_aside_legacy_events(state::WriteBatch& batch, std::uint64_t height,
                                      std::optional<std::string_view> damaged);

  state::KvStore& kv() { return kv_; }

 private:
  state::KvStore& kv_;
};

}  // namespace node
