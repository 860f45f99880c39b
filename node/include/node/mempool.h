// Pending transactions, verified once on entry (decode, EIP-712 digest, signature recovery,
// nonce window) so execution never recovers a signer again. First in, first out; deduplicated
// by tx hash, pending or among the last recent_window taken into blocks (older replays fail the
// nonce rule in execution); bounded by count, bytes and per signer, each bound a clear
// MempoolFull error.
// Thread-safe: RPC threads add, the consensus thread takes.
#pragma once

#include <boost/container/deque.hpp>
#include <boost/container/options.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "node/tx_hash_key.h"
#include "state/envelope.h"

namespace node {

struct MempoolLimits {
  std::size_t max_txs = 100'000;
  std::size_t max_bytes = 64 << 20;
  std::size_t max_per_signer = 1'000;
  std::size_t recent_window = 1 << 17;  // hashes of transactions taken into blocks, remembered
};

struct PendingTx {
  state::VerifiedAction verified;
  std::string binary;  // the envelope as it goes into blocks (Protobuf)
};

class Mempool {
 public:
  explicit Mempool(MempoolLimits limits);

  // DuplicateTx when the hash is pending or recently taken; MempoolFull at a bound.
  state::Status add(PendingTx tx);
  // add for each of txs in order under one lock (a later tx sees the earlier ones, so a repeat
  // within txs is DuplicateTx); the statuses come in txs' order. Admitted txs are moved from,
  // refused ones left as they were.
  std::vector<state::Status> add_batch(std::vector<PendingTx>& txs);
  // Removes and returns the oldest transactions, up to max_bytes of binary envelopes.
  std::vector<PendingTx> take(std::size_t max_bytes);
  // The same into out, replacing what it held and keeping its capacity.
  void take(std::size_t max_bytes, std::vector<PendingTx>& out);
  bool contains(const state::Hash256& tx_hash) const;  // pending (not yet taken)
  // Pending, or taken into a block within the recent window (a block being executed is not
  // stored yet: this tells a poller its transaction is on its way).
  bool seen(const state::Hash256& tx_hash) const;
  std::size_t size() const;
  std::size_t bytes() const;

 private:
  state::Status add_locked(PendingTx& tx);  // moves tx in when admitted

  MempoolLimits limits_;
  mutable std::mutex mutex_;
  // 64 transactions a block of memory: std::deque's 512-byte blocks hold one 408-byte PendingTx,
  // so every admission allocated (on an RPC thread) and every take freed (on the consensus one).
  boost::container::deque<PendingTx, void,
                          boost::container::deque_options_t<boost::container::block_size<64u>>>
      queue_;
  // Every hash the pool knows, pending (false) or taken into a block within the window (true):
  // one table, so admission probes once and taking marks in place.
  boost::unordered_flat_map<state::Hash256, bool, TxHashKey> known_;
  std::vector<state::Hash256> recent_ring_;  // taken hashes; the oldest at recent_next_ when full
  std::size_t recent_next_ = 0;
  // determinism: looked up only, never iterated (and the mempool is not consensus state).
  boost::unordered_flat_map<state::Address, std::size_t, AddressKey> per_signer_;
  std::size_t bytes_ = 0;
};

}  // namespace node
