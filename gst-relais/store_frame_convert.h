// GstBuffer <-> store Frame, without copying the payload either way.
#pragma once

#include <gst/gst.h>

#include "frame.h"

namespace relais {

// The frame holds a reference to `buffer` (mapped read-only) for as long as
// any store or reader keeps the payload.
bool frame_from_buffer(GstBuffer* buffer, const store::CapsString& caps, store::Frame* out);

// A new buffer wrapping the frame's payload (read-only memory).
GstBuffer* buffer_from_frame(const store::Frame& frame);

}  // namespace relais
