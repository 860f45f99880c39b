// What committing a block under load costs in LevelDB: blocks shaped like the load test's (3,300
// resting orders: the block record with their envelopes, one tx-index record and one order record
// each, a nonce record per tenth of them, the commit record) written through the node's own
// LevelDbKvStore with sync writes, into a fresh database. The time is the process's CPU time, so
// LevelDB's flushes and compactions on its own thread count; it includes building the records
// (timing paused for that would leave out LevelDB's thread meanwhile), which BM_BuildBlockRecords
// measures alone.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "state/kv_store.h"

namespace {

constexpr int kOrdersPerBlock = 3'300;
constexpr std::size_t kEnvelopeBytes = 121;  // a binary Gtc order envelope
// A block record's head: the encoded header (132 bytes, BlockHeader::encode) and the app hash.
constexpr std::size_t kBlockHeadBytes = 132 + 32;

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

enum class TxIndex { HashKeys, SequentialKeys, None };

// One block's writes. Tx-index keys are hashes in the node (random); SequentialKeys shows what
// that randomness costs, None what the index costs at all.
void fill_block(state::WriteBatch& batch, std::uint64_t height, std::uint64_t& next_oid,
                std::mt19937_64& rng, TxIndex tx_index) {
  static const std::string order_record(70, 'o'), nonce_record(110, 'n'), commit_record(80, 'm');
  batch.clear();
  std::string block;
  block.reserve(kBlockHeadBytes + 4 + kOrdersPerBlock * (4 + kEnvelopeBytes));
  block.append(kBlockHeadBytes, 'h');
  put_be(block, kOrdersPerBlock, 4);
  std::string key, value;
  for (int i = 0; i < kOrdersPerBlock; ++i) {
    put_be(block, kEnvelopeBytes, 4);
    block.append(kEnvelopeBytes, 'e');  // LevelDB stores it uncompressed: the content is moot

    if (tx_index != TxIndex::None) {
      key.assign("c/t/");
      if (tx_index == TxIndex::SequentialKeys) {
        put_be(key, height, 8);
        put_be(key, static_cast<std::uint64_t>(i), 8);
        put_be(key, rng(), 8);
        put_be(key, rng(), 8);
      } else {
        for (int j = 0; j < 4; ++j) put_be(key, rng(), 8);
      }
      value.clear();
      put_be(value, height, 8);
      put_be(value, static_cast<std::uint64_t>(i), 4);
      value.append(38, 's');  // signer and the resting order's outcome record
      batch.put(key, value);
    }

    key.assign("s/O");
    put_be(key, 1, 4);  // market
    put_be(key, next_oid++, 8);
    batch.put(key, order_record);
  }
  for (int signer = 0; signer < kOrdersPerBlock / 10; ++signer) {
    key.assign("s/N");
    put_be(key, (height * 330 + static_cast<std::uint64_t>(signer)) % 480, 20);
    batch.put(key, nonce_record);
  }
  key.assign("c/b/");
  put_be(key, height, 8);
  batch.put(key, block);
  batch.put("c/meta", commit_record);
}

void BM_StoreBlocks(benchmark::State& state) {
  const auto tx_index = static_cast<TxIndex>(state.range(0));
  std::string dir = (std::filesystem::temp_directory_path() / "bench_storage_XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    state.SkipWithError("cannot make a scratch directory");
    return;
  }
  auto store = state::open_leveldb(dir + "/db", true);
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  std::mt19937_64 rng(42);
  state::WriteBatch batch;
  std::uint64_t height = 0, next_oid = 1;
  for (auto _ : state) {
    fill_block(batch, ++height, next_oid, rng, tx_index);
    if (!(*store)->write(batch)) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * kOrdersPerBlock);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreBlocks)
    ->ArgName("tx_index")
    ->Arg(static_cast<int>(TxIndex::HashKeys))
    ->Arg(static_cast<int>(TxIndex::SequentialKeys))
    ->Arg(static_cast<int>(TxIndex::None))
    ->Iterations(100)  // 330,000 orders, as the load test: compaction work depends on the size
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

void BM_BuildBlockRecords(benchmark::State& state) {
  std::mt19937_64 rng(42);
  state::WriteBatch batch;
  std::uint64_t height = 0, next_oid = 1;
  for (auto _ : state) {
    fill_block(batch, ++height, next_oid, rng, TxIndex::HashKeys);
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(state.iterations() * kOrdersPerBlock);
}
BENCHMARK(BM_BuildBlockRecords)->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
