// Appends frames to one stream in Redis, reconnecting with back-off.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

#include "rate_meter.h"
#include "redis_backoff.h"
#include "redis_connection.h"
#include "redis_schema.h"
#include "store.h"

namespace relais::store {

class RedisWriter : public Writer {
 public:
  RedisWriter(RedisEndpoint endpoint, std::string stream, Retention retention, std::string node);
  // Connects; fails when Redis cannot be reached now.
  Status open();

  WriteResult write(const Frame& frame) override;
  WriterStats stats() const override;
  void cancel() override;
  void reset_cancel() override;
  std::string last_error() const override;
  // A fenced writer takes a stream over from another owner: like after an
  // outage, its first frame is a keyframe marked discont.
  void set_fence_epoch(int64_t epoch) override {
    fence_epoch_ = epoch;
    need_keyframe_ = need_keyframe_ || epoch > 0;
  }

 private:
  using StreamId = redis_schema::StreamId;
  Status connect_and_sync();
  StreamId next_id(int64_t now_ms);
  std::string trim_threshold(int64_t now_ms, const StreamId& id, bool keyframe, uint64_t bytes);
  void forget_oldest();
  Status send(const Frame& frame, const StreamId& id, bool* id_conflict, bool* fenced);
  WriteResult fail(const Status& st);
  WriteResult write_within_deadline(const Frame& frame);
  WriteResult refuse(const std::string& why);
  std::string what_to_fix(const std::string& redis_error) const;
  void set_error(const std::string& e);

  RedisConnection conn_;
  const std::string stream_;
  const std::string frames_key_;
  const std::string meta_key_;
  const Retention retention_;
  const std::string node_;
  int64_t fence_epoch_ = 0;  // set before the first write; 0 = not fenced

  // Used only from the writing thread.
  Backoff backoff_;
  bool outage_ = false;         // the store was lost and not yet regained
  bool need_keyframe_ = false;  // after an outage, resume at a keyframe
  StreamId last_id_;
  struct Written {
    StreamId id;
    uint64_t bytes;
  };
  std::deque<Written> ids_;      // frames written by this writer still retained
  uint64_t retained_bytes_ = 0;  // their payload bytes
  std::optional<StreamId> newest_keyframe_;
  CapsString caps_sent_;
  int64_t meta_published_ms_ = 0;
  RateMeter rates_;
  std::string refusal_;  // the refusal last reported; empty once a frame is stored

  std::atomic<bool> cancelled_{false};
  std::atomic<uint64_t> gop_cuts_{0};
  std::atomic<uint64_t> frames_{0}, bytes_{0}, dropped_{0}, refused_{0}, reconnects_{0};
  mutable std::mutex error_mutex_;  // guards last_error_
  std::string last_error_;
};

}  // namespace relais::store
