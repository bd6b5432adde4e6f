// Frame rate and bitrate over a sliding window of recent frames.
#pragma once

#include <cstdint>
#include <deque>

#include <glib.h>

namespace relais::store {

class RateMeter {
 public:
  explicit RateMeter(int64_t window_ms = 2000) : window_ms_(window_ms) {}

  void record(int64_t now_ms, uint64_t bytes) {
    samples_.push_back({now_ms, bytes});
    window_bytes_ += bytes;
    expire(now_ms);
  }

  double frame_rate(int64_t now_ms) {
    expire(now_ms);
    return samples_.size() * 1000.0 / window_ms_;
  }
  double bitrate(int64_t now_ms) {
    expire(now_ms);
    return window_bytes_ * 8.0 * 1000.0 / window_ms_;
  }

 private:
  struct Sample {
    int64_t ms;
    uint64_t bytes;
  };
  void expire(int64_t now_ms) {
    while (!samples_.empty() && samples_.front().ms <= now_ms - window_ms_) {
      window_bytes_ -= samples_.front().bytes;
      samples_.pop_front();
    }
  }
  int64_t window_ms_;
  std::deque<Sample> samples_;
  uint64_t window_bytes_ = 0;
};

inline int64_t wall_clock_ms() {
  return g_get_real_time() / 1000;
}

}  // namespace relais::store
