// A perpd node: the exchange behind consensus::Application, with its mempool, LevelDB store,
// query indexes, RPC methods (SPEC section 5) and metrics. Execution (finalize/commit) runs on the
// consensus thread under an exclusive lock; queries run on RPC threads under a shared one;
// signature verification runs on a pool of all cores.
#pragma once

#include <atomic>
#include <boost/container/small_vector.hpp>
#include <boost/json/value.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>

#include "consensus/application.h"
#include "node/block_store.h"
#include "node/mempool.h"
#include "node/recovery_cpu_meter.h"
#include "node/tx_hash_key.h"
#include "perps/exchange.h"
#include "rpc/json_rpc.h"
#include "rpc/server.h"
#include "state/block_executor.h"

namespace node {

struct NodeOptions {
  MempoolLimits mempool;
  std::chrono::milliseconds send_action_timeout{10'000};
  bool log_blocks = true;  // one info line per committed block
  // Create the database (genesis state at height 0) when data_dir holds none: perpd init does;
  // perpd start does not, so a database that went missing is an error, not a new chain.
  bool create_database = false;
};

class Node final : public consensus::Application {
 public:
  using Executor = state::BlockExecutor<perps::Exchange>;
  using Publisher = std::function<void(const rpc::Topic&, boost::json::value)>;

  // Opens (or, with create_database, creates, writing the genesis state as height 0) the chain
  // in data_dir. A missing or damaged database, one whose state does not hash to its committed
  // app hash, or one made from another genesis is StorageError.
  static state::Result<std::unique_ptr<Node>> open(const perps::GenesisState& genesis,
                                                   const std::string& data_dir,
                                                   NodeOptions options);
  ~Node() override;

  // --- consensus::Application ---
  std::vector<std::string> prepare_proposal(std::uint64_t height, std::uint64_t time_ms,
                                            std::size_t max_bytes) override;
  bool process_proposal(const consensus::BlockHeader& header,
                        const std::vector<std::string>& txs) override;
  state::Hash256 finalize_block(const consensus::BlockHeader& header,
                                const std::vector<std::string>& txs) override;
  void commit() override;
  consensus::CommitInfo last_commit() const override;

  // perp_sendAction's calls of one request (one, or a JSON-RPC batch's): verifies their envelopes
  // together on the calling thread and queues them under one lock of each kind. Each respond gets
  // its receipt once the block commits, an error at once, or the tx hash alone after the timeout.
  // perpd calls it from its RPC threads, one per core, which spreads verification over all cores
  // without a handoff.
  void submit_batch(std::span<rpc::Call> calls);
  bool has_pending() const { return mempool_.size() > 0; }
  // subscribed tells whether a topic has subscribers now: what nobody follows is not built.
  void set_publisher(Publisher publisher, std::function<bool(const rpc::Topic&)> subscribed) {
    publisher_ = std::move(publisher);
    subscribed_ = std::move(subscribed);
  }

  void register_methods(rpc::MethodTable& table);
  std::optional<rpc::Topic> parse_topic(const boost::json::object& params, rpc::Error& error) const;
  std::string metrics_text() const;

  std::uint64_t chain_id() const { return chain_id_; }

 private:
  Node(const perps::GenesisState& genesis, std::unique_ptr<state::KvStore> kv, NodeOptions options);
  state::Status start(const perps::GenesisState& genesis);
  state::Status move_legacy_events();
  state::Result<boost::json::value> block_json(const StoredBlock& block) const;
  // outcomes[i]: receipt i's outcome serialized (perps::outcome_json_text), built once in
  // commit().
  void answer_waiters(const Executor::BlockResult& result, const consensus::BlockHeader& header,
                      const std::vector<std::string>& outcomes);
  void publish_block(const Executor::BlockResult& result, const consensus::BlockHeader& header);

  NodeOptions options_;
  std::uint64_t chain_id_;
  std::vector<perps::GenesisValidator> validators_;
  std::unique_ptr<state::KvStore> kv_;
  BlockStore store_;
  state::EnvelopeVerifier verifier_;
  RecoveryCpuMeter recovery_meter_;  // submissions' recoveries only, not other proposers' blocks
  Mempool mempool_;

  mutable std::shared_mutex state_mutex_;  // executor, commit info
  std::optional<Executor> executor_;
  consensus::CommitInfo committed_;
  std::atomic<std::uint64_t> committed_time_ms_{0};  // committed_.time_ms, read without the lock
  // The block whose state the executor holds: finalize_block executes it under the lock before
  // commit stores it, so a query in between sees that block's state and labels it so.
  std::uint64_t state_height_ = 0;
  std::uint64_t state_time_ms_ = 0;

  // The block between finalize and commit. It and the two buffers below are reused block after
  // block, keeping their capacity, instead of megabyte-sized buffers allocated for every block.
  struct Pending {
    consensus::BlockHeader header;
    std::vector<std::string> txs;
    Executor::BlockResult result;
  };
  Pending finalized_;
  std::vector<PendingTx> proposed_;  // what prepare_proposal took, in order
  state::Block executing_;           // finalize_block's input to the executor

  struct Waiter {
    rpc::Respond respond;
    std::chrono::steady_clock::time_point deadline;
    // Tells apart the waiters of one hash, so a submission the mempool refuses removes its own;
    // an iterator kept instead would dangle if a commit answered that waiter meanwhile.
    std::uint64_t id;
  };
  // Almost always one waiter per hash; a copy sent again while the first is pending waits too.
  using Waiters = boost::container::small_vector<Waiter, 1>;
  std::mutex waiters_mutex_;
  // A flat table: every admission adds an entry and every commit takes thousands out, which a
  // node-based map pays for in allocations and cache misses. Node-local, never iterated for
  // anything but the timeout sweep, whose order does not matter.
  boost::unordered_flat_map<state::Hash256, Waiters, TxHashKey> waiters_;
  std::uint64_t next_waiter_id_ = 0;  // under waiters_mutex_
  // No waiter's deadline is earlier (under waiters_mutex_): the sweep runs only once one may
  // have passed, not at every commit.
  std::chrono::steady_clock::time_point earliest_deadline_ =
      std::chrono::steady_clock::time_point::max();

  Publisher publisher_;
  std::function<bool(const rpc::Topic&)> subscribed_;
  std::map<perps::MarketIndex, std::string> last_books_;  // last published l2Book texts

  // Metrics (consensus thread writes, metrics reader takes the lock).
  mutable std::mutex metrics_mutex_;
  std::uint64_t blocks_ = 0, txs_total_ = 0, last_block_txs_ = 0;
  double last_exec_seconds_ = 0, last_store_seconds_ = 0, last_interval_seconds_ = 0;
  std::chrono::steady_clock::time_point last_commit_at_{};
};

}  // namespace node
