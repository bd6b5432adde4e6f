// GStreamer helpers for the bench programs: pipelines from launch lines,
// buffer counting on pads, and ready-made payload buffers.
#pragma once

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gst_handles.h"

namespace relais::bench {

// A pipeline built from a launch line, set to NULL on destruction.
class Pipeline {
 public:
  static std::unique_ptr<Pipeline> launch(const std::string& description, std::string* error);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  GstElement* get() const { return pipeline_.get(); }
  ElementRef element(const char* name) const;
  // Sets PLAYING and waits for the state change to finish (or fail).
  bool play(std::string* error);
  // Waits for EOS; false on an error message or timeout.
  bool wait_eos(std::chrono::milliseconds timeout, std::string* error);
  // An error message on the bus, if one was posted (does not block).
  std::optional<std::string> poll_error();

 private:
  explicit Pipeline(ElementRef pipeline) : pipeline_(std::move(pipeline)) {}
  ElementRef pipeline_;
  std::string description_;
};

// Counts buffers passing through pads and tells when every pad has seen
// `target` of them.
class BufferCounter {
 public:
  explicit BufferCounter(uint64_t target) : target_(target) {}
  ~BufferCounter();
  BufferCounter(const BufferCounter&) = delete;
  BufferCounter& operator=(const BufferCounter&) = delete;

  void attach(GstPad* pad);
  // Waits up to `slice` for every pad to reach the target; true once they have.
  bool wait_all(std::chrono::milliseconds slice);
  uint64_t min_count() const;

 private:
  struct Slot {
    BufferCounter* owner;
    std::atomic<uint64_t> count{0};
  };
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data);

  const uint64_t target_;
  std::vector<std::unique_ptr<Slot>> slots_;
  struct Probe {
    PadRef pad;
    gulong id;
  };
  std::vector<Probe> probes_;
  mutable std::mutex mutex_;  // guards done_
  std::condition_variable all_done_;
  size_t done_ = 0;
};

// One payload size: the same bytes as a keyframe buffer and a delta buffer,
// pushed again and again by reference. The bytes are printable (no NUL), so
// redis-benchmark -x reads the same payload from a file.
class Payload {
 public:
  static constexpr uint64_t kGop = 30;  // one keyframe every kGop frames
  Payload(size_t size, std::string label);
  size_t size() const { return size_; }
  const std::string& label() const { return label_; }
  // Frame i of a stream (a keyframe every kGop frames), a new reference.
  GstBuffer* frame(uint64_t i) const;
  bool write_to(const std::string& path) const;

 private:
  size_t size_;
  std::string label_;
  BufferPtr keyframe_;
  BufferPtr delta_;
};

// Pushes `frames` frames of `payload` into an appsrc, then end-of-stream.
bool push_frames(GstAppSrc* src, const Payload& payload, uint64_t frames, std::string* error);

// Caps of the bench's opaque payload.
inline constexpr const char* kBenchCaps = "application/x-relais-bench";

}  // namespace relais::bench
