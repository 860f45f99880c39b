// The app hash: order-independent, incremental updates equal a from-scratch recomputation, and
// the KV stores (memory and LevelDB) agree.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "state/keccak.h"
#include "state/state_commitment.h"

using namespace state;

TEST_CASE("LtHash16: add then remove is the identity and order does not matter", "[commitment]") {
  LtHash16 empty;
  LtHash16 h;
  Hash256 a = keccak256("a"), b = keccak256("b");
  h.add(a);
  h.add(b);
  LtHash16 reversed;
  reversed.add(b);
  reversed.add(a);
  CHECK(h == reversed);
  CHECK(h.checksum() == reversed.checksum());
  h.remove(a);
  h.remove(b);
  CHECK(h == empty);
  // A multiset: adding an element twice differs from adding it once.
  LtHash16 once, twice;
  once.add(a);
  twice.add(a);
  twice.add(a);
  CHECK(once.checksum() != twice.checksum());
}

TEST_CASE("state elements bind key and value apart", "[commitment]") {
  // ("ab", "c") and ("a", "bc") concatenate alike; the length prefix tells them apart.
  CHECK(state_element("ab", "c") != state_element("a", "bc"));
}

TEST_CASE("incremental commitment equals recomputation from the store", "[commitment]") {
  std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  MemKvStore store;
  StateCommitment commitment;
  for (int round = 0; round < 50; ++round) {
    WriteBatch batch;
    for (int i = 0; i < 40; ++i) {
      std::string key = std::to_string(rng() % 100);
      std::string stored_key = "s/" + key;
      if (rng() % 4 == 0) {
        batch.del(stored_key);
        commitment.set(key, std::nullopt);
      } else {
        std::string value = std::to_string(rng());
        batch.put(stored_key, value);
        commitment.set(key, value);
      }
    }
    REQUIRE(store.write(batch).ok());
    auto recomputed = StateCommitment::recompute(store, "s/");
    REQUIRE(recomputed.ok());
    CHECK(*recomputed == commitment.app_hash());
  }
  MemKvStore empty_store;
  CHECK(*StateCommitment::recompute(empty_store, "s/") == StateCommitment().app_hash());
}

TEST_CASE("LevelDB store: atomic batches - ordered prefix scans - reopen keeps data", "[kv]") {
  auto dir = std::filesystem::temp_directory_path() / ("perpd-kv-" + std::to_string(std::random_device{}()));
  {
    auto db = open_leveldb(dir.string(), true);
    REQUIRE(db.ok());
    WriteBatch batch;
    batch.put("s/b", "2");
    batch.put("s/a", "1");
    batch.put("t/x", "9");
    batch.put("s/c", "3");
    batch.del("s/c");
    REQUIRE((*db)->write(batch).ok());
  }
  auto db = open_leveldb(dir.string(), false);
  REQUIRE(db.ok());
  CHECK(*(*db)->get("s/a").value() == "1");
  CHECK_FALSE((*db)->get("s/c").value().has_value());
  std::string seen;
  REQUIRE((*db)->scan("s/", [&](std::string_view k, std::string_view v) {
                 seen.append(k).append("=").append(v).append(";");
                 return true;
               }).ok());
  CHECK(seen == "s/a=1;s/b=2;");
  db = open_leveldb((dir / "missing").string(), false);
  CHECK(db.reason() == Reason::StorageError);
  std::filesystem::remove_all(dir);
}
