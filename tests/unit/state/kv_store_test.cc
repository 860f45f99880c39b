// Both stores scan a prefix's keys in ascending and descending order, including prefixes that end
// in 0xff bytes (no key is "just past" them) and a visitor that stops early.
#include "state/kv_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

using namespace state;

namespace {

const std::vector<std::string> kKeys = {
    "a", std::string("b\x00", 2), "b\x01", "b\x7f", "b\xff", "b\xff\xff", "c", "\xff", "\xff\x01"};

std::vector<std::string> scanned(const KvStore& store, std::string_view prefix, bool reverse,
                                 std::size_t stop_after = SIZE_MAX) {
  std::vector<std::string> keys;
  auto visit = [&](std::string_view key, std::string_view value) {
    CHECK(value == "v" + std::string(key));
    keys.emplace_back(key);
    return keys.size() < stop_after;
  };
  REQUIRE((reverse ? store.scan_reverse(prefix, visit) : store.scan(prefix, visit)).ok());
  return keys;
}

std::vector<std::string> scanned_from(const KvStore& store, std::string_view prefix,
                                      std::string_view start) {
  std::vector<std::string> keys;
  REQUIRE(store
              .scan_from(prefix, start,
                         [&](std::string_view key, std::string_view) {
                           keys.emplace_back(key);
                           return true;
                         })
              .ok());
  return keys;
}

void check_scans(KvStore& store) {
  WriteBatch batch;
  for (const auto& k : kKeys) batch.put(k, "v" + k);
  REQUIRE(store.write(batch).ok());
  using V = std::vector<std::string>;
  CHECK(scanned(store, "b", false) ==
        V{std::string("b\x00", 2), "b\x01", "b\x7f", "b\xff", "b\xff\xff"});
  CHECK(scanned(store, "b", true) ==
        V{"b\xff\xff", "b\xff", "b\x7f", "b\x01", std::string("b\x00", 2)});
  CHECK(scanned(store, "b\xff", true) == V{"b\xff\xff", "b\xff"});
  CHECK(scanned(store, "\xff", true) == V{"\xff\x01", "\xff"});  // nothing past it: from the end
  CHECK(scanned(store, "\xff\x01", true) == V{"\xff\x01"});      // "\xff\x02" is past it, no key is
  CHECK(scanned(store, "a", true) == V{"a"});                    // the first key of the store
  CHECK(scanned(store, "bb", true).empty());
  CHECK(scanned(store, "d", true).empty());
  CHECK(scanned(store, "", true).size() == kKeys.size());
  CHECK(scanned(store, "b", true, 2) == V{"b\xff\xff", "b\xff"});  // the visitor stops
  // Resuming: from a key inside the prefix, from before it (all of it), from past it (none).
  CHECK(scanned_from(store, "b", "b\x7f") == V{"b\x7f", "b\xff", "b\xff\xff"});
  CHECK(scanned_from(store, "b", "a") == scanned(store, "b", false));
  CHECK(scanned_from(store, "b", "c").empty());
}

}  // namespace

TEST_CASE("scan - scan_from - scan_reverse: a prefix's keys in order - 0xff prefixes - early stop",
          "[kv_store]") {
  SECTION("memory") {
    MemKvStore store;
    check_scans(store);
  }
  SECTION("LevelDB") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("perpd-kv-" + std::to_string(std::random_device{}()));
    {
      auto store = open_leveldb(dir.string(), true);
      REQUIRE(store.ok());
      check_scans(**store);
    }
    std::filesystem::remove_all(dir);
  }
}
