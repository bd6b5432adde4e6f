// Small RAII helpers around GstHarness for the relaiswatermark tests.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <string>

namespace wmtest {

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using HarnessPtr = std::unique_ptr<GstHarness, HarnessDeleter>;

struct BufferDeleter {
  void operator()(GstBuffer* b) const { gst_buffer_unref(b); }
};
using BufferPtr = std::unique_ptr<GstBuffer, BufferDeleter>;

// A harness around a new relaiswatermark configured with `properties`
// (gst-launch syntax, e.g. "text=Hi opacity=0.5"), then set PLAYING, with
// the given caps on its input.
HarnessPtr make_harness(const std::string& properties, const std::string& caps);

// Caps string for a small raw video frame; YUV frames get BT.601 limited range.
std::string caps_for(GstVideoFormat format, int width, int height);

}  // namespace wmtest
