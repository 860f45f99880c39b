// Block headers and payload hashes as consensus/application.h defines them: the payload hash is
// keccak256(u32be(count) || keccak256(tx_1) || ... || keccak256(tx_n)), whatever path computes the
// transactions' hashes; a header encodes to fixed-width fields and back.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "consensus/application.h"
#include "state/keccak.h"

namespace {

state::Hash256 payload_hash_by_definition(const std::vector<std::string>& txs) {
  std::string preimage;
  const auto n = static_cast<std::uint32_t>(txs.size());
  for (int shift = 24; shift >= 0; shift -= 8) preimage.push_back(static_cast<char>(n >> shift));
  for (const auto& tx : txs) {
    const state::Hash256 h = state::keccak256(tx);
    preimage.append(reinterpret_cast<const char*>(h.data()), h.size());
  }
  return state::keccak256(preimage);
}

}  // namespace

TEST_CASE("payload hash is the hash of the count and the transactions' hashes", "[consensus]") {
  // The empty payload: keccak256 of four zero bytes.
  CHECK(state::to_hex(consensus::payload_hash({})) ==
        state::to_hex(state::keccak256(std::string(4, '\0'))));
  // Transactions of lengths across the 136-byte block edge, more than eight of them, so the
  // transactions' hashes run in several groups of states.
  std::vector<std::string> txs;
  for (std::size_t i = 0; i < 19; ++i)
    txs.push_back(std::string(60 + 13 * i, static_cast<char>(i)));
  for (std::size_t count : {std::size_t{1}, std::size_t{2}, std::size_t{9}, txs.size()}) {
    const std::vector<std::string> some(txs.begin(), txs.begin() + static_cast<long>(count));
    CHECK(consensus::payload_hash(some) == payload_hash_by_definition(some));
  }
  // Order matters.
  std::vector<std::string> swapped = txs;
  std::swap(swapped[0], swapped[1]);
  CHECK(consensus::payload_hash(swapped) != consensus::payload_hash(txs));
}

TEST_CASE("a block header encodes to fixed-width fields and decodes back", "[consensus]") {
  consensus::BlockHeader header;
  header.height = 0x0102030405060708ULL;
  header.time_ms = 1767225600123;
  header.proposer.bytes[0] = 0xaa;
  header.parent_hash.bytes[31] = 0x01;
  header.payload_hash = consensus::payload_hash({"tx"});
  header.last_app_hash.bytes[5] = 0x55;
  const std::string bytes = header.encode();
  CHECK(bytes.size() == 8 + 8 + 20 + 32 * 3);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x01);  // big-endian height first
  consensus::BlockHeader decoded;
  REQUIRE(consensus::BlockHeader::decode(bytes, decoded));
  CHECK(decoded == header);
  CHECK(header.hash() == state::keccak256(bytes));
  CHECK_FALSE(consensus::BlockHeader::decode(bytes.substr(1), decoded));
}
