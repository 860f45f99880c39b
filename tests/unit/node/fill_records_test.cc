// perp_fills' storage: one record per user per block, read newest first with a limit, a time
// window and a bound on how far back a query looks; and the one-time move of records written
// before it (one "c/e/" record per block) when a node starts.
#include "node/fill_records.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "node/node.h"
#include "node_scratch.h"
#include "perps/event_codec.h"

using node::BlockStore;
using perps::FillEvent;

namespace {

state::Address user_named(std::uint8_t n) {
  state::Address a;
  a.bytes.fill(n);
  return a;
}

FillEvent fill(std::uint8_t user, std::uint64_t tid, std::uint64_t time_ms) {
  FillEvent f;
  f.user = user_named(user);
  f.tid = tid;
  f.time_ms = time_ms;
  f.px = 1'000'000 * static_cast<std::int64_t>(tid);
  return f;
}

// Heights 1-5 at times 1000 * height; user 1 trades twice in blocks 1, 3 and 5 (trade ids
// 10 * height + 1 and + 2), user 2 once in blocks 2 and 3.
std::vector<std::vector<FillEvent>> blocks_of_fills() {
  std::vector<std::vector<FillEvent>> blocks(6);
  for (std::uint64_t h : {1, 3, 5}) {
    blocks[h].push_back(fill(1, 10 * h + 1, 1000 * h));
    blocks[h].push_back(fill(1, 10 * h + 2, 1000 * h));
  }
  for (std::uint64_t h : {2, 3}) blocks[h].push_back(fill(2, 10 * h + 5, 1000 * h));
  return blocks;
}

constexpr std::uint64_t kTop = UINT64_MAX;  // no height cap

std::vector<std::uint64_t> tids(const state::Result<std::vector<FillEvent>>& fills) {
  REQUIRE(fills.ok());
  std::vector<std::uint64_t> out;
  for (const FillEvent& f : *fills) out.push_back(f.tid);
  return out;
}

}  // namespace

TEST_CASE("fills by user: newest limited - time window - bounded look-back - damage",
          "[node][fills]") {
  state::MemKvStore kv;
  BlockStore store(kv);
  const auto blocks = blocks_of_fills();
  for (std::uint64_t h = 1; h < blocks.size(); ++h) {
    state::WriteBatch batch;
    BlockStore::add_user_fills(batch, h, node::fills_by_user(blocks[h]));
    REQUIRE(kv.write(batch).ok());
  }
  const state::Address one = user_named(1), two = user_named(2);
  using V = std::vector<std::uint64_t>;
  constexpr std::uint64_t kAll = UINT64_MAX;
  CHECK(tids(node::recent_fills(store, one, 0, kAll, 500, 10'000, kTop)) ==
        V{11, 12, 31, 32, 51, 52});
  CHECK(tids(node::recent_fills(store, one, 0, kAll, 3, 10'000, kTop)) ==
        V{32, 51, 52});  // newest 3
  CHECK(tids(node::recent_fills(store, one, 3000, 3000, 500, 10'000, kTop)) == V{31, 32});
  CHECK(tids(node::recent_fills(store, one, 0, 4000, 500, 10'000, kTop)) == V{11, 12, 31, 32});
  CHECK(tids(node::recent_fills(store, one, 2000, kAll, 500, 10'000, kTop)) == V{31, 32, 51, 52});
  CHECK(tids(node::recent_fills(store, one, 0, kAll, 500, 3, kTop)) == V{32, 51, 52});
  // Looking back over 3 fills: 52 and 51 are past endTime, 32 is the only one in the window.
  CHECK(tids(node::recent_fills(store, one, 0, 3000, 500, 3, kTop)) == V{32});
  CHECK(tids(node::recent_fills(store, one, 0, kAll, 500, 10'000, 4)) == V{11, 12, 31, 32});
  CHECK(tids(node::recent_fills(store, one, 3000, 2000, 500, 10'000, kTop)).empty());
  CHECK(tids(node::recent_fills(store, two, 0, kAll, 500, 10'000, kTop)) == V{25, 35});
  CHECK(tids(node::recent_fills(store, user_named(3), 0, kAll, 500, 10'000, kTop)).empty());

  // One record per user per block, each user's fills in execution order.
  const auto records = node::fills_by_user(blocks[3]);
  REQUIRE(records.size() == 2);
  CHECK(records[0].user == one);
  auto decoded = perps::decode_fill_events(records[0].events);
  REQUIRE(decoded.ok());
  REQUIRE(decoded->size() == 2);
  CHECK((*decoded)[0].tid == 31);
  CHECK((*decoded)[1].tid == 32);
  // An enum byte out of range is damage, not a default value: the side is at byte 60 (after the
  // count, market, user, oid, tid, px and sz), the direction at byte 78.
  for (const auto& [at, value] : {std::pair{60, 2}, std::pair{78, 6}}) {
    std::string bad = records[0].events;
    bad[static_cast<std::size_t>(at)] = static_cast<char>(value);
    CHECK_FALSE(perps::decode_fill_events(bad).ok());
  }

  state::WriteBatch damage;
  node::UserFills garbage{one, "not a fill record"};
  BlockStore::add_user_fills(damage, 4, {garbage});
  REQUIRE(kv.write(damage).ok());
  auto damaged = node::recent_fills(store, one, 0, kAll, 500, 10'000, kTop);
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.error().reason == state::Reason::StorageError);
  CHECK(damaged.error().message.find("height 4") != std::string::npos);
  // A record holding another user's fills is damage too.
  state::WriteBatch misfiled;
  BlockStore::add_user_fills(misfiled, 6, {node::UserFills{two, records[0].events}});
  REQUIRE(kv.write(misfiled).ok());
  CHECK_FALSE(node::recent_fills(store, two, 0, kAll, 500, 10'000, kTop).ok());
  // With its limit reached in block 5, the scan stops before it reaches the damaged block.
  CHECK(tids(node::recent_fills(store, one, 0, kAll, 2, 10'000, kTop)) == V{51, 52});
}

TEST_CASE("a node moves per-block event records of older nodes to per-user records at start",
          "[node][fills]") {
  const perps::GenesisState genesis = test_support::local_genesis();
  const auto dir = test_support::scratch_dir("perpd-fills");
  node::NodeOptions options = test_support::node_options();
  REQUIRE(node::Node::open(genesis, dir.string(), options).ok());  // genesis written
  const auto blocks = blocks_of_fills();
  {  // as an older node left them: "c/e/" + height -> all of the block's events
    auto kv = state::open_leveldb(dir.string(), false);
    REQUIRE(kv.ok());
    auto legacy_key = [](std::uint64_t h) {
      std::string key = "c/e/";
      for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(h >> shift));
      return key;
    };
    state::WriteBatch batch;
    for (std::uint64_t h = 1; h < blocks.size(); ++h)
      batch.put(legacy_key(h), perps::encode_fill_events(blocks[h]));
    // Blocks without fills, more than one write's worth, and one record that does not decode.
    for (std::uint64_t h = 100; h < 5'100; ++h)
      batch.put(legacy_key(h), perps::encode_fill_events({}));
    batch.put(legacy_key(50), "garbage");
    REQUIRE((*kv)->write(batch).ok());
  }
  REQUIRE(node::Node::open(genesis, dir.string(), options).ok());  // moves them
  {
    auto kv = state::open_leveldb(dir.string(), false);
    REQUIRE(kv.ok());
    std::size_t legacy = 0;
    REQUIRE((*kv)
                ->scan("c/e/",
                       [&](std::string_view, std::string_view) {
                         ++legacy;
                         return true;
                       })
                .ok());
    CHECK(legacy == 0);
    std::vector<std::string> set_aside;
    REQUIRE((*kv)
                ->scan("c/e-damaged/",
                       [&](std::string_view key, std::string_view value) {
                         set_aside.emplace_back(value);
                         CHECK(static_cast<unsigned char>(key.back()) == 50);
                         return true;
                       })
                .ok());
    CHECK(set_aside == std::vector<std::string>{"garbage"});
    BlockStore store(**kv);
    using V = std::vector<std::uint64_t>;
    CHECK(tids(node::recent_fills(store, user_named(1), 0, UINT64_MAX, 500, 10'000, kTop)) ==
          V{11, 12, 31, 32, 51, 52});
    CHECK(tids(node::recent_fills(store, user_named(2), 0, UINT64_MAX, 500, 10'000, kTop)) ==
          V{25, 35});
  }
  std::filesystem::remove_all(dir);
}
