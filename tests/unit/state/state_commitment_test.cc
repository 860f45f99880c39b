// The app hash: its exact definition (known answers computed independently with Python's
// hashlib and cryptography), LtHash identities, order independence, incremental updates against a
// naive from-scratch computation written straight on OpenSSL, and recomputation from the KV stores
// (memory and LevelDB).
#include <openssl/evp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <vector>

#include "state/keccak.h"
#include "state/sha256.h"
#include "state/state_commitment.h"

using namespace state;

namespace {

Hash256 hash_from_hex(std::string_view hex) {
  return *parse_fixed_hex<32>(hex);
}

// The definition of docs/protocol.md, spelled out without the production code's shortcuts (digest
// table, reused contexts, one-pass replace): fresh OpenSSL contexts per element.
Hash256 naive_app_hash(const std::map<std::string, std::string>& state) {
  std::uint16_t lanes[1024] = {};
  for (const auto& [key, value] : state) {
    std::string record(4, '\0');
    const std::uint32_t len = static_cast<std::uint32_t>(key.size());
    for (int i = 0; i < 4; ++i) record[i] = static_cast<char>(len >> (24 - 8 * i));
    record += key;
    record += value;
    std::uint8_t element[32];
    unsigned int element_len = 0;
    REQUIRE(EVP_Digest(record.data(), record.size(), element, &element_len, EVP_sha256(),
                       nullptr) == 1);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::uint8_t zeros[2048] = {}, stream[2048];
    int stream_len = 0;
    REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, element, element + 16) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, stream, &stream_len, zeros, sizeof zeros) == 1);
    EVP_CIPHER_CTX_free(ctx);
    for (int i = 0; i < 1024; ++i)
      lanes[i] = static_cast<std::uint16_t>(lanes[i] + (stream[2 * i] | stream[2 * i + 1] << 8));
  }
  std::uint8_t bytes[2048];
  for (int i = 0; i < 1024; ++i) {
    bytes[2 * i] = static_cast<std::uint8_t>(lanes[i]);
    bytes[2 * i + 1] = static_cast<std::uint8_t>(lanes[i] >> 8);
  }
  Hash256 out;
  unsigned int out_len = 0;
  REQUIRE(EVP_Digest(bytes, sizeof bytes, out.data(), &out_len, EVP_sha256(), nullptr) == 1);
  return out;
}

std::string random_bytes(std::mt19937_64& rng, std::size_t size) {
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("app hash known answers (pin the definition)", "[commitment]") {
  // Computed with Python (hashlib.sha256, cryptography's AES-128-CTR); see docs/protocol.md.
  CHECK(state_element("A", "1") ==
        hash_from_hex("0xbb779c3c0be1a68a37ada8253cf1632f223bd2bd5c387414d9e6c723e252156c"));
  CHECK(StateCommitment().app_hash() ==
        hash_from_hex("0xe5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad"));
  std::string nonce_key = "N";
  for (int i = 0; i < 20; ++i) nonce_key.push_back(static_cast<char>(i));
  StateCommitment two;
  two.set("A", "1");
  two.set(nonce_key, "nonce set");
  CHECK(two.app_hash() ==
        hash_from_hex("0x467e2d2b038bf0dbb1602713e01c203638f2d478a81065cb18a338a1cfaeee50"));
  // The counter block is 128 bits wide: this digest's counter carries out of its low 64 bits.
  LtHash16 carry;
  carry.add(hash_from_hex("0x000102030405060708090a0b0c0d0e0f11111111111111fffffffffffffffff0"));
  CHECK(carry.checksum() ==
        hash_from_hex("0x1c9150bb04a0e0546e1fa2da789473a88a6e43308e7cd3c9ccacfa5d26151450"));
}

TEST_CASE("sha256 matches the FIPS 180-2 vectors, in parts or whole", "[commitment]") {
  CHECK(sha256(as_bytes("abc")) ==
        hash_from_hex("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK(sha256(as_bytes("")) ==
        hash_from_hex("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(sha256({as_bytes("ab"), as_bytes(""), as_bytes("c")}) == sha256(as_bytes("abc")));
}

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
  // Removing before adding wraps around and comes back.
  LtHash16 early;
  early.remove(a);
  early.add(a);
  CHECK(early == empty);
  // replace(old, new) is remove(old) then add(new).
  LtHash16 replaced, stepwise;
  replaced.add(a);
  stepwise.add(a);
  replaced.replace(a, b);
  stepwise.remove(a);
  stepwise.add(b);
  CHECK(replaced == stepwise);
  // A multiset: adding an element twice differs from adding it once.
  LtHash16 once, twice;
  once.add(a);
  twice.add(a);
  twice.add(a);
  CHECK(once.checksum() != twice.checksum());
}

TEST_CASE("LtHash16: the VAES path adds exactly the OpenSSL keystream", "[commitment]") {
  if (!lthash_detail::vaes_available()) {
    WARN("this CPU has no 512-bit VAES: only the portable path runs here");
    return;
  }
  std::mt19937_64 rng(7);
  std::vector<Hash256> elements;
  for (int i = 0; i < 200; ++i) {
    Hash256 e;
    for (std::size_t i = 0; i < e.size(); ++i) e.data()[i] = static_cast<std::uint8_t>(rng());
    elements.push_back(e);
  }
  // Counters whose low 32 bits wrap inside the expansion (the 64-bit add must carry), and whose
  // low 64 bits wrap (the VAES path hands these to OpenSSL).
  for (std::uint8_t last : {0x00, 0x80, 0x81, 0xff}) {
    Hash256 e = elements[0];
    for (int i = 28; i < 31; ++i) e.data()[i] = 0xff;
    e.data()[31] = last;
    elements.push_back(e);
    for (int i = 24; i < 28; ++i) e.data()[i] = 0xff;
    elements.push_back(e);
  }
  using lthash_detail::Path;
  for (const Hash256& e : elements) {
    std::array<std::uint16_t, LtHash16::kLanes> portable{}, vaes{};
    for (std::size_t i = 0; i < portable.size(); ++i)
      portable[i] = vaes[i] = static_cast<std::uint16_t>(rng());
    lthash_detail::accumulate(portable.data(), e, +1, Path::Portable);
    lthash_detail::accumulate(vaes.data(), e, +1, Path::Vaes);
    REQUIRE(portable == vaes);
    lthash_detail::accumulate(portable.data(), e, -1, Path::Portable);
    lthash_detail::accumulate(vaes.data(), e, -1, Path::Vaes);
    REQUIRE(portable == vaes);
  }
}

TEST_CASE("state elements bind key and value apart", "[commitment]") {
  // ("ab", "c") and ("a", "bc") concatenate alike; the length prefix tells them apart.
  CHECK(state_element("ab", "c") != state_element("a", "bc"));
}

TEST_CASE("StateCommitment: set/delete identities and write order independence", "[commitment]") {
  StateCommitment c;
  c.set("k1", "v1");
  const Hash256 one = c.app_hash();
  c.set("k2", "v2");
  c.set("k2", std::nullopt);
  CHECK(c.app_hash() == one);  // add then delete
  c.set("k1", "other");
  c.set("k1", "v1");
  CHECK(c.app_hash() == one);  // change then change back
  c.set("k1", "v1");
  CHECK(c.app_hash() == one);  // re-setting an equal value
  c.set("absent", std::nullopt);
  CHECK(c.app_hash() == one);  // deleting a missing key
  CHECK(c.size() == 1);
  c.set("k1", std::nullopt);
  CHECK(c.app_hash() == StateCommitment().app_hash());
  CHECK(c.size() == 0);

  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < 200; ++i)
    pairs.emplace_back("key" + std::to_string(i), std::string(i % 50, 'v'));
  pairs.emplace_back(std::string(40, 'L'), "a key past the table's inline length");
  StateCommitment forward, shuffled;
  for (const auto& [k, v] : pairs) forward.set(k, v);
  std::mt19937_64 rng(3);
  std::shuffle(pairs.begin(), pairs.end(), rng);
  for (const auto& [k, v] : pairs) shuffled.set(k, v);
  CHECK(forward.app_hash() == shuffled.app_hash());
  CHECK(forward.size() == shuffled.size());
}

TEST_CASE("incremental commitment equals a naive from-scratch computation (seeded, randomized)",
          "[commitment]") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    std::map<std::string, std::string> model;
    StateCommitment by_set, by_batch;
    for (int round = 0; round < 30; ++round) {
      WriteBatch batch;
      for (int i = 0; i < 300; ++i) {
        // Short keys (the empty one included), a small pool of keys past the table's inline
        // length, and a third of the time a key already present: rewrites, deletes, tombstones.
        std::string key =
            rng() % 8 == 0 ? std::string(31 + rng() % 3, 'L') + static_cast<char>('0' + rng() % 8)
                           : random_bytes(rng, rng() % 4);
        if (rng() % 3 == 0 && !model.empty())
          key = std::next(model.begin(), static_cast<long>(rng() % model.size()))->first;
        if (rng() % 4 == 0) {
          model.erase(key);
          by_set.set(key, std::nullopt);
          batch.del("s/" + key);
        } else {
          std::string value = random_bytes(rng, rng() % 300);
          model[key] = value;
          by_set.set(key, value);
          batch.put("s/" + key, value);
        }
      }
      by_batch.apply(batch, "s/");
      REQUIRE(by_set.size() == model.size());
      REQUIRE(by_batch.size() == model.size());
      REQUIRE(by_set.app_hash() == by_batch.app_hash());
      if (round % 10 == 9) REQUIRE(by_set.app_hash() == naive_app_hash(model));
    }
    CHECK(by_set.app_hash() == naive_app_hash(model));
  }
}

// The digest table grows by splitting segments; keys rewritten or deleted before and after their
// segment split must be found where they now live. A key lost or duplicated on the way would add
// instead of replace, and the sum would never agree with a table built in one go again.
TEST_CASE("commitment keeps every key through incremental growth (seeded, randomized)",
          "[commitment]") {
  for (std::uint64_t seed : {7u, static_cast<unsigned>(std::random_device{}())}) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    std::map<std::string, std::string> model;
    std::vector<std::string> keys;  // every key ever written, deleted ones included
    StateCommitment incremental;
    auto check = [&] {
      StateCommitment from_scratch;
      for (const auto& [key, value] : model) from_scratch.set(key, value);
      REQUIRE(incremental.app_hash() == from_scratch.app_hash());
    };
    for (int op = 1; op <= 60'000; ++op) {
      const unsigned kind = rng() % 10;
      if (kind < 6 || keys.empty()) {  // a new key: the table keeps growing
        keys.push_back(random_bytes(rng, 8 + rng() % 20));
        const std::string value = random_bytes(rng, rng() % 40);
        model[keys.back()] = value;
        incremental.set(keys.back(), value);
      } else {  // an old key, maybe moved by a split since: rewrite, delete or re-add
        const std::string& key = keys[rng() % keys.size()];
        if (kind < 8) {
          const std::string value = random_bytes(rng, rng() % 40);
          model[key] = value;
          incremental.set(key, value);
        } else {
          model.erase(key);
          incremental.set(key, std::nullopt);
        }
      }
      REQUIRE(incremental.size() == model.size());
      if (op % 6'007 == 0) check();
    }
    check();
    // Every key must still be found: rewriting it with its own value changes nothing (a lost
    // key would be added a second time), and deleting them all leaves the empty state.
    const Hash256 before = incremental.app_hash();
    for (const auto& [key, value] : model) incremental.set(key, value);
    REQUIRE(incremental.app_hash() == before);
    REQUIRE(incremental.size() == model.size());
    for (const auto& [key, value] : model) incremental.set(key, std::nullopt);
    CHECK(incremental.size() == 0);
    CHECK(incremental.app_hash() == StateCommitment().app_hash());
  }
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
      } else {
        std::string value = std::to_string(rng());
        batch.put(stored_key, value);
      }
    }
    commitment.apply(batch, "s/");
    REQUIRE(store.write(batch).ok());
    auto recomputed = StateCommitment::recompute(store, "s/");
    REQUIRE(recomputed.ok());
    CHECK(*recomputed == commitment.app_hash());
  }
  MemKvStore empty_store;
  CHECK(*StateCommitment::recompute(empty_store, "s/") == StateCommitment().app_hash());
}

TEST_CASE("LevelDB store: atomic batches - ordered prefix scans - reopen keeps data", "[kv]") {
  auto dir = std::filesystem::temp_directory_path() /
             ("perpd-kv-" + std::to_string(std::random_device{}()));
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
  REQUIRE((*db)
              ->scan("s/",
                     [&](std::string_view k, std::string_view v) {
                       seen.append(k).append("=").append(v).append(";");
                       return true;
                     })
              .ok());
  CHECK(seen == "s/a=1;s/b=2;");
  db = open_leveldb((dir / "missing").string(), false);
  CHECK(db.reason() == Reason::StorageError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("LevelDB store: a batch applied in key order keeps each key's own operations in order",
          "[kv]") {
  // The store sorts a batch by key before LevelDB sees it; a key written, deleted and written
  // again among many other keys must end as its last operation left it, as in MemKvStore.
  auto dir = std::filesystem::temp_directory_path() /
             ("perpd-kv-order-" + std::to_string(std::random_device{}()));
  {
    auto db = open_leveldb(dir.string(), true);
    REQUIRE(db.ok());
    MemKvStore model;
    std::mt19937_64 rng(7);
    WriteBatch batch;
    for (int op = 0; op < 3000; ++op) {
      const std::string key = "s/" + std::to_string(rng() % 50);
      if (rng() % 3 == 0)
        batch.del(key);
      else
        batch.put(key, std::to_string(op));
    }
    REQUIRE((*db)->write(batch).ok());
    REQUIRE(model.write(batch).ok());
    for (int k = 0; k < 50; ++k) {
      const std::string key = "s/" + std::to_string(k);
      INFO(key);
      CHECK((*db)->get(key).value() == model.get(key).value());
    }
  }  // closes the database before its files go
  std::filesystem::remove_all(dir);
}
