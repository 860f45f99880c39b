#include "node/node.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "genesis/genesis_file.h"
#include "node/fill_records.h"
#include "perps/event_codec.h"
#include "perps/receipt_codec.h"
#include "rpc/prometheus.h"
#include "state/crypto.h"
#include "state/keccak.h"
#include "state/nonce_set.h"

namespace node {
namespace json = boost::json;
using state::make_error;
using state::Reason;

namespace {

std::string hex(const state::Hash256& h) {
  return state::to_hex(h);
}

// perp_fills looks back over at most this many of a user's fills, newest first (Hyperliquid
// serves the 10,000 most recent): a query's work stays bounded whatever the history.
constexpr std::size_t kFillsExamined = 10'000;

rpc::Answer bad_params(std::string message) {
  return rpc::Answer::fail(rpc::ErrorCode::InvalidParams, std::move(message));
}

const json::string* string_param(const json::object& params, std::string_view name) {
  auto it = params.find(name);
  return it != params.end() ? it->value().if_string() : nullptr;
}

// An optional unsigned integer parameter (JSON integer or string of digits); false when malformed.
bool uint_param(const json::object& params, std::string_view name, std::uint64_t& out) {
  auto it = params.find(name);
  if (it == params.end()) return true;
  const json::value& v = it->value();
  if (v.is_uint64())
    out = v.get_uint64();
  else if (v.is_int64() && v.get_int64() >= 0)
    out = static_cast<std::uint64_t>(v.get_int64());
  else if (v.is_string() && !v.get_string().empty() &&
           v.get_string().find_first_not_of("0123456789") == json::string::npos &&
           v.get_string().size() <= 19)
    out = std::stoull(std::string(v.get_string()));
  else
    return false;
  return true;
}

}  // namespace

Node::Node(const perps::GenesisState& genesis, std::unique_ptr<state::KvStore> kv,
           NodeOptions options)
    : options_(options),
      chain_id_(genesis.chain_id),
      validators_(genesis.validators),
      kv_(std::move(kv)),
      store_(*kv_),
      verifier_(genesis.chain_id),
      mempool_(options.mempool) {}

Node::~Node() = default;

state::Result<std::unique_ptr<Node>> Node::open(const perps::GenesisState& genesis,
                                                const std::string& data_dir, NodeOptions options) {
  std::error_code ec;
  if (!options.create_database && !std::filesystem::exists(data_dir, ec))
    return make_error(Reason::StorageError,
                      "no database at " + data_dir +
                          " (perpd init creates it; if it was removed, restore it from a backup)");
  auto kv = state::open_leveldb(data_dir, options.create_database);
  if (!kv) return kv.error();
  std::unique_ptr<Node> node(new Node(genesis, std::move(*kv), options));
  PERPD_TRY(node->start(genesis));
  return node;
}

state::Status Node::start(const perps::GenesisState& genesis) {
  const state::Hash256 genesis_hash = state::keccak256(genesis::genesis_to_json(genesis));
  auto info = store_.commit_info();
  if (!info) return info.error();
  if (!*info) {
    // Genesis goes only into an empty database that this call may create: records without a
    // commit record are a damaged chain, not a new one.
    auto empty = store_.empty();
    if (!empty) return empty.error();
    if (!options_.create_database || !*empty)
      return make_error(
          Reason::StorageError,
          "damaged database: no commit record" +
              std::string(*empty ? " (an empty database; perpd init creates one)" : ""));
    executor_.emplace(perps::Exchange(genesis));
    state::WriteBatch batch = executor_->genesis_changes();
    committed_ = {0, genesis.genesis_time_ms, {}, executor_->app_hash()};
    committed_time_ms_ = committed_.time_ms;
    state_height_ = 0;
    state_time_ms_ = committed_.time_ms;
    BlockStore::add_commit_info(batch, committed_);
    BlockStore::add_genesis_hash(batch, genesis_hash);
    return kv_->write(batch);
  }
  // The exchange is rebuilt from the genesis given, so it must be the chain's own.
  auto stored_genesis = store_.genesis_hash();
  if (!stored_genesis) return stored_genesis.error();
  if (*stored_genesis && **stored_genesis != genesis_hash)
    return make_error(Reason::StorageError,
                      "the genesis does not match the one this database was made from (its "
                      "hash " +
                          hex(**stored_genesis) + ", given " + hex(genesis_hash) + ")");
  auto restored = Executor::restore(*kv_, perps::Exchange(genesis), (*info)->height);
  if (!restored) return restored.error();
  if (restored->app_hash() != (*info)->app_hash)
    return make_error(Reason::StorageError,
                      "stored state does not hash to the committed app hash at height " +
                          std::to_string((*info)->height));
  executor_.emplace(std::move(*restored));
  committed_ = **info;
  committed_time_ms_ = committed_.time_ms;
  state_height_ = committed_.height;
  state_time_ms_ = committed_.time_ms;
  if (!*stored_genesis) {  // a database from before the record: it adopts the genesis it runs
    state::WriteBatch batch;
    BlockStore::add_genesis_hash(batch, genesis_hash);
    PERPD_TRY(kv_->write(batch));
  }
  return move_legacy_events();
}

// Nodes before per-user fill records kept each block's events under one "c/e/" key. They move
// over once, in writes of up to 4,096 blocks or 8 MiB of events, each adding the new records and
// deleting the old, so a crash part way leaves nothing twice and nothing lost. Each pass resumes
// at the height after the last one moved (a scan from the start would step over every deletion
// already made), and writes after its scan has ended, not under it.
state::Status Node::move_legacy_events() {
  std::uint64_t next = 0;
  for (;;) {
    state::WriteBatch batch;
    std::size_t blocks = 0, bytes = 0;
    PERPD_TRY(store_.for_each_legacy_events(next, [&](std::uint64_t height, std::string_view v) {
      auto events = perps::decode_fill_events(v);
      if (events) {
        BlockStore::add_user_fills(batch, height, fills_by_user(*events));
        BlockStore::set_aside_legacy_events(batch, height, std::nullopt);
      } else {
        std::fprintf(stderr, "warning: damaged events record at height %llu kept aside\n",
                     static_cast<unsigned long long>(height));
        BlockStore::set_aside_legacy_events(batch, height, v);
      }
      next = height + 1;
      bytes += v.size();
      return ++blocks < 4096 && bytes < (8 << 20);
    }));
    if (blocks == 0) return state::Status::Ok();
    PERPD_TRY(kv_->write(batch));
  }
}

// --- consensus::Application ------------------------------------------------------------------

std::vector<std::string> Node::prepare_proposal(std::uint64_t, std::uint64_t,
                                                std::size_t max_bytes) {
  mempool_.take(max_bytes, proposed_);
  std::vector<std::string> txs;
  txs.reserve(proposed_.size());
  for (const auto& tx : proposed_) txs.push_back(tx.binary);
  return txs;
}

bool Node::process_proposal(const consensus::BlockHeader&, const std::vector<std::string>& txs) {
  bool own = txs.size() == proposed_.size();
  for (std::size_t i = 0; own && i < txs.size(); ++i) own = txs[i] == proposed_[i].binary;
  if (own) return true;
  // Another proposer's block (the BFT engine): every transaction must decode and verify.
  std::vector<state::SignedAction> decoded;
  decoded.reserve(txs.size());
  for (const auto& tx : txs) {
    auto envelope = state::decode_envelope_binary(tx);
    if (!envelope) return false;
    decoded.push_back(std::move(*envelope));
  }
  auto verified = verifier_.verify_batch(std::move(decoded));
  std::vector<PendingTx> pending;
  pending.reserve(txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    if (!verified[i]) return false;
    pending.push_back({std::move(*verified[i]), txs[i]});
  }
  proposed_ = std::move(pending);
  return true;
}

state::Hash256 Node::finalize_block(const consensus::BlockHeader& header,
                                    const std::vector<std::string>& txs) {
  state::Block& block = executing_;
  block.context = {header.height, header.time_ms, header.proposer};
  // process_proposal left the transactions' verified forms in proposed_ (same order as txs);
  // they are not needed after this block, so they move.
  block.txs.clear();
  for (auto& tx : proposed_) block.txs.push_back(std::move(tx.verified));
  const auto start = std::chrono::steady_clock::now();
  finalized_.header = header;
  finalized_.txs = txs;
  {
    std::unique_lock lock(state_mutex_);
    executor_->execute(block, finalized_.result);
    state_height_ = header.height;
    state_time_ms_ = header.time_ms;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard lock(metrics_mutex_);
    last_exec_seconds_ = seconds;
  }
  return finalized_.result.app_hash;
}

void Node::commit() {
  const auto store_start = std::chrono::steady_clock::now();
  Pending& p = finalized_;
  // An ok outcome's response as JSON for whoever waits on it; each outcome stored as a compact
  // record. The consensus thread is the exchange's only writer, so reading it needs no lock here.
  std::vector<std::string> outcomes(p.result.receipts.size());
  std::vector<StoredReceipt> receipts;
  receipts.reserve(p.result.receipts.size());
  for (std::size_t i = 0; i < p.result.receipts.size(); ++i) {
    const auto& r = p.result.receipts[i];
    outcomes[i] = perps::outcome_json_text(executor_->app(), r.outcome);
    std::string stored = perps::encode_outcome_record(r.outcome);
    // A replay past the mempool's window fails the nonce rule; the hash keeps pointing at the
    // copy that executed first.
    const bool replay =
        !r.outcome.ok &&
        (r.outcome.reason == Reason::NonceAlreadyUsed || r.outcome.reason == Reason::NonceTooLow) &&
        [&] {
          auto at = store_.find_tx(r.tx_hash);
          return !at || *at;
        }();
    receipts.push_back({r.tx_hash, r.signer, std::move(stored), !replay});
  }
  state::WriteBatch& batch = p.result.state_changes;
  BlockStore::add_block(batch, p.header, p.txs, receipts, fills_by_user(p.result.events),
                        p.result.app_hash);
  if (state::Status written = kv_->write(batch); !written) {
    // DESIGN rule 9: a block that cannot be stored stops the node loudly.
    std::fprintf(stderr, "fatal: cannot commit block %llu: %s\n",
                 static_cast<unsigned long long>(p.header.height), written.error().message.c_str());
    std::abort();
  }
  {
    std::unique_lock lock(state_mutex_);
    committed_ = {p.header.height, p.header.time_ms, p.header.hash(), p.result.app_hash};
    committed_time_ms_ = p.header.time_ms;
  }
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(metrics_mutex_);
    last_store_seconds_ = std::chrono::duration<double>(now - store_start).count();
    ++blocks_;
    txs_total_ += p.txs.size();
    last_block_txs_ = p.txs.size();
    if (last_commit_at_ != std::chrono::steady_clock::time_point{})
      last_interval_seconds_ = std::chrono::duration<double>(now - last_commit_at_).count();
    last_commit_at_ = now;
  }
  answer_waiters(p.result, p.header, outcomes);
  if (options_.log_blocks)
    std::fprintf(
        stderr,
        "info: block height=%llu txs=%zu fills=%zu exec_ms=%.2f store_ms=%.2f "
        "answer_ms=%.2f app_hash=%s\n",
        static_cast<unsigned long long>(p.header.height), p.txs.size(), p.result.events.size() / 2,
        last_exec_seconds_ * 1000, last_store_seconds_ * 1000,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - now).count(),
        hex(p.result.app_hash).substr(0, 18).c_str());
  publish_block(p.result, p.header);
  proposed_.clear();
}

consensus::CommitInfo Node::last_commit() const {
  std::shared_lock lock(state_mutex_);
  return committed_;
}

// --- submission ------------------------------------------------------------------------------

// The envelope comes already parsed by the RPC layer; its size is checked as compact JSON text.
namespace {

// At least the length of v serialized compactly (every string character counted as its longest
// escape, every number as 24 characters), without building the text.
std::size_t serialized_size_bound(const json::value& v);
std::size_t serialized_size_bound(const json::object& o) {
  std::size_t n = 2;
  for (const auto& member : o)
    n += 2 + 6 * member.key().size() + 1 + serialized_size_bound(member.value()) + 1;
  return n;
}
std::size_t serialized_size_bound(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return 2 + 6 * v.get_string().size();
    case json::kind::array: {
      std::size_t n = 2;
      for (const json::value& e : v.get_array()) n += serialized_size_bound(e) + 1;
      return n;
    }
    case json::kind::object:
      return serialized_size_bound(v.get_object());
    default:
      return 24;
  }
}

}  // namespace

void Node::submit_batch(std::span<rpc::Call> calls) {
  auto reject = [](rpc::Respond& respond, const state::Error& error) {
    respond(rpc::Answer::rejected(state::reason_name(error.reason), error.message));
  };
  // What does not decode is answered at once; the rest is verified in one go.
  std::vector<state::SignedAction> envelopes;
  std::vector<rpc::Call*> decoded;  // envelopes[i] came from *decoded[i]
  envelopes.reserve(calls.size());
  decoded.reserve(calls.size());
  for (rpc::Call& call : calls) {
    // On the RPC fast path the envelope comes already read (plain, within the size limit).
    if (call.read) {
      envelopes.push_back(std::any_cast<state::SignedAction&&>(std::move(*call.read)));
      decoded.push_back(&call);
      continue;
    }
    // The exact size is only computed when the cheap bound is over the limit.
    if (serialized_size_bound(call.params) > state::kMaxEnvelopeBytes &&
        json::serialize(call.params).size() > state::kMaxEnvelopeBytes) {
      call.respond(rpc::Answer::rejected(
          "EnvelopeTooLarge",
          "envelope is larger than " + std::to_string(state::kMaxEnvelopeBytes) + " bytes"));
      continue;
    }
    auto envelope = state::envelope_from_json(call.params);
    if (!envelope) {
      reject(call.respond, envelope.error());
      continue;
    }
    envelopes.push_back(std::move(*envelope));
    decoded.push_back(&call);
  }
  if (envelopes.empty()) return;
  auto verified = verifier_.verify_batch(std::move(envelopes), &recovery_meter_);

  // An atomic, not last_commit(): admissions must not wait while a block executes.
  const std::uint64_t now = committed_time_ms_;
  std::vector<PendingTx> txs;
  std::vector<rpc::Call*> queued;  // txs[i] came from *queued[i]
  txs.reserve(verified.size());
  queued.reserve(verified.size());
  for (std::size_t i = 0; i < verified.size(); ++i) {
    rpc::Call& call = *decoded[i];
    if (!verified[i]) {
      reject(call.respond, verified[i].error());
      continue;
    }
    if (state::Status window = state::check_nonce_window(verified[i]->signed_action.nonce, now);
        !window) {
      reject(call.respond, window.error());
      continue;
    }
    std::string binary = state::encode_envelope_binary(verified[i]->signed_action);
    txs.push_back({std::move(*verified[i]), std::move(binary)});
    queued.push_back(&call);
  }
  if (txs.empty()) return;

  // Waiters go in before their transactions reach the mempool: once there, a transaction may
  // commit at any moment. A committed duplicate is caught by the mempool's window of recent hashes
  // or, older, by the nonce rule in execution (commit() keeps the first copy's index): no store
  // read per admission.
  const std::uint64_t first_waiter_id = [&] {
    const auto deadline = std::chrono::steady_clock::now() + options_.send_action_timeout;
    std::lock_guard lock(waiters_mutex_);
    const std::uint64_t first = next_waiter_id_;
    for (std::size_t i = 0; i < txs.size(); ++i)
      waiters_[txs[i].verified.tx_hash].push_back(
          Waiter{std::move(queued[i]->respond), deadline, next_waiter_id_++});
    earliest_deadline_ = std::min(earliest_deadline_, deadline);
    return first;
  }();
  const std::vector<state::Status> added = mempool_.add_batch(txs);

  // A refused transaction takes its waiter back out, unless a commit (of an earlier copy) or the
  // timeout has answered it meanwhile.
  if (std::all_of(added.begin(), added.end(), [](const state::Status& s) { return s.ok(); }))
    return;
  std::vector<std::pair<rpc::Respond, const state::Error*>> refused;
  {
    std::lock_guard lock(waiters_mutex_);
    for (std::size_t i = 0; i < added.size(); ++i) {
      if (added[i]) continue;
      auto group = waiters_.find(txs[i].verified.tx_hash);
      if (group == waiters_.end()) continue;
      Waiters& waiting = group->second;
      auto own = std::find_if(waiting.begin(), waiting.end(), [&](const Waiter& waiter) {
        return waiter.id == first_waiter_id + i;
      });
      if (own == waiting.end()) continue;
      refused.emplace_back(std::move(own->respond), &added[i].error());
      waiting.erase(own);
      if (waiting.empty()) waiters_.erase(group);
    }
  }
  for (auto& [respond, error] : refused) reject(respond, *error);
}

// Runs on the consensus thread, the only writer of the exchange, so it reads without the lock.
void Node::answer_waiters(const Executor::BlockResult& result, const consensus::BlockHeader& header,
                          const std::vector<std::string>& outcomes) {
  // Take the waiters out under the lock, build their answers after it: submissions keep flowing.
  std::vector<std::pair<rpc::Respond, std::size_t>> done;  // respond, receipt index
  std::vector<std::pair<rpc::Respond, state::Hash256>> expired;
  {
    std::lock_guard lock(waiters_mutex_);
    done.reserve(result.receipts.size());
    for (std::size_t i = 0; i < result.receipts.size(); ++i) {
      auto group = waiters_.find(result.receipts[i].tx_hash);
      if (group == waiters_.end()) continue;
      for (Waiter& waiter : group->second) done.emplace_back(std::move(waiter.respond), i);
      waiters_.erase(group);
    }
    // Waiters whose transaction has not committed in time get its hash to poll chain_getTx.
    const auto now = std::chrono::steady_clock::now();
    if (earliest_deadline_ <= now) {
      earliest_deadline_ = std::chrono::steady_clock::time_point::max();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        Waiters& waiting = it->second;
        for (auto w = waiting.begin(); w != waiting.end();) {
          if (w->deadline > now) {
            earliest_deadline_ = std::min(earliest_deadline_, w->deadline);
            ++w;
            continue;
          }
          expired.emplace_back(std::move(w->respond), it->first);
          w = waiting.erase(w);
        }
        if (waiting.empty())
          waiters_.erase(it++);  // a flat table's erase moves no other element
        else
          ++it;
      }
    }
  }
  const std::string height = std::to_string(header.height);
  for (auto& [respond, index] : done) {
    // Its receipt: txHash and height, then the outcome as chain_getTx gives it too ("ok" or,
    // executed and refused, "err": SPEC section 5; -32000 is for what never got in). A tx
    // answered twice (two waiters on one hash) gets the text copied, not moved.
    const std::string& outcome = outcomes[index];
    std::string text;
    text.reserve(96 + outcome.size());  // one allocation
    text += R"({"txHash":")";
    text += hex(result.receipts[index].tx_hash);
    text += R"(","height":)";
    text += height;
    text += ',';
    text.append(outcome, 1);  // past the outcome's opening brace
    respond(rpc::Answer::ok_text(std::move(text)));
  }
  for (auto& [respond, hash] : expired)
    respond(rpc::Answer::ok(
        json::object{{"txHash", hex(hash)}, {"height", nullptr}, {"status", "pending"}}));
}

void Node::publish_block(const Executor::BlockResult& result,
                         const consensus::BlockHeader& header) {
  if (!publisher_) return;  // consensus thread: reads the exchange without the lock
  // Only what someone follows is built (each topic asked once per block).
  std::map<rpc::Topic, bool> followed;
  auto wanted = [&](const rpc::Topic& topic) {
    auto [it, fresh] = followed.try_emplace(topic, false);
    if (fresh) it->second = !subscribed_ || subscribed_(topic);
    return it->second;
  };
  const perps::Exchange& exchange = executor_->app();
  if (wanted({"blocks", ""}))
    publisher_({"blocks", ""}, json::object{{"height", header.height},
                                            {"hash", hex(header.hash())},
                                            {"time", header.time_ms},
                                            {"txs", result.receipts.size()},
                                            {"appHash", hex(result.app_hash)}});
  std::map<std::string, json::array> trades;
  std::map<std::string, json::array> by_user;
  for (const perps::FillEvent& f : result.events) {
    const perps::Market& m = exchange.markets()[f.market];
    const bool to_trades = f.crossed && wanted({"trades", m.name});
    std::string user = state::to_hex(f.user);
    const bool to_user = wanted({"user", user});
    if (!to_trades && !to_user) continue;
    json::object fill{{"market", m.name},
                      {"px", state::format_decimal(f.px, 6)},
                      {"sz", state::format_decimal(f.sz, m.sz_decimals)},
                      {"side", f.side == perps::Side::Bid ? "B" : "A"},
                      {"time", f.time_ms},
                      {"tid", f.tid}};
    if (to_trades) trades[m.name].push_back(fill);
    if (!to_user) continue;
    fill["oid"] = f.oid;
    fill["fee"] = state::format_decimal(f.fee, 6);
    fill["closedPnl"] = state::format_decimal(f.closed_pnl, 6);
    fill["liquidation"] = f.liquidation != perps::LiquidationMethod::None;
    by_user[std::move(user)].push_back(std::move(fill));
  }
  for (auto& [market, list] : trades) publisher_({"trades", market}, std::move(list));
  for (auto& [user, list] : by_user)
    publisher_({"user", user}, json::object{{"fills", std::move(list)}});
  for (const perps::Market& m : exchange.markets()) {
    // Unfollowed books are not compared either: a new subscriber gets the next changed book
    // (and perp_orderBook for the current one).
    if (!wanted({"l2Book", m.name})) continue;
    json::value book =
        perps::order_book_to_json(exchange, m.index, 20, header.height, header.time_ms);
    json::object& o = book.as_object();
    std::string levels = json::serialize(o["bids"]) + json::serialize(o["asks"]);
    std::string& last = last_books_[m.index];
    if (levels == last) continue;
    last = std::move(levels);
    publisher_({"l2Book", m.name}, std::move(book));
  }
}

// --- RPC methods (SPEC section 5) ------------------------------------------------------------

std::optional<rpc::Topic> Node::parse_topic(const json::object& params, rpc::Error& error) const {
  const json::string* type = string_param(params, "type");
  auto fail = [&](std::string message) -> std::optional<rpc::Topic> {
    error = {rpc::ErrorCode::InvalidParams, std::move(message), std::nullopt};
    return std::nullopt;
  };
  if (!type) return fail("type: one of l2Book, trades, user, blocks");
  if (*type == "blocks") return rpc::Topic{"blocks", ""};
  if (*type == "l2Book" || *type == "trades") {
    const json::string* market = string_param(params, "market");
    if (!market) return fail("market: required for " + std::string(*type));
    std::shared_lock lock(state_mutex_);
    if (!executor_->app().find_market(*market)) {
      // As every query naming an unknown market answers (market_of below).
      error = rpc::Answer::rejected("UnknownMarket", "no market " + std::string(*market)).error;
      return std::nullopt;
    }
    return rpc::Topic{std::string(*type), std::string(*market)};
  }
  if (*type == "user") {
    const json::string* user = string_param(params, "user");
    auto address = user ? state::parse_address(*user)
                        : state::Result<state::Address>(make_error(Reason::BadHex, ""));
    if (!address) return fail("user: a 0x-prefixed address");
    return rpc::Topic{"user", state::to_hex(*address)};
  }
  return fail("type: one of l2Book, trades, user, blocks");
}

void Node::register_methods(rpc::MethodTable& table) {
  auto market_of = [this](const json::object& params,
                          rpc::Respond& respond) -> std::optional<perps::MarketIndex> {
    const json::string* name = string_param(params, "market");
    if (!name) {
      respond(bad_params("market: required string"));
      return std::nullopt;
    }
    auto m = executor_->app().find_market(*name);
    if (!m) respond(rpc::Answer::rejected("UnknownMarket", "no market " + std::string(*name)));
    return m;
  };
  auto user_of = [](const json::object& params,
                    rpc::Respond& respond) -> std::optional<state::Address> {
    const json::string* text = string_param(params, "user");
    if (!text) {
      respond(bad_params("user: required address string"));
      return std::nullopt;
    }
    auto address = state::parse_address(*text);
    if (!address) {
      respond(bad_params("user: " + address.error().message));
      return std::nullopt;
    }
    return *address;
  };

  table.add_batch(
      "perp_sendAction", "Submits a signed envelope; answers with its receipt once committed.",
      [this](std::span<rpc::Call> calls) { submit_batch(calls); },
      [](state::PlainJsonReader& in) -> std::any {
        // Over the size limit: the general path names it (from the compact size).
        const std::size_t begin = in.position();
        auto envelope = state::read_plain_envelope(in);
        if (!envelope || in.position() - begin > state::kMaxEnvelopeBytes)
          return in.fail(), std::any();
        return std::move(*envelope);
      });
  table.add("perp_eip712Schema", "The EIP-712 domain and types for signing.",
            [this](const json::object&, rpc::Respond respond) {
              respond(rpc::Answer::ok(state::eip712_schema(chain_id_)));
            });
  table.add("perp_markets", "Markets with their prices and context.",
            [this](const json::object&, rpc::Respond respond) {
              std::shared_lock lock(state_mutex_);
              respond(rpc::Answer::ok(perps::markets_to_json(executor_->app())));
            });
  table.add("perp_orderBook", "L2 book of a market, best levels first.",
            [this, market_of](const json::object& params, rpc::Respond respond) {
              std::uint64_t depth = 20;
              if (!uint_param(params, "depth", depth) || depth == 0 || depth > 1000)
                return respond(bad_params("depth: an integer 1..1000"));
              std::shared_lock lock(state_mutex_);
              auto m = market_of(params, respond);
              if (!m) return;
              respond(rpc::Answer::ok(perps::order_book_to_json(executor_->app(), *m, depth,
                                                                state_height_, state_time_ms_)));
            });
  table.add("perp_account", "Balances, margin and positions of a user.",
            [this, user_of](const json::object& params, rpc::Respond respond) {
              auto user = user_of(params, respond);
              if (!user) return;
              std::shared_lock lock(state_mutex_);
              respond(rpc::Answer::ok(perps::account_to_json(executor_->app(), *user)));
            });
  table.add("perp_openOrders", "Open orders of a user.",
            [this, user_of](const json::object& params, rpc::Respond respond) {
              auto user = user_of(params, respond);
              if (!user) return;
              std::shared_lock lock(state_mutex_);
              respond(rpc::Answer::ok(perps::open_orders_to_json(executor_->app(), *user)));
            });
  table.add(
      "perp_fills", "Fills of a user by time (among the user's 10,000 most recent).",
      [this, user_of](const json::object& params, rpc::Respond respond) {
        auto user = user_of(params, respond);
        if (!user) return;
        std::uint64_t start = 0, end = UINT64_MAX, limit = 500;
        if (!uint_param(params, "startTime", start) || !uint_param(params, "endTime", end) ||
            !uint_param(params, "limit", limit) || limit == 0 || limit > 2000)
          return respond(bad_params("startTime/endTime: ms integers; limit: 1..2000"));
        // Up to the committed height: the block being committed may be stored already.
        auto fills =
            recent_fills(store_, *user, start, end, limit, kFillsExamined, last_commit().height);
        if (!fills)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError, fills.error().message));
        std::shared_lock lock(state_mutex_);
        for (const perps::FillEvent& f : *fills)
          if (f.market >= executor_->app().markets().size())
            return respond(
                rpc::Answer::fail(rpc::ErrorCode::InternalError,
                                  "damaged fill record: no market " + std::to_string(f.market)));
        respond(rpc::Answer::ok(perps::fills_to_json(executor_->app(), *fills)));
      });
  table.add(
      "perp_fundingHistory", "Funding settlements of a market.",
      [this, market_of](const json::object& params, rpc::Respond respond) {
        std::uint64_t start = 0, end = UINT64_MAX;
        if (!params.contains("startTime") || !uint_param(params, "startTime", start) ||
            !uint_param(params, "endTime", end))
          return respond(bad_params("startTime: required ms integer; endTime: ms integer"));
        std::shared_lock lock(state_mutex_);
        auto m = market_of(params, respond);
        if (!m) return;
        respond(rpc::Answer::ok(perps::funding_history_to_json(executor_->app(), *m, start, end)));
      });
  table.add(
      "perp_dexs", "Deployer dexs (HIP-3): none until deployers register.",
      [](const json::object&, rpc::Respond respond) { respond(rpc::Answer::ok(json::array())); });
  table.add("chain_status", "Chain id, height, hashes and validators.",
            [this](const json::object&, rpc::Respond respond) {
              const consensus::CommitInfo c = last_commit();
              respond(rpc::Answer::ok(json::object{{"chainId", chain_id_},
                                                   {"height", c.height},
                                                   {"blockHash", hex(c.block_hash)},
                                                   {"blockTime", c.time_ms},
                                                   {"appHash", hex(c.app_hash)},
                                                   {"validators", validators_.size()},
                                                   {"catchingUp", false}}));
            });
  table.add(
      "chain_getBlock", "A committed block.",
      [this](const json::object& params, rpc::Respond respond) {
        std::uint64_t height = 0;
        if (!params.contains("height") || !uint_param(params, "height", height))
          return respond(bad_params("height: required integer"));
        // A block is stored a moment before it counts as committed (and before its calls are
        // answered): it is served from then on, as chain_status reports it.
        auto block = height <= last_commit().height
                         ? store_.block(height)
                         : state::Result<std::optional<StoredBlock>>(std::nullopt);
        if (!block)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError, block.error().message));
        if (!*block)
          return respond(rpc::Answer::rejected("UnknownBlock",
                                               "no block at height " + std::to_string(height)));
        auto answer = block_json(**block);
        if (!answer)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError, answer.error().message));
        respond(rpc::Answer::ok(std::move(*answer)));
      });
  table.add(
      "chain_getTx", "A committed transaction with its result.",
      [this](const json::object& params, rpc::Respond respond) {
        const json::string* text = string_param(params, "hash");
        auto hash = text ? state::parse_fixed_hex<32>(*text)
                         : state::Result<state::Hash256>(make_error(Reason::BadHex, "required"));
        if (!hash) return respond(bad_params("hash: a 0x-prefixed 32-byte hex string"));
        const std::uint64_t committed = last_commit().height;  // read first: see chain_getBlock
        auto at = store_.find_tx(*hash);
        if (!at)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError, at.error().message));
        if (!*at || (*at)->at.height > committed) {
          // Pending, or in the block being executed (taken from the mempool, not yet stored). A
          // transaction taken into a committed block was found above.
          // SPEC's fields all present, null until the block is stored (the mempool knows a
          // pending transaction by hash only: finding it would scan the queue under its lock).
          if (mempool_.seen(*hash))
            return respond(rpc::Answer::ok(json::object{{"hash", hex(*hash)},
                                                        {"height", nullptr},
                                                        {"index", nullptr},
                                                        {"signer", nullptr},
                                                        {"action", nullptr},
                                                        {"result", nullptr},
                                                        {"status", "pending"}}));
          return respond(
              rpc::Answer::rejected("UnknownTx", "no transaction " + std::string(*text)));
        }
        const TxRecord& record = **at;
        // The storage's own error when the read fails; what is damaged when the bytes are.
        const std::string where = "transaction " + std::string(*text) + " at height " +
                                  std::to_string(record.at.height) + " index " +
                                  std::to_string(record.at.index);
        auto tx = store_.transaction(record.at.height, record.at.index);
        if (!tx)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError, tx.error().message));
        if (!*tx)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError,
                                           "damaged record: " + where + " is not in its block"));
        auto envelope = state::decode_envelope_binary(**tx);
        if (!envelope)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError,
                                           "damaged record: " + where + " does not decode"));
        json::value action = state::action_to_json(envelope->action);
        state::Result<std::string> result_text = [&] {
          std::shared_lock lock(state_mutex_);
          return perps::stored_outcome_json_text(executor_->app(), record.outcome_record);
        }();
        if (!result_text)
          return respond(rpc::Answer::fail(rpc::ErrorCode::InternalError,
                                           result_text.error().message + ": " + where));
        json::error_code ec;
        json::value result = json::parse(*result_text, ec);
        respond(rpc::Answer::ok(
            json::object{{"hash", hex(*hash)},
                         {"height", record.at.height},
                         {"index", record.at.index},
                         {"signer", state::to_checksum_address(record.signer)},
                         {"action", std::move(action)},
                         {"result", ec ? json::value(nullptr) : std::move(result)}}));
      });
  table.add("chain_validators", "The validator set with voting power.",
            [this](const json::object&, rpc::Respond respond) {
              json::array out;
              for (const auto& v : validators_)
                out.push_back(json::object{{"address", state::to_checksum_address(v.address)},
                                           {"power", v.power}});
              respond(rpc::Answer::ok(std::move(out)));
            });
}

state::Result<json::value> Node::block_json(const StoredBlock& block) const {
  // Committed transactions decoded when their block was accepted: one that no longer decodes is
  // damage, reported, not a hash left out of the list.
  std::vector<state::SignedAction> envelopes;
  envelopes.reserve(block.txs.size());
  for (const auto& tx : block.txs) {
    auto envelope = state::decode_envelope_binary(tx);
    if (!envelope)
      return make_error(Reason::StorageError, "damaged transaction in block " +
                                                  std::to_string(block.header.height) + ": " +
                                                  envelope.error().message);
    envelopes.push_back(std::move(*envelope));
  }
  json::array txs;
  txs.reserve(envelopes.size());
  for (const state::Hash256& hash : verifier_.tx_hashes(envelopes)) txs.emplace_back(hex(hash));
  return json::value(json::object{{"height", block.header.height},
                                  {"hash", hex(block.header.hash())},
                                  {"parentHash", hex(block.header.parent_hash)},
                                  {"time", block.header.time_ms},
                                  {"proposer", state::to_checksum_address(block.header.proposer)},
                                  {"appHash", hex(block.app_hash)},
                                  {"lastAppHash", hex(block.header.last_app_hash)},
                                  {"txs", std::move(txs)}});
}

std::string Node::metrics_text() const {
  const consensus::CommitInfo c = last_commit();
  std::lock_guard lock(metrics_mutex_);
  std::string out;
  auto line = [&](const char* name, const char* help, const char* type, double value) {
    rpc::append_metric(out, name, type, help, std::to_string(value));
  };
  line("perpd_height", "Last committed height.", "gauge", static_cast<double>(c.height));
  line("perpd_blocks_total", "Blocks committed since start.", "counter",
       static_cast<double>(blocks_));
  line("perpd_txs_total", "Transactions committed since start.", "counter",
       static_cast<double>(txs_total_));
  line("perpd_block_txs", "Transactions in the last block.", "gauge",
       static_cast<double>(last_block_txs_));
  line("perpd_block_interval_seconds", "Time between the last two commits.", "gauge",
       last_interval_seconds_);
  line("perpd_block_execution_seconds", "Execution time of the last block.", "gauge",
       last_exec_seconds_);
  line("perpd_mempool_txs", "Transactions waiting in the mempool.", "gauge",
       static_cast<double>(mempool_.size()));
  line("perpd_mempool_bytes", "Bytes waiting in the mempool.", "gauge",
       static_cast<double>(mempool_.bytes()));
  line("perpd_signature_recoveries_total", "Signers recovered from submitted actions.", "counter",
       static_cast<double>(recovery_meter_.recoveries()));
  line("perpd_signature_recovery_cpu_seconds_total",
       "CPU time (thread time) the RPC threads spent recovering those signers.", "counter",
       static_cast<double>(recovery_meter_.cpu_ns()) / 1e9);
  return out;
}

}  // namespace node
