// The CPU time the RPC threads spend recovering signers, for GET /metrics: per recovery, it is
// the machine's recovery speed during the very seconds the node runs, which a rate measured
// before or after a load misses on a VM whose speed drifts (scripts/loadtest.sh uses both).
#pragma once

#include <atomic>
#include <cstdint>

#include "state/envelope.h"

namespace node {

class RecoveryCpuMeter final : public state::RecoveryMeter {
 public:
  std::uint64_t begin() override;  // this thread's CPU time, ns
  void end(std::uint64_t mark, std::size_t recoveries) override;

  std::uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }
  std::uint64_t cpu_ns() const { return cpu_ns_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> recoveries_{0};
  std::atomic<std::uint64_t> cpu_ns_{0};
};

}  // namespace node
