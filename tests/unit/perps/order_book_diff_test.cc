// Differential test: random operation streams applied to the fast perps::OrderBook and the
// obviously correct perps::ReferenceBook must give the same outcome, the same events in the same
// order and the same best prices after every operation, and the same book hash and L2 depth
// every 100 operations.
//
// The stream: Gtc/Ioc/Alo places of either side at prices scattered around a drifting mid (so
// orders cross and rest in about equal measure), owners from a small set (so self-trades happen),
// cancels and reduce_size of live, dead and never-used oids. Each profile stresses a different
// part of the fast book: a narrow range (deep levels, self-trades), a wide one that keeps
// crossing 4096-level page boundaries, prices near 2^60 on a coarse tick, and the exchange's
// significant-figure grid (perps/price_grid.h) around decade boundaries, where the grid step
// changes tenfold between adjacent levels. Prices are drawn as levels of the profile's grid and
// mapped with grid.price(level), so every price is valid.
//
// The seed is printed on failure; PERPD_SEED=<n> replaces every profile's seed to reproduce one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "perps/book_hash.h"
#include "perps/order_book.h"
#include "perps/price_grid.h"
#include "perps/reference_book.h"

using namespace perps;

namespace {

struct Profile {
  const char* name;
  std::uint64_t seed;
  int ops;
  PriceGrid grid;
  std::int64_t mid;         // starting mid, a level of grid
  std::int64_t spread;      // places land within mid +- spread levels
  std::int64_t drift;       // the mid moves by up to +- drift levels per operation
  AccountId owners;         // owners are 1..owners
  std::size_t target_size;  // above this many resting orders, cancels become more likely
  std::int64_t wander = 0;  // if not 0, the mid stays within the starting mid +- wander levels
  Px boundary = 0;          // if not 0, places must land on both sides of this price
};

std::string describe(const MatchEvent& e) {
  std::ostringstream out;
  out << (e.kind == MatchEvent::Kind::Fill ? "fill" : "expire") << " #" << e.maker_oid << " a"
      << e.maker << " " << e.sz << "@" << e.px << (e.maker_done ? " done" : "");
  return out.str();
}

std::string describe(const std::vector<MatchEvent>& events) {
  std::string out;
  for (const MatchEvent& e : events) out += describe(e) + "; ";
  return out;
}

std::string describe(const std::optional<Px>& px) {
  return px ? std::to_string(*px) : "none";
}

std::string describe(const RestingOrder* o) {
  if (!o) return "absent";
  std::ostringstream out;
  out << "#" << o->oid << " a" << o->owner << " side" << static_cast<int>(o->side) << " " << o->sz
      << "/" << o->orig_sz << "@" << o->px << " t" << o->time_ms << " ro" << o->reduce_only
      << " cloid" << static_cast<int>(o->cloid.bytes[0]);
  return out.str();
}

bool same_order(const RestingOrder* a, const RestingOrder* b) {
  if (!a || !b) return a == b;
  return a->oid == b->oid && a->owner == b->owner && a->side == b->side && a->px == b->px &&
         a->sz == b->sz && a->orig_sz == b->orig_sz && a->time_ms == b->time_ms &&
         a->reduce_only == b->reduce_only && a->cloid == b->cloid;
}

bool same_events(const std::vector<MatchEvent>& a, const std::vector<MatchEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const MatchEvent &x = a[i], &y = b[i];
    if (x.kind != y.kind || x.maker_oid != y.maker_oid || x.maker != y.maker || x.px != y.px ||
        x.sz != y.sz || x.maker_done != y.maker_done)
      return false;
  }
  return true;
}

std::uint64_t seed_for(const Profile& profile) {
  if (const char* env = std::getenv("PERPD_SEED")) return std::strtoull(env, nullptr, 0);
  return profile.seed;
}

// Returns the most orders resting at once.
std::size_t run(const Profile& profile) {
  const std::uint64_t seed = seed_for(profile);
  INFO("profile " << profile.name << " seed " << seed << " (rerun with PERPD_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  auto chance = [&](int percent) { return uniform(1, 100) <= percent; };

  OrderBook fast(profile.grid);
  ReferenceBook reference(profile.grid);
  std::vector<MatchEvent> fast_events, reference_events;
  std::vector<BookLevel> fast_levels, reference_levels;
  std::int64_t mid = profile.mid;
  OrderId next_oid = 1;
  std::uint64_t time_ms = 1'700'000'000'000;
  std::size_t fills = 0, expiries = 0, rested = 0, cancels = 0, below = 0, above = 0, peak = 0;

  for (int op = 0; op < profile.ops; ++op) {
    INFO("operation " << op);
    mid += uniform(-profile.drift, profile.drift);
    mid = std::max(mid, profile.spread + 1);  // keep every price positive
    if (profile.wander != 0)
      mid = std::clamp(mid, profile.mid - profile.wander, profile.mid + profile.wander);
    time_ms += static_cast<std::uint64_t>(uniform(0, 3));
    fast_events.clear();
    reference_events.clear();
    std::string what;  // the operation, for the failure message

    const int roll = static_cast<int>(uniform(1, 100));
    const int cancel_share = fast.size() > profile.target_size ? 40 : 12;
    if (roll <= cancel_share) {
      // Mostly recent oids: live ones, filled or cancelled ones, and a few never used.
      const auto lo = static_cast<std::int64_t>(next_oid > 3000 ? next_oid - 3000 : 1);
      const auto oid = static_cast<OrderId>(uniform(lo, static_cast<std::int64_t>(next_oid) + 3));
      what = "cancel " + std::to_string(oid);
      const std::optional<RestingOrder> a = fast.cancel(oid);
      const std::optional<RestingOrder> b = reference.cancel(oid);
      cancels += a.has_value();
      if (a.has_value() != b.has_value() || !same_order(a ? &*a : nullptr, b ? &*b : nullptr))
        FAIL(what << ": fast " << describe(a ? &*a : nullptr) << " reference "
                  << describe(b ? &*b : nullptr));
    } else if (roll <= cancel_share + 8) {
      const auto lo = static_cast<std::int64_t>(next_oid > 3000 ? next_oid - 3000 : 1);
      const auto oid = static_cast<OrderId>(uniform(lo, static_cast<std::int64_t>(next_oid)));
      const RestingOrder* live = reference.find(oid);
      // Mostly valid reductions; sometimes 0, negative or growing ones that must be refused.
      const Lots new_sz = live && chance(85) ? uniform(1, live->sz) : uniform(-1, 30);
      what = "reduce " + std::to_string(oid) + " to " + std::to_string(new_sz);
      const bool a = fast.reduce_size(oid, new_sz);
      const bool b = reference.reduce_size(oid, new_sz);
      if (a != b) FAIL(what << ": fast " << a << " reference " << b);
    } else {
      RestingOrder order;
      order.oid = next_oid++;
      order.owner = static_cast<AccountId>(uniform(1, profile.owners));
      order.side = chance(50) ? Side::Bid : Side::Ask;
      // Bids lean below the mid and asks above, so books build up and cross often.
      const std::int64_t lean = order.side == Side::Bid ? -profile.spread / 4 : profile.spread / 4;
      const std::int64_t level = mid + lean + uniform(-profile.spread, profile.spread);
      order.px = profile.grid.price(std::max<std::int64_t>(level, 1));
      if (!profile.grid.valid(order.px))
        FAIL("level " << level << " gave invalid price " << order.px);
      (order.px < profile.boundary ? below : above) += 1;
      order.sz = order.orig_sz = chance(90) ? uniform(1, 20) : uniform(21, 500);
      order.time_ms = time_ms;
      order.reduce_only = chance(10);
      order.cloid.bytes[0] = static_cast<std::uint8_t>(order.oid);
      const int t = static_cast<int>(uniform(1, 100));
      const TimeInForce tif = t <= 60   ? TimeInForce::Gtc
                              : t <= 80 ? TimeInForce::Ioc
                                        : TimeInForce::Alo;
      what = "place " + describe(&order) + " tif" + std::to_string(static_cast<int>(tif));
      const PlaceOutcome a = fast.place(order, tif, fast_events);
      const PlaceOutcome b = reference.place(order, tif, reference_events);
      if (a.status != b.status || a.filled != b.filled)
        FAIL(what << ": fast status " << static_cast<int>(a.status) << " filled " << a.filled
                  << ", reference status " << static_cast<int>(b.status) << " filled " << b.filled);
      if (!same_events(fast_events, reference_events))
        FAIL(what << ": fast events " << describe(fast_events) << " reference events "
                  << describe(reference_events));
      if (!same_order(fast.find(order.oid), reference.find(order.oid)))
        FAIL(what << ": fast finds " << describe(fast.find(order.oid)) << " reference finds "
                  << describe(reference.find(order.oid)));
      for (const MatchEvent& e : reference_events)
        (e.kind == MatchEvent::Kind::Fill ? fills : expiries) += 1;
      rested += b.status == PlaceOutcome::Status::Rested;
    }

    if (fast.best_bid() != reference.best_bid() || fast.best_ask() != reference.best_ask() ||
        fast.size() != reference.size())
      FAIL(what << ": fast bid " << describe(fast.best_bid()) << " ask "
                << describe(fast.best_ask()) << " size " << fast.size() << ", reference bid "
                << describe(reference.best_bid()) << " ask " << describe(reference.best_ask())
                << " size " << reference.size());
    peak = std::max(peak, fast.size());
    if (op % 100 == 99 || op == profile.ops - 1) {
      if (book_hash(fast) != book_hash(reference)) FAIL(what << ": book hashes differ");
      for (Side side : {Side::Bid, Side::Ask}) {
        fast.levels(side, 1'000'000, fast_levels);
        reference.levels(side, 1'000'000, reference_levels);
        if (fast_levels != reference_levels) FAIL(what << ": L2 levels differ");
        // A bounded depth must be a prefix of the full one.
        fast.levels(side, 5, fast_levels);
        reference.levels(side, 5, reference_levels);
        if (fast_levels != reference_levels) FAIL(what << ": top 5 levels differ");
      }
    }
  }
  // The stream must have exercised what it is meant to: fail loudly if a profile degenerates.
  CHECK(fills > static_cast<std::size_t>(profile.ops) / 10);
  CHECK(expiries > 100);
  CHECK(rested > static_cast<std::size_t>(profile.ops) / 10);
  CHECK(cancels > static_cast<std::size_t>(profile.ops) / 50);
  if (profile.boundary != 0) {
    CHECK(below > static_cast<std::size_t>(profile.ops) / 10);
    CHECK(above > static_cast<std::size_t>(profile.ops) / 10);
  }
  return peak;
}

}  // namespace

TEST_CASE("fast and reference books agree on random streams in a narrow range", "[book]") {
  run({"narrow", 1, 60'000, PriceGrid::uniform(1), 1'000, 20, 1, 4, 400});
  run({"narrow many owners", 2, 40'000, PriceGrid::uniform(5), 200, 10, 1, 12, 300});
}

TEST_CASE("fast and reference books agree on random streams across page boundaries", "[book]") {
  // The mid starts one page below a boundary and wanders; spread reaches over several pages.
  run({"wide", 3, 50'000, PriceGrid::uniform(1), 4096 * 3 - 100, 6000, 40, 4, 1500});
}

TEST_CASE("fast and reference books agree with thousands resting (oid index regrowth)", "[book]") {
  // Up to ~12,000 resting orders: the oid index doubles several times while cancels and fills
  // remove oids placed before and after each rehash.
  CHECK(run({"deep book", 7, 80'000, PriceGrid::uniform(1), 100'000, 3000, 2, 6, 12'000}) > 9'000);
}

TEST_CASE("fast and reference books agree on random streams near 2^60", "[book]") {
  constexpr Px kTick = 1'000;
  // Just above a page boundary of the fast book, so the wandering mid straddles it.
  constexpr Px kMid = (Px{1} << 60) / kTick / 4096 * 4096 + 50;
  run({"huge prices", 4, 50'000, PriceGrid::uniform(kTick), kMid, 300, 5, 3, 800});
}

TEST_CASE("fast and reference books agree on random streams on significant figure grids",
          "[book]") {
  // szDecimals 2, as the exchange builds it: 0.1 USD steps below 10000 USD and 1 USD steps above,
  // so 9990 to 10010 USD is 100 levels below the boundary and 10 above; 0.001 USD steps below
  // 100 USD and 0.01 USD above.
  const PriceGrid grid = PriceGrid::significant_figures(2);
  constexpr Px kTenThousand = 10'000'000'000;
  constexpr Px kHundred = 100'000'000;
  run({"significant figures near 10000 USD", 5, 50'000, grid, grid.level(kTenThousand), 100, 2, 4,
       800, 60, kTenThousand});
  run({"significant figures near 100 USD", 6, 50'000, grid, grid.level(kHundred), 100, 2, 4, 800,
       60, kHundred});
}
