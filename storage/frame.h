// One frame of a stream as the store keeps it: payload, timing, flags, caps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "glib_handles.h"

namespace relais::store {

// GStreamer's GST_CLOCK_TIME_NONE, without depending on GStreamer.
inline constexpr uint64_t kTimeNone = UINT64_MAX;

enum FrameFlag : uint32_t {
  kFlagKeyframe = 1u << 0,  // decodable on its own (not a delta unit)
  kFlagDiscont = 1u << 1,   // a gap before this frame
  kFlagHeader = 1u << 2,    // stream header (codec setup) rather than media
};

// Caps are immutable strings shared by every frame produced under them, so a
// frame costs one pointer for its caps, and readers detect a change by value.
using CapsString = std::shared_ptr<const std::string>;

struct Frame {
  Bytes payload;
  uint64_t pts = kTimeNone;
  uint64_t dts = kTimeNone;
  uint64_t duration = kTimeNone;
  uint32_t flags = 0;
  CapsString caps;

  bool is_keyframe() const { return (flags & kFlagKeyframe) != 0; }
};

inline CapsString make_caps(std::string caps) {
  return std::make_shared<const std::string>(std::move(caps));
}

}  // namespace relais::store
