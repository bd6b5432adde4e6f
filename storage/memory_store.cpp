#include "memory_store.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "rate_meter.h"

namespace relais::store {
namespace {

struct StoredFrame {
  uint64_t seq;
  int64_t wall_ms;
  Frame frame;
};

// One stream. All fields are guarded by `mutex`.
struct MemoryStream {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<StoredFrame> frames;
  uint64_t next_seq = 0;
  std::optional<uint64_t> newest_keyframe;
  uint64_t bytes = 0;     // payload bytes retained
  uint64_t gop_cuts = 0;  // frames of the newest GOP trimmed by max_bytes
  int64_t updated_ms = 0;
  RateMeter rates;
  Retention retention;
};

void pop_oldest(MemoryStream& s) {
  s.bytes -= s.frames.front().frame.payload.size();
  s.frames.pop_front();
}

void trim(MemoryStream& s, int64_t now_ms) {
  const Retention& r = s.retention;
  while (!s.frames.empty()) {
    const StoredFrame& front = s.frames.front();
    if (s.newest_keyframe && front.seq >= *s.newest_keyframe) break;
    bool too_many = s.frames.size() > std::max<uint32_t>(r.max_frames, 1);
    bool too_old = r.max_age.count() > 0 && front.wall_ms < now_ms - r.max_age.count();
    if (!too_many && !too_old) break;
    pop_oldest(s);
  }
  // max_bytes wins over keeping the newest keyframe; the newest frame stays.
  while (r.max_bytes > 0 && s.bytes > r.max_bytes && s.frames.size() > 1) {
    if (s.newest_keyframe && s.frames.front().seq >= *s.newest_keyframe) s.gop_cuts++;
    pop_oldest(s);
  }
}

class MemoryWriter : public Writer {
 public:
  explicit MemoryWriter(std::shared_ptr<MemoryStream> stream) : stream_(std::move(stream)) {}

  WriteResult write(const Frame& frame) override {
    int64_t now = wall_clock_ms();
    {
      std::lock_guard lock(stream_->mutex);
      MemoryStream& s = *stream_;
      uint64_t seq = s.next_seq++;
      s.frames.push_back({seq, now, frame});
      s.bytes += frame.payload.size();
      if (frame.is_keyframe()) s.newest_keyframe = seq;
      s.updated_ms = now;
      s.rates.record(now, frame.payload.size());
      trim(s, now);
      gop_cuts_.store(s.gop_cuts, std::memory_order_relaxed);
    }
    stream_->changed.notify_all();
    frames_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(frame.payload.size(), std::memory_order_relaxed);
    return WriteResult::kWritten;
  }

  WriterStats stats() const override {
    WriterStats st;
    st.frames = frames_.load(std::memory_order_relaxed);
    st.bytes = bytes_.load(std::memory_order_relaxed);
    st.gop_cuts = gop_cuts_.load(std::memory_order_relaxed);
    return st;
  }
  std::string last_error() const override { return {}; }

 private:
  std::shared_ptr<MemoryStream> stream_;
  std::atomic<uint64_t> frames_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> gop_cuts_{0};  // the stream's, as of the last write
};

class MemoryReader : public Reader {
 public:
  MemoryReader(std::shared_ptr<MemoryStream> stream, StartPosition start)
      : stream_(std::move(stream)) {
    std::lock_guard lock(stream_->mutex);
    MemoryStream& s = *stream_;
    switch (start) {
      case StartPosition::kKeyframe:
        if (s.newest_keyframe) {
          position_ = *s.newest_keyframe;
        } else {
          position_ = s.next_seq;
          need_keyframe_ = true;
        }
        break;
      case StartPosition::kLive:
        position_ = s.next_seq;
        break;
      case StartPosition::kEarliest:
        position_ = s.frames.empty() ? s.next_seq : s.frames.front().seq;
        break;
    }
  }

  ReadResult next(Frame* out, std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(stream_->mutex);
    MemoryStream& s = *stream_;
    for (;;) {
      if (cancelled_) return ReadResult::kCancelled;
      if (position_ < s.next_seq) {
        if (!s.frames.empty() && position_ < s.frames.front().seq) {
          // Lapped by retention: resume at the next retained keyframe, marked discont.
          stats_.skipped += s.frames.front().seq - position_;
          position_ = s.frames.front().seq;
          discont_ = true;
          need_keyframe_ = true;
        }
        const StoredFrame& f = s.frames[position_ - s.frames.front().seq];
        position_++;
        if (need_keyframe_ && !f.frame.is_keyframe()) {
          stats_.skipped++;
          continue;
        }
        need_keyframe_ = false;
        *out = f.frame;
        if (std::exchange(discont_, false)) out->flags |= kFlagDiscont;
        stats_.frames++;
        stats_.bytes += out->payload.size();
        return ReadResult::kFrame;
      }
      if (s.changed.wait_until(lock, deadline) == std::cv_status::timeout &&
          position_ >= s.next_seq && !cancelled_) {
        return ReadResult::kTimeout;
      }
    }
  }

  void cancel() override {
    std::lock_guard lock(stream_->mutex);
    cancelled_ = true;
    stream_->changed.notify_all();
  }
  void reset_cancel() override {
    std::lock_guard lock(stream_->mutex);
    cancelled_ = false;
  }
  ReaderStats stats() const override {
    std::lock_guard lock(stream_->mutex);
    return stats_;
  }

 private:
  std::shared_ptr<MemoryStream> stream_;
  // All below guarded by stream_->mutex.
  uint64_t position_ = 0;
  bool need_keyframe_ = false;
  bool discont_ = false;  // the next frame follows a hole
  bool cancelled_ = false;
  ReaderStats stats_;
};

class MemoryStore : public Store {
 public:
  const std::string& uri() const override { return uri_; }
  Status ping() override { return Status::ok(); }

  Status open_writer(const std::string& stream, const Retention& retention,
                     std::unique_ptr<Writer>* out) override {
    if (!is_valid_stream_name(stream)) return invalid_name(stream);
    auto s = get_or_create(stream);
    {
      std::lock_guard lock(s->mutex);
      s->retention = retention;
    }
    *out = std::make_unique<MemoryWriter>(std::move(s));
    return Status::ok();
  }

  Status open_reader(const std::string& stream, StartPosition start,
                     std::unique_ptr<Reader>* out) override {
    if (!is_valid_stream_name(stream)) return invalid_name(stream);
    *out = std::make_unique<MemoryReader>(get_or_create(stream), start);
    return Status::ok();
  }

  Status list_streams(std::vector<StreamInfo>* out) override {
    out->clear();
    std::map<std::string, std::shared_ptr<MemoryStream>> snapshot;
    {
      std::lock_guard lock(mutex_);
      snapshot = streams_;
    }
    int64_t now = wall_clock_ms();
    for (auto& [name, s] : snapshot) {
      std::lock_guard lock(s->mutex);
      if (s->next_seq == 0) continue;  // only readers waiting, nothing written yet
      StreamInfo info;
      info.name = name;
      if (!s->frames.empty() && s->frames.back().frame.caps)
        info.caps = *s->frames.back().frame.caps;
      info.updated_unix_ms = s->updated_ms;
      info.frame_rate = s->rates.frame_rate(now);
      info.bitrate = s->rates.bitrate(now);
      info.frames_retained = s->frames.size();
      out->push_back(std::move(info));
    }
    return Status::ok();
  }

  Status delete_stream(const std::string& stream) override {
    std::lock_guard lock(mutex_);
    streams_.erase(stream);
    return Status::ok();
  }

 private:
  static Status invalid_name(const std::string& stream) {
    return {StatusCode::kInvalidArgument,
            "invalid stream name '" + stream + "': use 1-64 characters of a-z, 0-9, _ and -"};
  }

  std::shared_ptr<MemoryStream> get_or_create(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto& s = streams_[name];
    if (!s) s = std::make_shared<MemoryStream>();
    return s;
  }

  const std::string uri_ = "memory://";
  std::mutex mutex_;  // guards streams_
  std::map<std::string, std::shared_ptr<MemoryStream>> streams_;
};

}  // namespace

Status open_memory_store(const std::string& uri, std::shared_ptr<Store>* out) {
  // One store per process: every memory:// URI names the same frames.
  static std::shared_ptr<Store>* shared =
      new std::shared_ptr<Store>(std::make_shared<MemoryStore>());
  (void)uri;
  *out = *shared;
  return Status::ok();
}

}  // namespace relais::store
