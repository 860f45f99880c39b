// The nonce rule of SPEC section 2.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "state/nonce_set.h"

using namespace state;

namespace {
constexpr std::uint64_t kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z in ms
}

TEST_CASE("nonces must be unused", "[nonce]") {
  NonceSet set;
  CHECK(set.use(kT, kT).ok());
  CHECK(set.use(kT, kT).reason() == Reason::NonceAlreadyUsed);
  CHECK(set.use(kT - 5, kT).ok());  // out of order is fine while fewer than 100 are kept
}

TEST_CASE("nonces must lie in the open window (T - 2 days - T + 1 day)", "[nonce]") {
  NonceSet set;
  CHECK(set.check(kT - kNonceWindowPastMs, kT).reason() == Reason::NonceOutsideWindow);
  CHECK(set.check(kT - kNonceWindowPastMs + 1, kT).ok());
  CHECK(set.check(kT + kNonceWindowFutureMs, kT).reason() == Reason::NonceOutsideWindow);
  CHECK(set.check(kT + kNonceWindowFutureMs - 1, kT).ok());
  CHECK(set.check(0, 1000).reason() == Reason::NonceOutsideWindow);  // window clamps at the epoch
  CHECK(set.check(1, 1000).ok());
  // The window alone (what the mempool checks on entry) has the same edges.
  CHECK(check_nonce_window(kT - kNonceWindowPastMs, kT).reason() == Reason::NonceOutsideWindow);
  CHECK(check_nonce_window(kT - kNonceWindowPastMs + 1, kT).ok());
  CHECK(check_nonce_window(kT + kNonceWindowFutureMs, kT).reason() == Reason::NonceOutsideWindow);
  CHECK(check_nonce_window(kT + kNonceWindowFutureMs - 1, kT).ok());
  CHECK(check_nonce_window(0, 1000).reason() == Reason::NonceOutsideWindow);
}

TEST_CASE("100 highest are kept - once full - a nonce must exceed the smallest kept", "[nonce]") {
  NonceSet set;
  for (std::uint64_t i = 1; i <= kKeptNonces; ++i) REQUIRE(set.use(kT + i, kT).ok());
  CHECK(set.kept().size() == kKeptNonces);
  CHECK(set.check(kT + 1, kT).reason() == Reason::NonceTooLow);  // smallest kept
  CHECK(set.check(kT, kT).reason() == Reason::NonceTooLow);      // below it, maybe forgotten
  CHECK(set.check(kT + 50, kT).reason() == Reason::NonceAlreadyUsed);
  CHECK(set.use(kT + 1000, kT).ok());
  CHECK(set.kept().size() == kKeptNonces);
  CHECK(set.kept().front() == kT + 2);  // kT + 1 dropped
  CHECK(set.check(kT + 2, kT).reason() == Reason::NonceTooLow);
  CHECK(set.use(kT + 500, kT).ok());  // a gap above the smallest is still usable
  CHECK(set.kept().front() == kT + 3);
}

TEST_CASE("a failed check changes nothing - from_kept restores", "[nonce]") {
  NonceSet set;
  REQUIRE(set.use(kT + 7, kT).ok());
  REQUIRE(set.use(kT + 3, kT).ok());
  CHECK_FALSE(set.use(kT + 7, kT).ok());
  CHECK(std::vector<std::uint64_t>(set.kept().begin(), set.kept().end()) ==
        std::vector<std::uint64_t>{kT + 3, kT + 7});
  NonceSet restored = NonceSet::from_kept(set.kept());
  CHECK(restored.check(kT + 3, kT).reason() == Reason::NonceAlreadyUsed);
  CHECK(restored.check(kT + 4, kT).ok());
}

TEST_CASE("a long random stream of nonces agrees with a plain sorted set (seeded)", "[nonce]") {
  // The set keeps a dropped prefix and compacts it now and then; a std::set holding the 100
  // highest is the obvious model.
  const std::uint64_t seed = 20261121;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  NonceSet set;
  std::set<std::uint64_t> model;
  for (int i = 0; i < 5'000; ++i) {
    // Mostly increasing times, sometimes an older one, a repeat or one below the kept range.
    const std::uint64_t nonce = kT + static_cast<std::uint64_t>(i) * 3 - rng() % 400;
    const bool fresh =
        !model.contains(nonce) && (model.size() < kKeptNonces || nonce > *model.begin());
    REQUIRE(set.use(nonce, kT + 10'000).ok() == fresh);
    if (fresh) {
      model.insert(nonce);
      if (model.size() > kKeptNonces) model.erase(model.begin());
    }
    REQUIRE(std::equal(set.kept().begin(), set.kept().end(), model.begin(), model.end()));
  }
}
