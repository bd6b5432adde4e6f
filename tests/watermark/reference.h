// Test-side reference for relaiswatermark, written independently of the
// element: every frame pixel is blended at full resolution with the textbook
// straight-alpha "over", then subsampled planes take the mean of the pixels
// each sample stands for.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wmtest {

// A small straight-alpha RGBA image with all kinds of pixels: opaque,
// transparent and partly transparent, in varied colours.
struct Mark {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgba;
  const std::uint8_t* at(int x, int y) const { return rgba.data() + (y * width + x) * 4; }
};
Mark make_mark(int width, int height, unsigned seed);

// Saves mark as a PNG (via gdk-pixbuf). Returns false on failure.
bool save_png(const Mark& mark, const std::string& path);

// A frame of info's format filled with a pseudo-random pattern; in formats
// with alpha, some pixels are partly or fully transparent.
GstBuffer* make_frame(const GstVideoInfo& info, unsigned seed);

// What the frame must look like after blending mark with its top-left at
// (px, py) and the given opacity.
GstBuffer* expected_frame(const GstVideoInfo& info, GstBuffer* input, const Mark& mark, int px,
                          int py, double opacity);

struct Comparison {
  int max_diff = 0;           // largest difference to the expected frame
  int changed_outside = 0;    // samples changed where the mark does not reach
  int changed = 0;            // samples that differ from the input
  int padding_changed = 0;    // x bytes of RGBx-style formats that changed
  std::string first_problem;  // where the first discrepancy > 1 is
};
// Compares output with expected; samples whose pixels lie outside the mark's
// rectangle (px, py, width, height) must equal the input exactly.
Comparison compare(const GstVideoInfo& info, GstBuffer* input, GstBuffer* expected,
                   GstBuffer* output, const Mark& mark, int px, int py);

}  // namespace wmtest
