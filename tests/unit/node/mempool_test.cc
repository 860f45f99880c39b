// The mempool's admission rules: dedup by hash (pending, then within the window of hashes already
// taken into blocks), the count, byte and per-signer bounds, and first-in first-out taking.
#include <catch2/catch.hpp>

#include "node/mempool.h"

using namespace node;

namespace {

PendingTx tx(std::uint8_t id, std::uint8_t signer = 1, std::size_t bytes = 10) {
  PendingTx t;
  t.verified.tx_hash.data()[0] = id;
  t.verified.signer.data()[0] = signer;
  t.binary.assign(bytes, 'x');
  return t;
}

}  // namespace

TEST_CASE("mempool: duplicates pending or recently taken are refused - older ones pass", "[mempool]") {
  Mempool pool({.max_txs = 100, .max_bytes = 1'000, .max_per_signer = 100, .recent_window = 2});
  REQUIRE(pool.add(tx(1)).ok());
  CHECK(pool.add(tx(1)).reason() == state::Reason::DuplicateTx);  // pending
  REQUIRE(pool.take(1'000).size() == 1);
  CHECK_FALSE(pool.contains(tx(1).verified.tx_hash));
  CHECK(pool.add(tx(1)).reason() == state::Reason::DuplicateTx);  // taken: in the window
  REQUIRE(pool.add(tx(2)).ok());
  REQUIRE(pool.add(tx(3)).ok());
  REQUIRE(pool.take(1'000).size() == 2);  // window now holds 2 and 3: 1 has left it
  CHECK(pool.add(tx(1)).ok());            // execution's nonce rule answers this one
  CHECK(pool.add(tx(2)).reason() == state::Reason::DuplicateTx);
  CHECK(pool.add(tx(3)).reason() == state::Reason::DuplicateTx);
}

TEST_CASE("mempool: bounds by count - bytes - signer and takes oldest first", "[mempool]") {
  Mempool pool({.max_txs = 3, .max_bytes = 35, .max_per_signer = 2, .recent_window = 16});
  REQUIRE(pool.add(tx(1, 1)).ok());
  REQUIRE(pool.add(tx(2, 1)).ok());
  CHECK(pool.add(tx(3, 1)).reason() == state::Reason::MempoolFull);  // signer 1 holds 2
  REQUIRE(pool.add(tx(4, 2)).ok());
  CHECK(pool.add(tx(5, 3)).reason() == state::Reason::MempoolFull);  // 3 transactions
  CHECK(pool.size() == 3);
  CHECK(pool.bytes() == 30);
  auto first = pool.take(25);  // whole envelopes only: two of 10 bytes
  REQUIRE(first.size() == 2);
  CHECK(first[0].verified.tx_hash.data()[0] == 1);
  CHECK(first[1].verified.tx_hash.data()[0] == 2);
  CHECK(pool.add(tx(6, 3, 30)).reason() == state::Reason::MempoolFull);  // 10 + 30 > 35 bytes
  REQUIRE(pool.add(tx(7, 1, 20)).ok());
  CHECK(pool.take(1'000).size() == 2);
  CHECK(pool.size() == 0);
  CHECK(pool.bytes() == 0);
}
