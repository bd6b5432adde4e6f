// The viewers bench's stream: a 720p30 H.264 constrained-baseline clip at
// about 2 Mb/s, encoded once up front and then written into the store in real
// time, in a loop, by a thread of its own. Encoding happens before anything
// is measured, so writing costs the measured process next to nothing (only
// the store's own work), and that remainder is measured with no viewers and
// subtracted by the caller.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gst_handles.h"

namespace relais::bench {

class ClipWriter {
 public:
  static constexpr int kWidth = 1280;
  static constexpr int kHeight = 720;
  static constexpr int kFps = 30;
  static constexpr int kKbps = 2000;

  ClipWriter() = default;
  ~ClipWriter();
  ClipWriter(const ClipWriter&) = delete;
  ClipWriter& operator=(const ClipWriter&) = delete;

  // Encodes `seconds` of video; false with `error` set on failure.
  bool encode(int seconds, std::string* error);
  // Starts writing the clip, looped, as `stream` into `store_uri` at kFps.
  bool start(const std::string& store_uri, const std::string& stream, std::string* error);
  void stop();

  // Frames written into the store so far.
  uint64_t frames_written() const { return written_.load(); }
  // The encoded clip's bitrate (bit/s).
  double clip_bitrate() const;

 private:
  void run();

  CapsPtr caps_;
  std::vector<BufferPtr> frames_;  // written only by encode()
  size_t clip_bytes_ = 0;
  ElementRef pipeline_;
  GstElement* appsrc_ = nullptr;  // owned by pipeline_
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> written_{0};
};

}  // namespace relais::bench
