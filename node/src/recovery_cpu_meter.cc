#include "node/recovery_cpu_meter.h"

#include <time.h>

namespace node {
namespace {

std::uint64_t thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000 +
         static_cast<std::uint64_t>(now.tv_nsec);
}

}  // namespace

std::uint64_t RecoveryCpuMeter::begin() {
  return thread_cpu_ns();
}

void RecoveryCpuMeter::end(std::uint64_t mark, std::size_t recoveries) {
  cpu_ns_.fetch_add(thread_cpu_ns() - mark, std::memory_order_relaxed);
  recoveries_.fetch_add(recoveries, std::memory_order_relaxed);
}

}  // namespace node
