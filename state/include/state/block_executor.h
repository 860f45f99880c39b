// Executes ordered blocks of verified actions against an application (the exchange), and keeps
// what every application shares: the signers' nonce sets, the in-block order, receipts, and the
// app hash over the application's key/value state.
//
// The executor is a template over the application so state/ stays below perps/ (DESIGN: state/
// never includes perps/) and the hot path has no virtual calls.
#pragma once

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "state/envelope.h"
#include "state/kv_store.h"
#include "state/nonce_set.h"
#include "state/state_commitment.h"

namespace state {

struct BlockContext {
  std::uint64_t height = 0;
  std::uint64_t time_ms = 0;  // block time: the only clock execution ever reads
  Address proposer;
};

struct Block {
  BlockContext context;
  std::vector<VerifiedAction> txs;  // in proposer order; signatures already recovered
};

template <class Response>
struct TxOutcome {
  bool ok = true;
  Reason reason{};      // when !ok: the stable CamelCase reason
  std::string message;  // when !ok: human text
  Response response{};  // when ok: the application's answer (order statuses, ...)

  static TxOutcome rejected(const Error& error) { return {false, error.reason, error.message, {}}; }
};

template <class Response>
struct Receipt {
  Hash256 tx_hash;
  Address signer;
  TxOutcome<Response> outcome;
};

// Receives the application's changed keys at the end of a block (value nullopt = deleted).
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void set(std::string_view key, std::optional<std::string_view> value) = 0;
};

// What the executor needs from an application.
template <class App>
concept Application = requires(App& app, const App& capp, const BlockContext& ctx,
                               const VerifiedAction& tx, ChangeSink& sink, std::string_view key,
                               std::string_view value) {
  typename App::Response;
  typename App::Event;
  // Time-driven work at the start and end of each block (funding, oracle, triggers).
  app.begin_block(ctx);
  { app.apply(ctx, tx) } -> std::same_as<TxOutcome<typename App::Response>>;
  app.end_block(ctx);
  // Keys changed since the last call, each once; and every key (genesis, snapshots).
  app.collect_changes(sink);
  app.collect_all(sink);
  // Moves the events since the last call, in execution order, into out (replacing its contents).
  app.take_events(std::declval<std::vector<typename App::Event>&>());
  // Whether the action belongs to the second in-block group (places Gtc/Ioc orders).
  { App::places_gtc_or_ioc(tx.signed_action.action) } -> std::same_as<bool>;
  // Rebuilds state from one stored pair (restore); returns false for a key it does not own.
  { app.load(key, value) } -> std::same_as<Status>;
  { app.finish_load() } -> std::same_as<Status>;
};

// Optional for an application: prepare(txs) once per block before any apply, then
// prefetch(index, stage) for stages 0, 1 and 2, each a few txs nearer to applying txs[index]:
// each stage requests what the lines of the stage before point to (the tx itself is already
// requested before stage 0).
template <class App>
concept Prefetching = requires(App& app, const std::vector<VerifiedAction>& txs) {
  app.prepare(txs);
  app.prefetch(std::size_t{}, int{});
};

// Where the executor keeps state in a KvStore: "s/" + application or executor key.
inline constexpr std::string_view kStatePrefix = "s/";
// Executor-owned keys (inside the state prefix): 'N' + signer address -> nonce set.
inline constexpr char kNonceKeyTag = 'N';

std::string encode_nonce_set(const NonceSet& set);
void encode_nonce_set(const NonceSet& set, std::string& out);  // replaces out's contents
Result<NonceSet> decode_nonce_set(std::string_view bytes);

template <Application App>
class BlockExecutor {
 public:
  using Response = typename App::Response;
  using Event = typename App::Event;

  struct BlockResult {
    std::vector<Receipt<Response>> receipts;  // one per tx, in the block's (proposer) order
    std::vector<Event> events;                // in execution order
    Hash256 app_hash;
    WriteBatch state_changes;  // "s/" keys to write with the block (LevelDB: the same batch)
  };

  // Takes the application in its genesis state; that state is committed as height 0.
  explicit BlockExecutor(App app) : app_(std::move(app)) {
    BatchSink sink(genesis_changes_);
    app_.collect_all(sink);
    commitment_.apply(genesis_changes_, kStatePrefix);
  }

  // The genesis state's keys, for a node to write before block 1.
  const WriteBatch& genesis_changes() const { return genesis_changes_; }

  App& app() { return app_; }
  const App& app() const { return app_; }
  Hash256 app_hash() const { return commitment_.app_hash(); }
  std::uint64_t height() const { return height_; }

  // In-block order (as Hyperliquid): actions that place no Gtc/Ioc orders first (cancels, Alo
  // orders, transfers, ...), then actions that do; each group in proposer order. Receipts stay
  // in proposer order.
  BlockResult execute(const Block& block) {
    BlockResult result;
    execute(block, result);
    return result;
  }

  // The same into a result whose buffers are reused: a node executing block after block avoids
  // allocating (and the kernel zeroing) megabytes of receipts and writes per block.
  void execute(const Block& block, BlockResult& result) {
    const BlockContext& ctx = block.context;
    order_.resize(block.txs.size());
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::stable_partition(order_.begin(), order_.end(), [&](std::size_t i) {
      return !App::places_gtc_or_ioc(block.txs[i].signed_action.action);
    });

    // The signers' nonce records, looked up for the whole block first: independent lookups
    // overlap their cache misses.
    tx_signers_.resize(block.txs.size());
    for (std::size_t i = 0; i < block.txs.size(); ++i)
      tx_signers_[i] = signer_index(block.txs[i].signer);

    if constexpr (Prefetching<App>) app_.prepare(block.txs);

    result.receipts.clear();
    result.receipts.resize(block.txs.size());
    result.events.clear();
    result.state_changes.clear();
    app_.begin_block(ctx);
    for (std::size_t k = 0; k < order_.size(); ++k) {
      // Memory a later tx will touch is requested now, in steps (a record's own lines first,
      // then what they point to), so its misses overlap this tx's work.
      for (int stage = 0; stage < kPrefetchStages; ++stage)
        if (const std::size_t ahead = k + kPrefetchDistance[stage]; ahead < order_.size())
          prefetch(block.txs, order_[ahead], stage);
      const std::size_t i = order_[k];
      const VerifiedAction& tx = block.txs[i];
      auto& receipt = result.receipts[i];
      receipt.tx_hash = tx.tx_hash;
      receipt.signer = tx.signer;
      // A rejected action changes nothing but its nonce use; a nonce that fails changes nothing.
      SignerNonces& nonces = signers_[tx_signers_[i]];
      if (Status used = nonces.set.use(tx.signed_action.nonce, ctx.time_ms); !used) {
        receipt.outcome = TxOutcome<Response>::rejected(used.error());
        continue;
      }
      if (!nonces.dirty) {
        nonces.dirty = true;
        dirty_signers_.push_back(tx_signers_[i]);
      }
      receipt.outcome = app_.apply(ctx, tx);
    }
    app_.end_block(ctx);

    BatchSink sink(result.state_changes);
    for (std::uint32_t index : dirty_signers_) {  // in first-use order: deterministic
      SignerNonces& nonces = signers_[index];
      nonces.dirty = false;
      encode_nonce_set(nonces.set, record_buffer_);
      sink.set(nonce_key(nonces.signer), record_buffer_);
    }
    dirty_signers_.clear();
    app_.collect_changes(sink);
    app_.take_events(result.events);
    commitment_.apply(result.state_changes, kStatePrefix);
    result.app_hash = commitment_.app_hash();
    height_ = ctx.height;
  }

  // Writes the whole current state under "s/" (a fresh store, or a snapshot). A node instead
  // writes each block's state_changes; both give the same stored state.
  Status save(KvStore& store) {
    WriteBatch batch;
    BatchSink sink(batch);
    for (const auto& [signer, nonces] : sorted_nonce_sets())
      sink.set(nonce_key(signer), encode_nonce_set(nonces->set));
    app_.collect_all(sink);
    commitment_.apply(batch, kStatePrefix);  // re-setting equal values leaves the hash unchanged
    return store.write(batch);
  }

  // Rebuilds from a store written by save() or by state_changes, recomputing the app hash.
  static Result<BlockExecutor> restore(const KvStore& store, App empty_app, std::uint64_t height) {
    BlockExecutor executor(std::move(empty_app));
    executor.commitment_ = StateCommitment();  // the stored pairs alone define the state
    executor.height_ = height;
    Status loaded = Status::Ok();
    Status scanned =
        store.scan(kStatePrefix, [&](std::string_view full_key, std::string_view value) {
          std::string_view key = full_key.substr(kStatePrefix.size());
          executor.commitment_.set(key, value);
          if (!key.empty() && key[0] == kNonceKeyTag) {
            auto address = address_from_nonce_key(key);
            auto set = decode_nonce_set(value);
            if (!address || !set) {
              loaded = make_error(
                  Reason::StorageError,
                  "damaged nonce record at key " +
                      to_hex(std::span(reinterpret_cast<const std::uint8_t*>(full_key.data()),
                                       full_key.size())));
              return false;
            }
            executor.signers_[executor.signer_index(*address)].set = std::move(*set);
            return true;
          }
          loaded = executor.app_.load(key, value);
          return loaded.ok();
        });
    if (!scanned) return scanned.error();
    if (!loaded) return loaded.error();
    PERPD_TRY(executor.app_.finish_load());
    return executor;
  }

  const NonceSet* nonces_of(const Address& signer) const {
    auto it = signer_indices_.find(signer);
    return it == signer_indices_.end() ? nullptr : &signers_[it->second].set;
  }

 private:
  struct AddressHash {
    std::size_t operator()(const Address& a) const {
      std::size_t h;
      std::memcpy(&h, a.data(), sizeof h);
      return h;
    }
  };

  // Records the writes under "s/"; the commitment then takes the whole batch at once
  // (StateCommitment::apply overlaps its table lookups).
  class BatchSink final : public ChangeSink {
   public:
    explicit BatchSink(WriteBatch& batch) : batch_(batch) {}
    void set(std::string_view key, std::optional<std::string_view> value) override {
      full_key_.assign(kStatePrefix);
      full_key_.append(key);
      if (value)
        batch_.put(full_key_, *value);
      else
        batch_.del(full_key_);
    }

   private:
    WriteBatch& batch_;
    std::string full_key_;  // reused: no allocation per key
  };

  static std::string nonce_key(const Address& signer) {
    std::string key(1, kNonceKeyTag);
    key.append(reinterpret_cast<const char*>(signer.data()), signer.size());
    return key;
  }
  static std::optional<Address> address_from_nonce_key(std::string_view key) {
    if (key.size() != 1 + Address::size()) return std::nullopt;
    Address address;
    std::memcpy(address.data(), key.data() + 1, Address::size());
    return address;
  }
  struct SignerNonces {
    Address signer;
    NonceSet set;
    bool dirty = false;  // used in the current block
  };
  // Step 0 requests the tx itself; steps 1..3 the signer's nonce record (its own line, then its
  // newest nonce) and the application's stages 0..2.
  static constexpr int kPrefetchStages = 4;
  static constexpr std::size_t kPrefetchDistance[kPrefetchStages] = {16, 12, 8, 4};
  void prefetch(const std::vector<VerifiedAction>& txs, std::size_t tx_index, int stage) {
    if (stage == 0) {
      const char* tx = reinterpret_cast<const char*>(&txs[tx_index]);
      for (std::size_t at = 0; at < sizeof(VerifiedAction); at += 64) __builtin_prefetch(tx + at);
      return;
    }
    const SignerNonces& nonces = signers_[tx_signers_[tx_index]];
    if (stage == 1)
      __builtin_prefetch(&nonces);
    else if (stage == 2 && !nonces.set.kept().empty())
      __builtin_prefetch(&nonces.set.kept().back());
    if constexpr (Prefetching<App>) app_.prefetch(tx_index, stage - 1);
  }
  // The signer's slot in signers_, created empty on first sight.
  std::uint32_t signer_index(const Address& signer) {
    auto [it, inserted] =
        signer_indices_.try_emplace(signer, static_cast<std::uint32_t>(signers_.size()));
    if (inserted) signers_.push_back({signer, {}, false});
    return it->second;
  }
  std::vector<std::pair<Address, const SignerNonces*>> sorted_nonce_sets() const {
    std::vector<std::pair<Address, const SignerNonces*>> out;
    for (const SignerNonces& nonces : signers_) out.emplace_back(nonces.signer, &nonces);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }

  App app_;
  StateCommitment commitment_;
  // determinism: looked up by signer only; signers_ (first-seen order) is what gets iterated.
  boost::unordered_flat_map<Address, std::uint32_t, AddressHash> signer_indices_;
  std::vector<SignerNonces> signers_;
  std::vector<std::uint32_t> dirty_signers_;  // indices in signers_, in first-use order
  std::vector<std::uint32_t> tx_signers_;     // the current block's signer index per tx
  std::string record_buffer_;                 // nonce records are encoded here
  std::vector<std::size_t> order_;            // execution order of the current block
  std::uint64_t height_ = 0;
  WriteBatch genesis_changes_;
};

}  // namespace state
