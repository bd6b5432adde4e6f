// The frame store interface. A store is opened from a URI (see registry.h);
// writers append frames to named streams, readers follow them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "frame.h"
#include "status.h"

namespace relais::store {

// Where a new reader starts.
enum class StartPosition {
  kKeyframe,  // the newest keyframe, so a late joiner can decode at once
  kLive,      // only frames written from now on
  kEarliest,  // the oldest frame still retained
};

// Retention per stream: frames beyond max_frames or older than max_age are
// dropped, but the newest keyframe and everything after it is kept -- up to
// max_bytes of payload, which wins (a GOP that never ends is cut).
struct Retention {
  uint32_t max_frames = 600;
  std::chrono::milliseconds max_age{30000};  // 0 = no age limit
  uint64_t max_bytes = 64ull << 20;          // 0 = no byte limit
};

struct WriterStats {
  uint64_t frames = 0;      // frames stored
  uint64_t bytes = 0;       // payload bytes stored
  uint64_t dropped = 0;     // frames that could not be stored (refused ones included)
  uint64_t refused = 0;     // of those, frames the store refused (not an outage)
  uint64_t reconnects = 0;  // successful reconnections after an outage
  uint64_t gop_cuts = 0;    // frames of the newest GOP trimmed by max_bytes
};

enum class WriteResult {
  kWritten,      // stored
  kReconnected,  // stored, and the store had been unreachable before
  kDropped,      // not stored: the store is unreachable or still refuses (counted in stats)
  kLost,         // not stored, and the store just became unreachable
  kRefused,      // not stored: the store refused it for a new reason, which
                 // last_error() gives with what to fix (counted in stats)
  kFenced,       // not stored: a writer with a newer fence epoch has written the
                 // stream (a cluster pipeline moved to another node): stop writing
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Appends a frame. Never blocks for long: when the store is unreachable the
  // frame is dropped and counted, and a reconnection is tried with back-off.
  virtual WriteResult write(const Frame& frame) = 0;
  virtual WriterStats stats() const = 0;
  // From another thread: a write() waiting on the store returns at once, and
  // frames are dropped (counted, not reported as an outage) until
  // reset_cancel(). For shutting down while the store hangs.
  virtual void cancel() {}
  virtual void reset_cancel() {}
  // The reason for the last failure, empty if none.
  virtual std::string last_error() const = 0;
  // Fencing (before the first write): frames carry `epoch`, and a store that
  // supports it refuses them (kFenced) once a frame of a newer epoch has been
  // stored in the stream; its first stored frame is a keyframe marked discont
  // (it takes over from another writer). 0 = not fenced. The memory store,
  // one process, ignores it.
  virtual void set_fence_epoch(int64_t /*epoch*/) {}
};

struct ReaderStats {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t reconnects = 0;
  uint64_t skipped = 0;  // frames passed over (waiting for a keyframe, or lapped by retention)
};

enum class ReadResult {
  kFrame,         // *out holds the next frame
  kTimeout,       // nothing within the timeout
  kCancelled,     // cancel() was called
  kDisconnected,  // the store became unreachable; keep calling next() to wait
  kReconnected,   // the store is back; keep calling next()
};

class Reader {
 public:
  virtual ~Reader() = default;
  // Waits up to `timeout` for the next frame. Frames come in order; a stream
  // that does not exist yet is waited for.
  virtual ReadResult next(Frame* out, std::chrono::milliseconds timeout) = 0;
  // Interrupts next() from another thread; next() returns kCancelled until
  // reset_cancel() is called.
  virtual void cancel() = 0;
  virtual void reset_cancel() = 0;
  virtual ReaderStats stats() const = 0;
};

struct StreamInfo {
  std::string name;
  std::string caps;
  int64_t updated_unix_ms = 0;  // wall-clock time of the last frame
  double frame_rate = 0;        // frames/s over the last seconds
  double bitrate = 0;           // bits/s over the last seconds
  uint64_t frames_retained = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual const std::string& uri() const = 0;
  // Checks that the store answers (for readiness probes).
  virtual Status ping() = 0;
  virtual Status open_writer(const std::string& stream, const Retention& retention,
                             std::unique_ptr<Writer>* out) = 0;
  virtual Status open_reader(const std::string& stream, StartPosition start,
                             std::unique_ptr<Reader>* out) = 0;
  virtual Status list_streams(std::vector<StreamInfo>* out) = 0;
  virtual Status delete_stream(const std::string& stream) = 0;
};

// Stream names are 1-64 characters of a-z, 0-9, '_' and '-'.
bool is_valid_stream_name(const std::string& name);

}  // namespace relais::store
