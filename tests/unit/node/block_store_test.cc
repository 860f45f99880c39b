// The chain's block records: a block reads back whole, one transaction reads back alone, and a
// record whose lengths do not add up is a named StorageError, never a short answer.
#include <catch2/catch.hpp>

#include "node/block_store.h"
#include "perps/receipt_codec.h"

namespace {

consensus::BlockHeader header_at(std::uint64_t height) {
  consensus::BlockHeader header;
  header.height = height;
  header.time_ms = 1'767'225'600'000 + height;
  header.proposer.bytes[0] = 0xAB;
  return header;
}

void store_block(state::KvStore& kv, std::uint64_t height, const std::vector<std::string>& txs) {
  std::vector<node::StoredReceipt> receipts(txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    receipts[i].tx_hash.bytes[0] = static_cast<std::uint8_t>(height);
    receipts[i].tx_hash.bytes[1] = static_cast<std::uint8_t>(i);
    receipts[i].outcome_record = perps::encode_outcome_record(perps::Outcome{});
  }
  state::WriteBatch batch;
  state::Hash256 app_hash;
  app_hash.bytes[31] = 7;
  node::BlockStore::add_block(batch, header_at(height), txs, receipts, {}, app_hash);
  REQUIRE(kv.write(batch).ok());
}

}  // namespace

TEST_CASE("a block's transactions read back whole and one at a time", "[node][store]") {
  state::MemKvStore kv;
  node::BlockStore store(kv);
  const std::vector<std::string> txs = {"first", std::string(300, 'x'), "", "last one"};
  store_block(kv, 5, txs);
  store_block(kv, 6, {});

  auto block = store.block(5);
  REQUIRE(block.ok());
  REQUIRE(block->has_value());
  CHECK((*block)->header == header_at(5));
  CHECK((*block)->app_hash.bytes[31] == 7);
  CHECK((*block)->txs == txs);
  for (std::uint32_t i = 0; i < txs.size(); ++i) {
    auto one = store.transaction(5, i);
    REQUIRE(one.ok());
    REQUIRE(one->has_value());
    CHECK(**one == txs[i]);
  }
  auto past_the_end = store.transaction(5, 4);
  REQUIRE(past_the_end.ok());
  CHECK_FALSE(past_the_end->has_value());
  auto empty_block = store.transaction(6, 0);
  REQUIRE(empty_block.ok());
  CHECK_FALSE(empty_block->has_value());
  auto no_block = store.transaction(7, 0);
  REQUIRE(no_block.ok());
  CHECK_FALSE(no_block->has_value());

  auto located = store.find_tx([] {
    state::Hash256 h;
    h.bytes[0] = 5;
    h.bytes[1] = 3;
    return h;
  }());
  REQUIRE(located.ok());
  REQUIRE(located->has_value());
  CHECK((*located)->at.height == 5);
  CHECK((*located)->at.index == 3);
}

TEST_CASE("a block record whose lengths do not add up is damaged", "[node][store]") {
  state::MemKvStore kv;
  node::BlockStore store(kv);
  store_block(kv, 9, {"alpha", "beta"});
  auto stored = kv.get(std::string("c/b/") + std::string(7, '\0') + '\x09');
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  const std::string record = **stored;

  auto put = [&](std::string value) {
    state::WriteBatch batch;
    batch.put(std::string("c/b/") + std::string(7, '\0') + '\x09', value);
    REQUIRE(kv.write(batch).ok());
  };
  for (const std::string& damaged :
       {record.substr(0, record.size() - 1), record + "z", record.substr(0, 100)}) {
    put(damaged);
    auto block = store.block(9);
    REQUIRE_FALSE(block.ok());
    CHECK(block.reason() == state::Reason::StorageError);
    CHECK(block.error().message == "damaged block record at height 9");
  }
  // Cut inside the second transaction: the first still reads, the second is damage.
  put(record.substr(0, record.size() - 2));
  auto first = store.transaction(9, 0);
  REQUIRE(first.ok());
  CHECK(**first == "alpha");
  auto second = store.transaction(9, 1);
  REQUIRE_FALSE(second.ok());
  CHECK(second.reason() == state::Reason::StorageError);
}
