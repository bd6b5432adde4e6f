// Small RAII helpers around GstHarness for the relaiswatermark tests.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <string>

#include "reference.h"

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

// Video info of a caps string.
GstVideoInfo info_for(const std::string& caps);

// An I420 frame of mid grey (luma 128, neutral chroma).
GstBuffer* grey_i420(const GstVideoInfo& info);

// Bounding box and counts of the luma samples that differ between two I420 frames.
struct Box {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
  int changed = 0, bright = 0, dark = 0;
};
Box changed_luma(const GstVideoInfo& info, GstBuffer* before, GstBuffer* after);

// Everything outside the mark's rectangle unchanged, and inside within one
// level of the reference; EXPECTs on failure.
void expect_matches_reference(const GstVideoInfo& info, GstBuffer* original, GstBuffer* output,
                              const Mark& mark, int px, int py, double opacity);

}  // namespace wmtest
