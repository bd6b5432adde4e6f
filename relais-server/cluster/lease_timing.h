// Timing of one held pipeline lease on the local monotonic clock. Pure logic:
// the caller passes times (a fake clock in tests, g_get_monotonic_time in the
// server). A lease counts from the moment its claim/renew request was SENT,
// so a slow reply can only make the local deadline earlier than Redis' expiry.
#pragma once

#include <cstdint>

namespace relais::cluster {

class LeaseTiming {
 public:
  // ttl_ms: the PX given to Redis. Renewal is due every ttl/3; the pipeline
  // must be stopped by ttl - ttl/4 after the last confirmed request.
  explicit LeaseTiming(int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

  // A claim or renew sent at sent_ms was confirmed by Redis.
  void confirmed(int64_t sent_ms) {
    if (sent_ms > confirmed_ms_) confirmed_ms_ = sent_ms;
    held_ = true;
  }
  void released() { held_ = false; }

  bool held() const { return held_; }
  int64_t renew_due_ms() const { return confirmed_ms_ + ttl_ms_ / 3; }
  int64_t stop_deadline_ms() const { return confirmed_ms_ + ttl_ms_ - ttl_ms_ / 4; }
  bool renew_due(int64_t now_ms) const { return held_ && now_ms >= renew_due_ms(); }
  // True when the lease may be about to expire in Redis without a confirmed
  // renewal: the pipeline must stop now.
  bool must_stop(int64_t now_ms) const { return held_ && now_ms >= stop_deadline_ms(); }

 private:
  int64_t ttl_ms_;
  int64_t confirmed_ms_ = INT64_MIN / 2;
  bool held_ = false;
};

}  // namespace relais::cluster
