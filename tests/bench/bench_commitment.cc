// Cost of the app-hash commitment per changed key, apart from the exchange: a state of 100,000
// order-like records (9-byte keys, 64-byte values) and 10,000 nonce-set-like records (21-byte
// keys, 200-byte values); each block creates 5,000 orders, deletes 5,000 and rewrites 2,000 nonce
// sets, then takes the app hash. items_per_second counts changed keys.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "state/state_commitment.h"

namespace {
using namespace state;

std::string order_key(std::uint64_t oid) {
  std::string key(1, 'O');
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(oid >> (8 * i)));
  return key;
}
std::string nonce_key(std::uint64_t signer) {
  std::string key(1, 'N');
  key.append(20, '\0');
  std::memcpy(key.data() + 1, &signer, sizeof signer);
  return key;
}
std::string value_of(std::uint64_t seed, std::size_t size) {
  std::string value(size, '\0');
  for (std::size_t i = 0; i < size; i += sizeof seed) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    std::memcpy(value.data() + i, &seed, std::min(sizeof seed, size - i));
  }
  return value;
}

constexpr std::uint64_t kOrders = 100'000, kSigners = 10'000;
constexpr std::uint64_t kCreates = 5'000, kDeletes = 5'000, kNonceWrites = 2'000;

void BM_CommitBlock(benchmark::State& state) {
  StateCommitment commitment;
  for (std::uint64_t i = 0; i < kOrders; ++i) commitment.set(order_key(i), value_of(i, 64));
  for (std::uint64_t i = 0; i < kSigners; ++i) commitment.set(nonce_key(i), value_of(i, 200));
  std::uint64_t next_oid = kOrders, oldest_oid = 0, signer = 0, block = 0;
  std::vector<std::pair<std::string, std::string>> changes;
  for (auto _ : state) {
    state.PauseTiming();
    changes.clear();
    ++block;
    for (std::uint64_t i = 0; i < kCreates; ++i, ++next_oid)
      changes.emplace_back(order_key(next_oid), value_of(next_oid, 64));
    for (std::uint64_t i = 0; i < kDeletes; ++i)
      changes.emplace_back(order_key(oldest_oid++), std::string());
    for (std::uint64_t i = 0; i < kNonceWrites; ++i, signer = (signer + 7) % kSigners)
      changes.emplace_back(nonce_key(signer), value_of(signer + block, 200));
    state.ResumeTiming();
    for (const auto& [key, value] : changes)
      commitment.set(key, value.empty() ? std::nullopt : std::optional<std::string_view>(value));
    benchmark::DoNotOptimize(commitment.app_hash());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(changes.size()));
}
BENCHMARK(BM_CommitBlock)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The same blocks through apply(), as the executor passes them (a WriteBatch of "s/" keys).
void BM_CommitBlockBatch(benchmark::State& state) {
  StateCommitment commitment;
  for (std::uint64_t i = 0; i < kOrders; ++i) commitment.set(order_key(i), value_of(i, 64));
  for (std::uint64_t i = 0; i < kSigners; ++i) commitment.set(nonce_key(i), value_of(i, 200));
  std::uint64_t next_oid = kOrders, oldest_oid = 0, signer = 0, block = 0;
  WriteBatch batch;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    ++block;
    for (std::uint64_t i = 0; i < kCreates; ++i, ++next_oid)
      batch.put("s/" + order_key(next_oid), value_of(next_oid, 64));
    for (std::uint64_t i = 0; i < kDeletes; ++i) batch.del("s/" + order_key(oldest_oid++));
    for (std::uint64_t i = 0; i < kNonceWrites; ++i, signer = (signer + 7) % kSigners)
      batch.put("s/" + nonce_key(signer), value_of(signer + block, 200));
    state.ResumeTiming();
    commitment.apply(batch, "s/");
    benchmark::DoNotOptimize(commitment.app_hash());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
}
BENCHMARK(BM_CommitBlockBatch)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// A state growing from empty to 300,000 order records, as the load test grows it: the digest
// table's growth (and the fresh memory it faults in) is in the figure, which fixed-size blocks
// above leave out. Each iteration starts from a new commitment.
void BM_CommitGrowth(benchmark::State& state) {
  constexpr std::uint64_t kKeys = 300'000;
  const std::string value = value_of(1, 64);
  std::vector<std::string> keys;
  for (std::uint64_t i = 0; i < kKeys; ++i) keys.push_back(order_key(i));
  for (auto _ : state) {
    StateCommitment commitment;
    for (const auto& key : keys) commitment.set(key, value);
    benchmark::DoNotOptimize(commitment.app_hash());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kKeys));
}
BENCHMARK(BM_CommitGrowth)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
