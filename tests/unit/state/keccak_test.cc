// Keccak-256 against published vectors: the empty string and "abc" from the Keccak team's
// submission (as Ethereum uses them), a multi-block input, and incremental updates.
#include <catch2/catch.hpp>
#include <string>

#include "state/keccak.h"

using state::keccak256;
using state::to_hex;

TEST_CASE("keccak256 of the empty string", "[keccak]") {
  CHECK(to_hex(keccak256("")) ==
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

TEST_CASE("keccak256 of abc", "[keccak]") {
  CHECK(to_hex(keccak256("abc")) ==
        "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST_CASE("keccak256 of the 448-bit NIST message", "[keccak]") {
  CHECK(to_hex(keccak256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "0x45d3b367a6904e6e8d502ee04999a7c27647f91fa845d456525fd352ae3d7371");
}

TEST_CASE("keccak256 of one million 'a' (many blocks)", "[keccak]") {
  CHECK(to_hex(keccak256(std::string(1'000'000, 'a'))) ==
        "0xfadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96");
}

TEST_CASE("keccak256 of Ethereum function signatures", "[keccak]") {
  // The 4-byte selector of transfer(address,uint256) is a9059cbb.
  CHECK(to_hex(keccak256("transfer(address,uint256)")).substr(0, 10) == "0xa9059cbb");
  // The ERC-20 Transfer event topic.
  CHECK(to_hex(keccak256("Transfer(address,address,uint256)")) ==
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

TEST_CASE("keccak256 incremental updates match one-shot at every split", "[keccak]") {
  std::string message;
  for (int i = 0; i < 400; ++i) message += static_cast<char>('a' + i % 26);
  auto expected = keccak256(message);
  for (std::size_t split = 0; split <= message.size(); split += 7) {
    state::Keccak256 hasher;
    hasher.update(std::string_view(message).substr(0, split));
    hasher.update(std::string_view(message).substr(split));
    CHECK(hasher.finish() == expected);
  }
  // Exact block-boundary lengths: 135, 136, 137 bytes.
  for (std::size_t len : {135u, 136u, 137u, 272u}) {
    state::Keccak256 hasher;
    for (std::size_t i = 0; i < len; ++i) hasher.update(std::string_view(message).substr(i, 1));
    CHECK(hasher.finish() == keccak256(std::string_view(message).substr(0, len)));
  }
}

TEST_CASE("keccak256_many matches keccak256 for every length and group size", "[keccak]") {
  // On a CPU without AVX-512 both sides are the scalar permutation: say so in the output.
  if (!state::keccak256_many_is_vectorized())
    WARN("no AVX-512 here: the eight-state permutation is not exercised");
  // Lengths around the block edges (135/136/137, 271/272/273) in mixed order, so messages of one
  // permutation count are spread out and groups of 1 to 8 states occur.
  std::string text;
  for (int i = 0; i < 600; ++i) text += static_cast<char>(i * 31 + 7);
  std::vector<std::size_t> lengths;
  for (std::size_t len = 0; len <= 280; len += 1 + len % 5) lengths.push_back(len);
  for (std::size_t len : {135u, 136u, 137u, 271u, 272u, 273u, 550u, 0u, 66u, 97u})
    lengths.push_back(len);
  for (std::size_t count = 1; count <= lengths.size(); count += count < 20 ? 1 : 13) {
    std::vector<std::span<const std::uint8_t>> messages;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t len = lengths[(i * 7) % lengths.size()];
      messages.emplace_back(reinterpret_cast<const std::uint8_t*>(text.data()) + i % 11, len);
    }
    std::vector<state::Hash256> hashes(count);
    state::keccak256_many(messages, hashes);
    for (std::size_t i = 0; i < count; ++i) CHECK(hashes[i] == state::keccak256(messages[i]));
  }
  // Published vector through the grouped path: eight copies of keccak256("").
  std::vector<std::span<const std::uint8_t>> empty(8);
  std::vector<state::Hash256> hashes(8);
  state::keccak256_many(empty, hashes);
  for (const auto& h : hashes)
    CHECK(to_hex(h) == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}
