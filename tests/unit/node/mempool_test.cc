// The mempool's admission rules: dedup by hash (pending, then within the window of hashes already
// taken into blocks), the count, byte and per-signer bounds, first-in first-out taking, and
// batches admitted under the same rules.
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

TEST_CASE("mempool: duplicates pending or recently taken are refused - older ones pass",
          "[mempool]") {
  Mempool pool({.max_txs = 100, .max_bytes = 1'000, .max_per_signer = 100, .recent_window = 2});
  REQUIRE(pool.add(tx(1)).ok());
  CHECK(pool.add(tx(1)).reason() == state::Reason::DuplicateTx);  // pending
  REQUIRE(pool.take(1'000).size() == 1);
  CHECK_FALSE(pool.contains(tx(1).verified.tx_hash));
  CHECK(pool.seen(tx(1).verified.tx_hash));                       // taken, within the window
  CHECK(pool.add(tx(1)).reason() == state::Reason::DuplicateTx);  // taken: in the window
  REQUIRE(pool.add(tx(2)).ok());
  REQUIRE(pool.add(tx(3)).ok());
  REQUIRE(pool.take(1'000).size() == 2);  // window now holds 2 and 3: 1 has left it
  CHECK_FALSE(pool.seen(tx(1).verified.tx_hash));
  CHECK(pool.add(tx(1)).ok());  // execution's nonce rule answers this one
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
  CHECK(pool.add(tx(4, 2)).reason() == state::Reason::DuplicateTx);  // full, but a duplicate
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
  // A transaction refused for room is not remembered: once there is room it is admitted, not
  // refused as a duplicate.
  REQUIRE(pool.add(tx(3, 1)).ok());
  REQUIRE(pool.add(tx(5, 3)).ok());
  REQUIRE(pool.add(tx(6, 4)).ok());
}

TEST_CASE("mempool: a batch is admitted in order under the same rules as one by one", "[mempool]") {
  const MempoolLimits limits{
      .max_txs = 4, .max_bytes = 1'000, .max_per_signer = 2, .recent_window = 16};
  auto batch = [] {
    std::vector<PendingTx> txs;
    txs.push_back(tx(1, 1));
    txs.push_back(tx(1, 1));  // the same transaction twice in one batch
    txs.push_back(tx(2, 1));
    txs.push_back(tx(3, 1));  // signer 1 is at its cap by now
    txs.push_back(tx(4, 2));
    txs.push_back(tx(5, 3));
    txs.push_back(tx(6, 4));  // the pool is full by now
    return txs;
  };
  Mempool one_by_one(limits);
  std::vector<state::Status> expected;
  for (PendingTx& t : batch()) expected.push_back(one_by_one.add(std::move(t)));

  Mempool pool(limits);
  std::vector<PendingTx> txs = batch();
  const std::vector<state::Status> statuses = pool.add_batch(txs);
  REQUIRE(statuses.size() == 7);
  CHECK(statuses[0].ok());
  CHECK(statuses[1].reason() == state::Reason::DuplicateTx);
  CHECK(statuses[1].error().message == "transaction already pending");
  CHECK(statuses[2].ok());
  CHECK(statuses[3].reason() == state::Reason::MempoolFull);
  CHECK(statuses[3].error().message == "signer has 2 pending transactions");
  CHECK(statuses[4].ok());
  CHECK(statuses[5].ok());
  CHECK(statuses[6].reason() == state::Reason::MempoolFull);
  CHECK(statuses[6].error().message == "mempool holds 4 transactions");
  CHECK(statuses[6].error().message == "mempool holds 4 transactions");
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    CHECK(statuses[i].ok() == expected[i].ok());
    CHECK(statuses[i].reason() == expected[i].reason());
    CHECK(statuses[i].error().message == expected[i].error().message);
  }
  // Refused transactions are left to the caller as they came.
  CHECK(txs[1].verified.tx_hash.data()[0] == 1);
  CHECK(txs[3].verified.tx_hash.data()[0] == 3);
  CHECK(txs[3].binary.size() == 10);
  CHECK(pool.size() == 4);
  CHECK(pool.bytes() == 40);

  auto taken = pool.take(1'000);
  REQUIRE(taken.size() == 4);
  CHECK(taken[0].verified.tx_hash.data()[0] == 1);
  CHECK(taken[1].verified.tx_hash.data()[0] == 2);
  CHECK(taken[2].verified.tx_hash.data()[0] == 4);
  CHECK(taken[3].verified.tx_hash.data()[0] == 5);
  // Taken transactions are duplicates for a later batch too; the signer cap is free again.
  std::vector<PendingTx> again;
  again.push_back(tx(2, 1));
  again.push_back(tx(3, 1));
  const auto second = pool.add_batch(again);
  REQUIRE(second.size() == 2);
  CHECK(second[0].reason() == state::Reason::DuplicateTx);
  CHECK(second[0].error().message == "transaction already taken into a block");
  CHECK(second[1].ok());
  std::vector<PendingTx> none;
  CHECK(pool.add_batch(none).empty());
}
