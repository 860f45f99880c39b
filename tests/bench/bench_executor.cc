// The block executor applying pre-verified order envelopes (no signature work: the mempool did it)
// with 10,000 accounts across 10 markets: margin checks, matching, settlement, nonces, receipts
// and app-hash updates all included (tests/bench/executor_workload.h). Heap accounting lives in
// bench_memory, so nothing here counts allocations.
#include <benchmark/benchmark.h>

#include "executor_workload.h"

namespace {
using namespace bench_workload;

// Argument: orders per block. 50,000 is a 100 ms block at 500,000 orders per second.
void BM_ExecuteOrderBlocks(benchmark::State& state) {
  const int block_size = static_cast<int>(state.range(0));
  BlockSource source(block_size);
  std::vector<state::Block> warmup, measured;
  for (int i = 0; i < kWarmupOrders / block_size; ++i) warmup.push_back(source.next());
  for (int i = 0; i < kMeasuredOrders / block_size; ++i) measured.push_back(source.next());

  for (auto _ : state) {
    state.PauseTiming();
    auto executor = std::make_unique<Executor>(Exchange(make_genesis()));
    for (const auto& block : warmup) executor->execute(block);
    std::size_t resting = 0;
    for (const auto& m : executor->app().markets()) resting += m.book.size();
    state.counters["resting_orders_at_start"] = static_cast<double>(resting);
    state.ResumeTiming();
    std::size_t fills = 0, changed_keys = 0;
    Executor::BlockResult result;  // reused, as the node does
    for (const auto& block : measured) {
      executor->execute(block, result);
      fills += result.events.size() / 2;
      changed_keys += result.state_changes.size();
    }
    state.PauseTiming();
    state.counters["fills"] = static_cast<double>(fills);
    state.counters["changed_keys_per_order"] =
        static_cast<double>(changed_keys) /
        static_cast<double>(measured.size() * static_cast<std::size_t>(block_size));
    executor.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(measured.size()) *
                          block_size);
}
BENCHMARK(BM_ExecuteOrderBlocks)
    ->Arg(5'000)
    ->Arg(50'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
