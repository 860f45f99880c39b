// Order book costs: the fast perps::OrderBook against perps::ReferenceBook on a pre-generated
// stream of 60% resting places (non-crossing Gtc), 30% cancels of live orders and 10% crossing
// orders (75% Ioc, 25% Gtc), around a mid with a few thousand live orders over a few hundred
// levels per side. Two streams: /0 on a uniform one-cent grid around 3000 USD, /1 on the
// exchange's grid for szDecimals 2 (perps/price_grid.h: 0.1 USD steps below 10000 USD, 1 USD
// above) around 10000 USD, so the book straddles a change of step. Targets for the fast book: >=
// 10M ops/s on one core, p99 < 1 us, zero heap allocations per op after warm-up, <= 1 KB per
// resting order.
//
// BM_Mix      throughput (items_per_second) and allocs_per_op, after a warm-up pass that grows
//             every pool to its high-water mark; /0 and /1 are the two streams.
// BM_Latency  every op timed alone with rdtsc (calibrated against steady_clock): p50/p99/p999/max
//             in ns, including the timer's own overhead (reported as clock_ns). Stream /0.
// BM_Memory   heap bytes held by the book (counted by the operator new below, usable sizes) per
//             resting order: /0 the stream's book after a full pass (pools at high water),
//             /1 a deep book of 1M orders, /2 the worst case of one order per 4096-level page,
//             /3 and /4 one order on each of 10k consecutive valid prices per side around
//             1000 USD for szDecimals 2 (0.01 USD steps below, 0.1 USD above): /3 on a uniform
//             grid of 10^szDecimals micro-dollars, how the exchange indexed its books before
//             perps/price_grid.h, /4 on the exchange's significant-figure grid.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "perps/order_book.h"
#include "perps/price_grid.h"
#include "perps/reference_book.h"

// ---- heap accounting: every allocation of the process goes through these ----------------------

namespace {
std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::int64_t> g_live_bytes{0};

void* counted(void* p) {
  if (p) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
  }
  return p;
}
void* alloc(std::size_t n) {
  return counted(std::malloc(n ? n : 1));
}
void* alloc(std::size_t n, std::align_val_t align) {
  void* p = nullptr;
  const auto a = std::max(static_cast<std::size_t>(align), sizeof(void*));
  return posix_memalign(&p, a, n ? n : 1) == 0 ? counted(p) : nullptr;
}
void release(void* p) {
  if (!p) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  std::free(p);
}
void* or_throw(void* p) {
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) {
  return or_throw(alloc(n));
}
void* operator new[](std::size_t n) {
  return or_throw(alloc(n));
}
void* operator new(std::size_t n, std::align_val_t a) {
  return or_throw(alloc(n, a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return or_throw(alloc(n, a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return alloc(n);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return alloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return alloc(n, a);
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete[](void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p);
}

namespace {
using namespace perps;

// ---- the stream -------------------------------------------------------------------------------

constexpr Px kTick = 10'000;       // one cent in micro-dollars
constexpr Px kMidTicks = 300'000;  // $3000
constexpr Px kMaxOffset = 300;     // resting orders within 300 levels of the mid
constexpr std::size_t kTargetLive = 4000;
constexpr std::size_t kInitialOrders = 4000;
constexpr std::size_t kStreamOps = std::size_t{1} << 18;

struct Op {
  enum class Kind : std::uint8_t { Place, Cancel };
  Kind kind = Kind::Place;
  Side side = Side::Bid;
  TimeInForce tif = TimeInForce::Gtc;
  AccountId owner = 0;
  OrderId oid = 0;
  Px px = 0;
  Lots sz = 0;
};

struct Scenario {
  std::vector<Op> initial;  // builds the starting book
  std::vector<Op> stream;   // the measured mix, valid from the starting book
  std::size_t live_at_start = 0;
  std::size_t levels_at_start = 0;
  std::size_t crossing = 0;
};

template <class Book>
inline void apply(Book& book, const Op& op, std::vector<MatchEvent>& events) {
  events.clear();
  if (op.kind == Op::Kind::Cancel) {
    std::optional<RestingOrder> cancelled = book.cancel(op.oid);
    benchmark::DoNotOptimize(cancelled);
    return;
  }
  RestingOrder order;
  order.oid = op.oid;
  order.owner = op.owner;
  order.side = op.side;
  order.px = op.px;
  order.sz = order.orig_sz = op.sz;
  order.time_ms = 1'767'225'600'000;
  PlaceOutcome outcome = book.place(order, op.tif, events);
  benchmark::DoNotOptimize(outcome);
}

// The grid and starting mid level of each stream.
PriceGrid stream_grid(int which) {
  return which == 0 ? PriceGrid::uniform(kTick) : PriceGrid::significant_figures(2);
}
std::int64_t stream_mid(int which) {
  return which == 0 ? kMidTicks : stream_grid(which).level(10'000'000'000);
}

// Simulates the stream on a ReferenceBook so that every cancel names a live order and every
// place lands where it is meant to (resting, or crossing). Prices are drawn as levels of the
// stream's grid; stream 0 is the same stream as before grids existed.
Scenario generate(int which) {
  const PriceGrid grid = stream_grid(which);
  const std::int64_t start_level = stream_mid(which);
  Scenario sc;
  std::mt19937_64 rng(20260101);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  // Offsets from the mid crowd near the top of the book, as in real books.
  auto offset = [&] {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return 1 + static_cast<Px>(u * u * kMaxOffset);
  };
  ReferenceBook book;
  std::vector<MatchEvent> events;
  std::vector<OrderId> live;
  std::vector<std::size_t> where;  // oid -> index in live
  OrderId next_oid = 1;

  auto add_live = [&](OrderId oid) {
    if (where.size() <= oid) where.resize(oid + 1);
    where[oid] = live.size();
    live.push_back(oid);
  };
  auto drop_live = [&](OrderId oid) {
    const std::size_t i = where[oid];
    where[live.back()] = i;
    live[i] = live.back();
    live.pop_back();
  };
  auto run = [&](const Op& op, std::vector<Op>& out) {
    out.push_back(op);
    apply(book, op, events);
    if (op.kind == Op::Kind::Cancel) drop_live(op.oid);
    for (const MatchEvent& e : events)
      if (e.maker_done) drop_live(e.maker_oid);
    if (op.kind == Op::Kind::Place && book.find(op.oid)) add_live(op.oid);
  };
  auto mid_level = [&] {
    const auto bid = book.best_bid(), ask = book.best_ask();
    if (bid && ask) return (grid.level(*bid) + grid.level(*ask)) / 2;
    if (bid) return grid.level(*bid) + 1;
    if (ask) return grid.level(*ask) - 1;
    return start_level;
  };
  auto resting_place = [&] {
    Op op;
    op.oid = next_oid++;
    op.owner = static_cast<AccountId>(uniform(1, 1000));
    op.side = uniform(0, 1) ? Side::Bid : Side::Ask;
    op.sz = uniform(1, 100);
    const std::int64_t mid = mid_level();
    std::int64_t level = op.side == Side::Bid ? mid - offset() : mid + offset();
    if (op.side == Side::Bid && book.best_ask())
      level = std::min(level, grid.level(*book.best_ask()) - 1);
    if (op.side == Side::Ask && book.best_bid())
      level = std::max(level, grid.level(*book.best_bid()) + 1);
    op.px = grid.price(std::max<std::int64_t>(level, 1));
    return op;
  };

  for (std::size_t i = 0; i < kInitialOrders; ++i) run(resting_place(), sc.initial);
  sc.live_at_start = book.size();
  std::vector<BookLevel> rows;
  book.levels(Side::Bid, 1'000'000, rows);
  sc.levels_at_start = rows.size();
  book.levels(Side::Ask, 1'000'000, rows);
  sc.levels_at_start += rows.size();

  while (sc.stream.size() < kStreamOps) {
    const auto roll = uniform(0, 99);
    if (roll < 60 || live.empty()) {
      run(resting_place(), sc.stream);
    } else if (roll < 90) {
      Op op;
      op.kind = Op::Kind::Cancel;
      op.oid =
          live[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(live.size()) - 1))];
      run(op, sc.stream);
    } else {
      Op op;
      op.oid = next_oid++;
      op.owner = static_cast<AccountId>(uniform(1, 1000));
      op.side = uniform(0, 1) ? Side::Bid : Side::Ask;
      const auto best = op.side == Side::Bid ? book.best_ask() : book.best_bid();
      if (!best) {
        run(resting_place(), sc.stream);
        continue;
      }
      // Takes about `makers` orders (mean size 50), more when the book has grown past its target:
      // this feedback holds the live count near kTargetLive.
      const auto excess =
          static_cast<std::int64_t>(live.size()) - static_cast<std::int64_t>(kTargetLive);
      const std::int64_t makers = std::clamp<std::int64_t>(3 + excess / 100, 1, 12);
      op.sz = std::max<Lots>(1, makers * uniform(25, 75));
      const std::int64_t through = uniform(0, 10);
      const std::int64_t best_level = grid.level(*best);
      op.px = grid.price(op.side == Side::Bid ? best_level + through
                                              : std::max<std::int64_t>(1, best_level - through));
      op.tif = uniform(0, 3) == 0 ? TimeInForce::Gtc : TimeInForce::Ioc;
      run(op, sc.stream);
      ++sc.crossing;
    }
  }
  return sc;
}

// Each stream is generated on first use, so that a benchmark of one runs on the heap it would
// have alone.
const Scenario& scenario(int which) {
  if (which == 0) {
    static const Scenario sc = generate(0);
    return sc;
  }
  static const Scenario sc = generate(1);
  return sc;
}

// Back to the starting book by cancelling what rests and replaying the initial places: the pools
// keep their capacity, so this allocates nothing on the fast book.
template <class Book>
void reset(Book& book, const Scenario& sc, std::vector<OrderId>& scratch,
           std::vector<MatchEvent>& events) {
  scratch.clear();
  book.for_each_order([&](const RestingOrder& order) { scratch.push_back(order.oid); });
  for (OrderId oid : scratch) book.cancel(oid);
  for (const Op& op : sc.initial) apply(book, op, events);
}

template <class Book>
struct Fixture {
  const Scenario& sc;
  Book book;
  std::vector<MatchEvent> events;
  std::vector<OrderId> scratch;

  // Builds the starting book and runs the stream once, so pools are at their high-water mark.
  explicit Fixture(int which) : sc(scenario(which)), book(stream_grid(which)) {
    events.reserve(4096);
    scratch.reserve(1 << 20);
    for (const Op& op : sc.initial) apply(book, op, events);
    for (const Op& op : sc.stream) apply(book, op, events);
    reset();
  }
  void reset() { ::reset(book, sc, scratch, events); }
};

// ---- benchmarks -------------------------------------------------------------------------------

template <class Book>
void BM_Mix(benchmark::State& state) {
  Fixture<Book> f(static_cast<int>(state.range(0)));
  const Scenario& sc = f.sc;
  std::size_t i = 0;
  // Counted around each op alone, so the benchmark loop's own allocations do not show up. Two
  // relaxed loads of a counter cost about a cycle.
  std::uint64_t op_allocs = 0;
  for (auto _ : state) {
    if (i == sc.stream.size()) {
      state.PauseTiming();
      f.reset();
      i = 0;
      state.ResumeTiming();
    }
    const std::uint64_t allocs_before = g_allocs.load(std::memory_order_relaxed);
    apply(f.book, sc.stream[i++], f.events);
    op_allocs += g_allocs.load(std::memory_order_relaxed) - allocs_before;
  }
  const auto ops = static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["allocs_per_op"] = static_cast<double>(op_allocs) / ops;
  state.counters["live_orders"] = static_cast<double>(sc.live_at_start);
  state.counters["levels"] = static_cast<double>(sc.levels_at_start);
}
BENCHMARK_TEMPLATE(BM_Mix, OrderBook)->Arg(0)->Arg(1);
BENCHMARK_TEMPLATE(BM_Mix, ReferenceBook)->Arg(0)->Arg(1);

inline std::uint64_t tsc_begin() {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}
inline std::uint64_t tsc_end() {
  unsigned aux;
  const std::uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

double ns_per_tsc_tick() {
  static const double value = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = tsc_begin();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(50)) {
    }
    const auto t1 = std::chrono::steady_clock::now();
    const std::uint64_t c1 = tsc_end();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(c1 - c0);
  }();
  return value;
}

template <class Book>
void BM_Latency(benchmark::State& state) {
  constexpr int kPasses = 4;
  Fixture<Book> f(0);
  const Scenario& sc = f.sc;
  std::vector<std::uint64_t> samples(kPasses * sc.stream.size());
  std::uint64_t overhead_min = ~std::uint64_t{0};
  for (auto _ : state) {
    std::size_t k = 0;
    for (int pass = 0; pass < kPasses; ++pass) {
      for (const Op& op : sc.stream) {
        const std::uint64_t t0 = tsc_begin();
        apply(f.book, op, f.events);
        samples[k++] = tsc_end() - t0;
      }
      f.reset();
    }
    for (int i = 0; i < 10'000; ++i) {
      const std::uint64_t t0 = tsc_begin();
      overhead_min = std::min(overhead_min, tsc_end() - t0);
    }
  }
  std::sort(samples.begin(), samples.end());
  const double scale = ns_per_tsc_tick();
  auto at = [&](double q) {
    const auto i = std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()));
    return static_cast<double>(samples[i]) * scale;
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p999_ns"] = at(0.999);
  state.counters["max_ns"] = static_cast<double>(samples.back()) * scale;
  state.counters["clock_ns"] = static_cast<double>(overhead_min) * scale;
  state.SetItemsProcessed(static_cast<std::int64_t>(samples.size()));
}
BENCHMARK_TEMPLATE(BM_Latency, OrderBook)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Latency, ReferenceBook)->Iterations(1)->Unit(benchmark::kMillisecond);

template <class Book>
void BM_Memory(benchmark::State& state) {
  const Scenario& sc = scenario(0);
  const PriceGrid exchange_grid = PriceGrid::significant_figures(2);
  double bytes_per_order = 0;
  double orders = 0;
  for (auto _ : state) {
    const std::int64_t before = g_live_bytes.load();
    {
      Book book(state.range(0) == 3   ? PriceGrid::uniform(100)
                : state.range(0) == 4 ? exchange_grid
                                      : stream_grid(0));
      std::vector<MatchEvent> events;
      events.reserve(1 << 16);
      const std::int64_t events_bytes = g_live_bytes.load() - before;
      OrderId oid = 1;
      auto rest = [&](Side side, Px px) {
        RestingOrder order;
        order.oid = oid++;
        order.owner = 1;
        order.side = side;
        order.px = px;
        order.sz = order.orig_sz = 10;
        book.place(order, TimeInForce::Gtc, events);
        events.clear();
      };
      if (state.range(0) == 0) {
        for (const Op& op : sc.initial) apply(book, op, events);
        for (const Op& op : sc.stream) apply(book, op, events);
      } else if (state.range(0) == 1) {
        for (int i = 0; i < 1'000'000; ++i)
          rest(i % 2 ? Side::Ask : Side::Bid,
               (kMidTicks + (i % 2 ? 1 : -1) * (1 + (i / 2) % 1000)) * kTick);
      } else if (state.range(0) == 2) {
        // Around 24576 USD, so that the bids 500 pages down stay positive.
        constexpr Px kSpreadMid = 4096 * 600;
        for (int i = 0; i < 1000; ++i)
          rest(i % 2 ? Side::Ask : Side::Bid,
               (kSpreadMid + (i % 2 ? 1 : -1) * 4096 * (1 + i / 2)) * kTick);
      } else {
        const std::int64_t thousand = exchange_grid.level(1'000'000'000);
        for (int i = 0; i < 20'000; ++i)
          rest(i % 2 ? Side::Ask : Side::Bid,
               exchange_grid.price(thousand + (i % 2 ? 1 : -1) * (1 + i / 2)));
      }
      orders = static_cast<double>(book.size());
      const auto held = g_live_bytes.load() - before - events_bytes;
      bytes_per_order = (static_cast<double>(held) + sizeof(Book)) / orders;
    }
  }
  state.counters["orders"] = orders;
  state.counters["bytes_per_order"] = bytes_per_order;
}
BENCHMARK_TEMPLATE(BM_Memory, OrderBook)->DenseRange(0, 4)->Iterations(1);
BENCHMARK_TEMPLATE(BM_Memory, ReferenceBook)->DenseRange(0, 4)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
