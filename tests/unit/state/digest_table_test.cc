// The app-hash digest table against a std::map model: keys spread over many segments by splits,
// and keys that a poor hash piles into one segment until it stops splitting and overflows.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>

#include "state/digest_table.h"

namespace {
using namespace state;

std::string random_key(std::mt19937_64& rng, std::size_t size) {
  std::string key(size, '\0');
  for (auto& c : key) c = static_cast<char>(rng());
  return key;
}

Hash256 digest_of(std::uint64_t n) {
  Hash256 digest;
  for (std::size_t i = 0; i < digest.size(); ++i)
    digest.bytes[i] = static_cast<std::uint8_t>(n >> (8 * (i % 8)));
  return digest;
}

// Random inserts, rewrites and erases; every key of the model is looked up now and then, and
// erased keys must be gone.
void run_against_model(DigestTable& table, DigestTable::HashFunction hash, std::uint64_t seed,
                       int ops, std::size_t max_key) {
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::map<std::string, Hash256> model;
  std::vector<std::string> keys;  // every key ever inserted, erased ones included
  auto check_all = [&] {
    REQUIRE(table.size() == model.size());
    for (const auto& [key, digest] : model) {
      const Hash256* found = table.find(key, hash(key));
      REQUIRE(found != nullptr);
      REQUIRE(*found == digest);
    }
    for (const auto& key : keys)
      if (!model.contains(key)) REQUIRE(table.find(key, hash(key)) == nullptr);
  };
  for (int op = 1; op <= ops; ++op) {
    const unsigned kind = rng() % 10;
    if (kind < 6 || keys.empty()) {
      std::string key = random_key(rng, 1 + rng() % max_key);
      if (model.contains(key)) continue;
      model[key] = digest_of(op);
      table.insert(key, hash(key), model[key]);
      keys.push_back(std::move(key));
    } else {
      const std::string& key = keys[rng() % keys.size()];
      Hash256* found = table.find(key, hash(key));
      REQUIRE((found != nullptr) == model.contains(key));
      if (!found) continue;
      if (kind < 8) {
        *found = model[key] = digest_of(op);
      } else {
        table.erase(key, hash(key));
        model.erase(key);
      }
    }
    if (op % 9'973 == 0) check_all();
  }
  check_all();
}

}  // namespace

TEST_CASE("digest table: splits keep every key (seeded, randomized)", "[commitment]") {
  for (std::uint64_t seed : {11u, static_cast<unsigned>(std::random_device{}())}) {
    DigestTable table;
    // Keys up to 40 bytes: the ones past the inline 30 live in the overflow map.
    run_against_model(table, &DigestTable::hash, seed, 60'000, 40);
    // ~24,000 keys, at most 3,072 a segment: at least seven splits happened.
    CHECK(table.segment_count() >= 8);
  }
}

// Keys starting with 'a' (most of them) get hashes whose top 4 bits are 0: their sixteenth of the
// directory splits deep while the rest stays shallow, so a split there moves a run of several
// directory entries to the sibling (with an even hash, a run of one or two).
std::size_t skewed(std::string_view key) {
  const std::size_t hash = DigestTable::hash(key);
  return !key.empty() && key[0] == 'a' ? hash >> 4 : hash;
}
std::string skewed_key_source(std::mt19937_64& rng) {
  std::string key = random_key(rng, 4 + rng() % 20);
  if (rng() % 10 < 8) key[0] = 'a';
  return key;
}

TEST_CASE("digest table: splits of shallow segments under a deep directory keep every key",
          "[commitment]") {
  DigestTable table(&skewed);
  std::mt19937_64 rng(3);
  std::map<std::string, Hash256> model;
  std::vector<std::string> keys;  // every key inserted, erased ones included
  for (int i = 0; i < 80'000; ++i) {
    std::string key = skewed_key_source(rng);
    if (model.contains(key)) continue;
    model[key] = digest_of(i);
    table.insert(key, skewed(key), model[key]);
    keys.push_back(std::move(key));
    if (i % 4 == 3) {  // erase an earlier key now and then
      const std::string& victim = keys[rng() % keys.size()];
      if (model.erase(victim)) table.erase(victim, skewed(victim));
    }
  }
  REQUIRE(table.size() == model.size());
  for (const auto& [key, digest] : model) {
    const Hash256* found = table.find(key, skewed(key));
    REQUIRE(found != nullptr);
    REQUIRE(*found == digest);
  }
}

// A hash with no leading bits set sends every key to the same directory entry: the segment
// splits to the depth limit (each split moving nothing) and the rest overflow, still correct.
std::size_t low_bits_only(std::string_view key) {
  return DigestTable::hash(key) & 0xffff;
}

TEST_CASE("digest table: keys sharing every leading hash bit overflow once it stops splitting",
          "[commitment]") {
  DigestTable table(&low_bits_only);
  std::mt19937_64 rng(5);
  std::map<std::string, Hash256> model;
  for (int i = 0; i < 5'000; ++i) {
    const std::string key = random_key(rng, 12);
    model[key] = digest_of(i);
    table.insert(key, low_bits_only(key), model[key]);
  }
  CHECK(table.segment_count() == 1 + DigestTable::kMaxDepth);
  REQUIRE(table.size() == model.size());
  int erased = 0;
  for (const auto& [key, digest] : model) {
    const Hash256* found = table.find(key, low_bits_only(key));
    REQUIRE(found != nullptr);
    REQUIRE(*found == digest);
    if (++erased % 2) table.erase(key, low_bits_only(key));
  }
  erased = 0;
  for (const auto& [key, digest] : model) {
    const Hash256* found = table.find(key, low_bits_only(key));
    if (++erased % 2) {
      REQUIRE(found == nullptr);
    } else {
      REQUIRE(found != nullptr);
      REQUIRE(*found == digest);
    }
  }
  CHECK(table.size() == model.size() / 2);
  // New keys fill the deepest segment's freed room, then overflow again; all stay findable.
  std::map<std::string, Hash256> kept;
  erased = 0;
  for (const auto& [key, digest] : model)
    if (++erased % 2 == 0) kept[key] = digest;
  for (int i = 0; i < 4'000; ++i) {
    const std::string key = random_key(rng, 12);
    if (kept.contains(key)) continue;
    kept[key] = digest_of(100'000 + i);
    table.insert(key, low_bits_only(key), kept[key]);
  }
  REQUIRE(table.size() == kept.size());
  for (const auto& [key, digest] : kept) {
    const Hash256* found = table.find(key, low_bits_only(key));
    REQUIRE(found != nullptr);
    REQUIRE(*found == digest);
  }
}
