// Reconnection back-off for Redis clients: 100 ms doubling up to 5 s.
#pragma once

#include <algorithm>
#include <chrono>

namespace relais::store {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  void reset() { delay_ = kInitial; }
  // Schedules the next attempt after the current delay and doubles it.
  void schedule(Clock::time_point now) {
    next_ = now + delay_;
    delay_ = std::min(delay_ * 2, kMax);
  }
  bool due(Clock::time_point now) const { return now >= next_; }
  Clock::time_point next() const { return next_; }

 private:
  static constexpr std::chrono::milliseconds kInitial{100};
  static constexpr std::chrono::milliseconds kMax{5000};
  std::chrono::milliseconds delay_ = kInitial;
  Clock::time_point next_{};
};

}  // namespace relais::store
