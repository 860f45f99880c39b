#include "state/nonce_set.h"

#include <algorithm>

namespace state {

Status check_nonce_window(std::uint64_t nonce, std::uint64_t time_ms) {
  const std::uint64_t lower = time_ms > kNonceWindowPastMs ? time_ms - kNonceWindowPastMs : 0;
  if (nonce <= lower || nonce >= time_ms + kNonceWindowFutureMs)
    return make_error(
        Reason::NonceOutsideWindow,
        "nonce must be a millisecond time within 2 days before and 1 day after block time");
  return Status::Ok();
}

Status NonceSet::check(std::uint64_t nonce, std::uint64_t block_time_ms) const {
  PERPD_TRY(check_nonce_window(nonce, block_time_ms));
  const auto kept = this->kept();
  if (kept.empty() || nonce > kept.back()) return Status::Ok();  // the usual case: a newer time
  if (kept.size() >= kKeptNonces && nonce <= kept.front())
    return make_error(Reason::NonceTooLow,
                      "nonce is not above the smallest of the 100 kept nonces");
  if (std::binary_search(kept.begin(), kept.end(), nonce))
    return make_error(Reason::NonceAlreadyUsed, "nonce already used by this signer");
  return Status::Ok();
}

Status NonceSet::use(std::uint64_t nonce, std::uint64_t block_time_ms) {
  PERPD_TRY(check(nonce, block_time_ms));
  if (kept_.empty() || nonce > kept_.back())
    kept_.push_back(nonce);
  else
    kept_.insert(
        std::upper_bound(kept_.begin() + static_cast<std::ptrdiff_t>(first_), kept_.end(), nonce),
        nonce);
  if (kept_.size() - first_ > kKeptNonces && ++first_ == kKeptNonces) {
    kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
  return Status::Ok();
}

NonceSet NonceSet::from_kept(std::span<const std::uint64_t> kept) {
  NonceSet set;
  set.kept_.assign(kept.begin(), kept.end());
  return set;
}

}  // namespace state
