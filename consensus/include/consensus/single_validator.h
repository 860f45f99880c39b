// A consensus engine for a network of one validator, behind the same Application boundary the
// BFT engine will use: it proposes, checks, finalizes and commits a block every block interval
// when transactions are pending, and at least every max_idle so block time (funding, oracle
// staleness) advances on a quiet chain.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "consensus/application.h"

namespace consensus {

struct SingleValidatorConfig {
  std::chrono::milliseconds block_interval{100};
  std::chrono::milliseconds max_idle{1'000};
  std::size_t max_block_bytes = 8 << 20;
  state::Address proposer;
};

class SingleValidatorEngine {
 public:
  // has_pending: whether the mempool holds transactions (checked each interval).
  // wall_clock_ms: the proposer's clock (block time is max(clock, previous + 1)).
  SingleValidatorEngine(Application& app, SingleValidatorConfig config,
                        std::function<bool()> has_pending,
                        std::function<std::uint64_t()> wall_clock_ms);
  ~SingleValidatorEngine();

  void start();
  void stop();  // finishes the block in progress, then returns

  // Makes one block now (tests and the engine loop).
  void produce_block();

 private:
  void run();

  Application& app_;
  SingleValidatorConfig config_;
  std::function<bool()> has_pending_;
  std::function<std::uint64_t()> clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace consensus
