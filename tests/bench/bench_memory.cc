// Heap bytes per account (genesis accounts, no positions) and per resting order, counted by a
// global operator new: everything the node keeps for them (exchange records, book nodes, order
// metadata, the app-hash digest table, nonce sets). Apart from bench_executor, whose throughput
// the counting would slow.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "executor_workload.h"

namespace {
std::atomic<std::int64_t> g_heap_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size);
  if (!p) throw std::bad_alloc();
  g_heap_bytes += static_cast<std::int64_t>(malloc_usable_size(p));
  return p;
}
void operator delete(void* p) noexcept {
  if (p) g_heap_bytes -= static_cast<std::int64_t>(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}

namespace {
using namespace bench_workload;

// Heap bytes per account (genesis accounts, no positions) and per resting order, everything the
// node keeps for them included: exchange records, book nodes, order metadata, the app-hash digest
// map and the nonce sets.
void BM_MemoryFootprint(benchmark::State& state) {
  for (auto _ : state) {
    const std::int64_t base = g_heap_bytes;
    auto executor = std::make_unique<Executor>(Exchange(make_genesis()));
    const std::int64_t with_accounts = g_heap_bytes;
    BlockSource source(
        kBlockSize);  // its own executor is counted too: measure ours by difference below
    (void)source;
    const std::int64_t after_source = g_heap_bytes;
    // Resting orders only: place 100,000 non-crossing orders.
    std::mt19937_64 rng(7);
    constexpr int kOrders = 100'000;
    std::uint64_t time = 1'767'225'600'000;
    for (int b = 0; b < kOrders / kBlockSize; ++b) {
      state::Block block;
      time += 100;
      block.context = {static_cast<std::uint64_t>(b + 1), time, {}};
      for (int i = 0; i < kBlockSize; ++i) {
        const int who = static_cast<int>(rng() % kAccounts);
        const int m = static_cast<int>(rng() % kMarkets);
        const bool buy = rng() % 2 == 0;
        const Px mark = executor->app().markets()[static_cast<std::size_t>(m)].mark_px;
        Px px = (buy ? mark - mark / 100 - static_cast<Px>(rng() % 2000) * 10'000
                     : mark + mark / 100 + static_cast<Px>(rng() % 2000) * 100'000) /
                100'000 * 100'000;
        state::PlaceOrders place;
        place.orders.items.push_back(spec(m, buy, px, 2, state::Tif::Gtc));
        state::VerifiedAction v;
        v.signed_action.action = place;
        v.signed_action.nonce =
            time - 24 * 3'600'000 + static_cast<std::uint64_t>(b * kBlockSize + i);
        v.signer = trader(who);
        block.txs.push_back(std::move(v));
      }
      executor->execute(block);
    }
    std::size_t resting = 0;
    for (const auto& m : executor->app().markets()) resting += m.book.size();
    const std::int64_t with_orders = g_heap_bytes - (after_source - with_accounts);
    state.counters["bytes_per_account"] = static_cast<double>(with_accounts - base) / kAccounts;
    state.counters["bytes_per_resting_order"] =
        static_cast<double>(with_orders - with_accounts) / static_cast<double>(resting);
    state.counters["resting_orders"] = static_cast<double>(resting);
  }
}
BENCHMARK(BM_MemoryFootprint)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
