// Follows one stream in Redis with XREAD BLOCK, waiting out outages.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "redis_backoff.h"
#include "redis_connection.h"
#include "redis_schema.h"
#include "store.h"

namespace relais::store {

class RedisReader : public Reader {
 public:
  RedisReader(RedisEndpoint endpoint, std::string stream, StartPosition start);
  // Connects and resolves the start position; fails when Redis cannot be reached.
  Status open();

  ReadResult next(Frame* out, std::chrono::milliseconds timeout) override;
  void cancel() override;
  void reset_cancel() override;
  ReaderStats stats() const override;

 private:
  using StreamId = redis_schema::StreamId;
  struct Entry {
    StreamId id;
    Frame frame;
  };
  Status resolve_start();
  Status is_keyframe_entry(const StreamId& id, bool* yes);
  Status read_some(std::chrono::milliseconds block);
  void parse_entries(redisReply* entries);
  // Waits until `until` or cancel; returns false when cancelled.
  bool sleep_until(std::chrono::steady_clock::time_point until);

  RedisConnection conn_;
  const std::string stream_;
  const std::string frames_key_;
  const std::string meta_key_;
  const StartPosition start_;

  // Used only from the reading thread.
  StreamId last_id_;
  bool positioned_ = false;  // last_id_ names an entry that was in the stream
  bool need_keyframe_ = false;
  bool discont_ = false;  // retention trimmed frames not yet read: mark the next one
  CapsString caps_;
  std::deque<Entry> pending_;
  Backoff backoff_;
  bool lost_ = false;  // the store was lost and that was reported

  mutable std::mutex mutex_;  // guards cancelled_ and stats_
  std::condition_variable wake_;
  bool cancelled_ = false;
  ReaderStats stats_;
};

}  // namespace relais::store
