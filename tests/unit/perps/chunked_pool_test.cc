// ChunkedPool: indexing across chunk boundaries, value-initialized elements, and references that
// stay valid while the pool grows (a vector's would not).
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "perps/chunked_pool.h"

TEST_CASE("ChunkedPool: elements across chunks keep their values and addresses", "[pool]") {
  perps::ChunkedPool<std::uint64_t, 4> pool;  // 16 per chunk: many boundaries
  std::vector<const std::uint64_t*> addresses;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    std::uint64_t& slot = pool.emplace_back();
    CHECK(slot == 0);
    slot = i * i + 7;
    addresses.push_back(&slot);
  }
  REQUIRE(pool.size() == 1000);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    CHECK(pool[i] == i * i + 7);
    CHECK(&pool[i] == addresses[i]);
  }
  pool.reserve(5000);  // chunks ahead of need: size and contents unchanged
  CHECK(pool.size() == 1000);
  CHECK(pool[999] == 999 * 999 + 7);
  CHECK(pool.emplace_back() == 0);
  CHECK(pool.size() == 1001);
}
