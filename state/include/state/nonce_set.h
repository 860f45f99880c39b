// The nonce rule of SPEC section 2, as Hyperliquid: per signer the 100 highest nonces used are
// kept; a new nonce must be unused, within (T - 2 days, T + 1 day) of the block time T, and, once
// 100 are kept, greater than the smallest kept (anything at or below it may have been forgotten).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "state/result.h"

namespace state {

inline constexpr std::size_t kKeptNonces = 100;
inline constexpr std::uint64_t kNonceWindowPastMs = 2ULL * 24 * 60 * 60 * 1000;
inline constexpr std::uint64_t kNonceWindowFutureMs = 1ULL * 24 * 60 * 60 * 1000;

// NonceOutsideWindow unless nonce lies in the open window (T - 2 days, T + 1 day) around
// time_ms (the lower bound clamps at the epoch). The mempool checks it against the last block's
// time; NonceSet::check against the executing block's.
Status check_nonce_window(std::uint64_t nonce, std::uint64_t time_ms);

class NonceSet {
 public:
  // Returns NonceOutsideWindow, NonceTooLow or NonceAlreadyUsed; changes nothing.
  Status check(std::uint64_t nonce, std::uint64_t block_time_ms) const;
  // check, then keep the nonce (dropping the smallest when more than kKeptNonces are kept).
  Status use(std::uint64_t nonce, std::uint64_t block_time_ms);

  // Kept nonces, ascending.
  std::span<const std::uint64_t> kept() const {
    return std::span<const std::uint64_t>(kept_).subspan(first_);
  }
  // Restores from kept() output (ascending, at most kKeptNonces, no duplicates).
  static NonceSet from_kept(std::span<const std::uint64_t> kept);

 private:
  // kept_[first_..] are the kept nonces: dropping the smallest advances first_, and the dropped
  // prefix is compacted away once it reaches kKeptNonces, so a use moves O(1) nonces amortized.
  std::vector<std::uint64_t> kept_;
  std::size_t first_ = 0;
};

}  // namespace state
