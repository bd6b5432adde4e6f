// Capped exponential back-off for pipeline restarts.
#pragma once

#include <chrono>
#include <cstdint>

namespace relais::server {

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{30000};
  // A pipeline that stayed up this long starts again from `initial`.
  std::chrono::milliseconds stable_after{60000};
};

// Delay before restart number `attempt` (0 = the first restart after a
// failure): initial * 2^attempt, at most max.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, uint32_t attempt);

}  // namespace relais::server
