#include "backoff.h"

namespace relais::server {

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, uint32_t attempt) {
  auto delay = policy.initial;
  for (uint32_t i = 0; i < attempt && delay < policy.max; ++i) delay *= 2;
  return delay < policy.max ? delay : policy.max;
}

}  // namespace relais::server
