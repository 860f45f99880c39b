#include "consensus/single_validator.h"

#include <algorithm>

#include <pthread.h>

namespace consensus {

SingleValidatorEngine::SingleValidatorEngine(Application& app, SingleValidatorConfig config,
                                             std::function<bool()> has_pending,
                                             std::function<std::uint64_t()> wall_clock_ms)
    : app_(app),
      config_(config),
      has_pending_(std::move(has_pending)),
      clock_(std::move(wall_clock_ms)) {}

SingleValidatorEngine::~SingleValidatorEngine() {
  stop();
}

void SingleValidatorEngine::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "perpd-consensus");  // for top -H, ps -L, the load test
    run();
  });
}

void SingleValidatorEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SingleValidatorEngine::produce_block() {
  const CommitInfo last = app_.last_commit();
  BlockHeader header;
  header.height = last.height + 1;
  header.time_ms = std::max(clock_(), last.time_ms + 1);
  header.proposer = config_.proposer;
  header.parent_hash = last.block_hash;
  header.last_app_hash = last.app_hash;
  std::vector<std::string> txs =
      app_.prepare_proposal(header.height, header.time_ms, config_.max_block_bytes);
  header.payload_hash = payload_hash(txs);
  // A single validator proposes and accepts its own block; the check still runs, as a BFT
  // validator's would, so a bad proposal is caught here rather than in execution.
  if (!app_.process_proposal(header, txs)) return;
  app_.finalize_block(header, txs);
  app_.commit();
}

void SingleValidatorEngine::run() {
  // The proposer's clock paces proposals only; execution reads block time, never this.
  auto last_block = std::chrono::steady_clock::now();  // determinism: paces proposals only
  auto next_check = last_block + config_.block_interval;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_until(lock, next_check, [&] { return stopping_; });
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();  // determinism: paces proposals only
    if (now < next_check) continue;
    if (!has_pending_() && now - last_block < config_.max_idle) {
      // Nothing to propose: look again an interval later (not at once: that would spin).
      next_check = std::min(now + config_.block_interval, last_block + config_.max_idle);
      continue;
    }
    // The interval runs from block start to block start, so a block's own processing time does
    // not stretch the cadence (it only delays the next block when longer than the interval).
    last_block = now;
    lock.unlock();
    produce_block();
    lock.lock();
    next_check = last_block + config_.block_interval;
  }
}

}  // namespace consensus
