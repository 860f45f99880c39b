#include "node/mempool.h"

#include <algorithm>

namespace node {
using state::make_error;
using state::Reason;

Mempool::Mempool(MempoolLimits limits) : limits_(limits) {
  // The window fills within minutes at load; sized now for it and a queue's worth of pending
  // hashes, the table does not rehash (a pause of milliseconds under the lock) in normal running.
  recent_ring_.reserve(limits_.recent_window);
  known_.reserve(limits_.recent_window + std::min<std::size_t>(limits_.max_txs, 1 << 16));
}

state::Status Mempool::add(PendingTx tx) {
  std::lock_guard lock(mutex_);
  return add_locked(tx);
}

std::vector<state::Status> Mempool::add_batch(std::vector<PendingTx>& txs) {
  std::vector<state::Status> statuses;
  statuses.reserve(txs.size());
  std::lock_guard lock(mutex_);
  for (PendingTx& tx : txs) statuses.push_back(add_locked(tx));
  return statuses;
}

state::Status Mempool::add_locked(PendingTx& tx) {
  auto duplicate = [](bool taken) {
    return make_error(Reason::DuplicateTx, taken ? "transaction already taken into a block"
                                                 : "transaction already pending");
  };
  // Room first, without touching the known hashes: then the one probe below (a cache miss at
  // load, the table being megabytes) both checks for a duplicate and claims the hash, and a
  // refusal never claims and gives back (a flat table's erase can bring its next rehash closer).
  const auto signer = per_signer_.find(tx.verified.signer);
  const std::size_t mine = signer == per_signer_.end() ? 0 : signer->second;
  std::string no_room;
  if (queue_.size() >= limits_.max_txs)
    no_room = "mempool holds " + std::to_string(limits_.max_txs) + " transactions";
  else if (bytes_ + tx.binary.size() > limits_.max_bytes)
    no_room = "mempool holds " + std::to_string(limits_.max_bytes) + " bytes";
  else if (mine >= limits_.max_per_signer)
    no_room = "signer has " + std::to_string(limits_.max_per_signer) + " pending transactions";
  if (!no_room.empty()) {  // a duplicate is still named as one
    if (auto known = known_.find(tx.verified.tx_hash); known != known_.end())
      return duplicate(known->second);
    return make_error(Reason::MempoolFull, std::move(no_room));
  }
  const auto [known, inserted] = known_.try_emplace(tx.verified.tx_hash, false);
  if (!inserted) return duplicate(known->second);
  ++per_signer_[tx.verified.signer];
  bytes_ += tx.binary.size();
  queue_.push_back(std::move(tx));
  return state::Status::Ok();
}

std::vector<PendingTx> Mempool::take(std::size_t max_bytes) {
  std::vector<PendingTx> out;
  take(max_bytes, out);
  return out;
}

void Mempool::take(std::size_t max_bytes, std::vector<PendingTx>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  out.reserve(std::min<std::size_t>(queue_.size(), 4096));  // growth moves every PendingTx
  std::size_t taken = 0;
  while (!queue_.empty() && taken + queue_.front().binary.size() <= max_bytes) {
    PendingTx& tx = out.emplace_back(std::move(queue_.front()));
    queue_.pop_front();
    taken += tx.binary.size();
    bytes_ -= tx.binary.size();
    if (limits_.recent_window > 0) {
      if (recent_ring_.size() < limits_.recent_window) {
        recent_ring_.push_back(tx.verified.tx_hash);
      } else {
        known_.erase(recent_ring_[recent_next_]);  // taken, so not pending again (a duplicate)
        recent_ring_[recent_next_] = tx.verified.tx_hash;
        recent_next_ = (recent_next_ + 1) % limits_.recent_window;
      }
      known_.find(tx.verified.tx_hash)->second = true;
    } else {
      known_.erase(tx.verified.tx_hash);
    }
    auto it = per_signer_.find(tx.verified.signer);
    if (--it->second == 0) per_signer_.erase(it);
  }
}

bool Mempool::contains(const state::Hash256& tx_hash) const {
  std::lock_guard lock(mutex_);
  auto known = known_.find(tx_hash);
  return known != known_.end() && !known->second;
}

bool Mempool::seen(const state::Hash256& tx_hash) const {
  std::lock_guard lock(mutex_);
  return known_.contains(tx_hash);
}

std::size_t Mempool::size() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t Mempool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace node
