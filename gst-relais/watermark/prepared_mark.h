// The mark converted once into a frame's format and position: for every plane
// of the frame, the samples the mark covers, each with the frame's remaining
// weight and the mark's premultiplied colour in that plane's components.
// Chroma samples average the coverage of the luma pixels they stand for, so a
// mark at an odd offset over subsampled chroma is blended exactly as if the
// frame had been blended at full resolution and then subsampled.
#pragma once

#include <gst/video/video.h>

#include <cstdint>
#include <vector>

#include "mark_layout.h"
#include "rgba_image.h"

namespace relais::watermark {

// Fixed point used by the blend: 8 fractional bits, so the kernel works on
// 16-bit lanes (out = (premul + frame * inv + 128) >> 8). Coverage is rounded
// to 1/256; the result stays within one level of the exact blend.
constexpr std::uint16_t kOne = 256;

// The part of one frame plane under the mark, byte by byte: every byte the
// covered samples occupy has its own premultiplied value and frame weight
// (bytes the mark must not change keep weight kOne: the x of RGBx, and the
// frame's alpha, which stays 255 on opaque rows, the only ones blended this way).
struct PlaneMark {
  int plane = 0;          // index of the frame plane
  int x0 = 0, y0 = 0;     // first covered sample, in the plane's sample grid
  int width = 0;          // covered samples per row
  int height = 0;         // covered rows
  int pstride = 1;        // bytes per sample in the frame
  int ncomp = 0;          // colour components in this plane (1..3)
  int offsets[3] = {};    // byte offset of each colour component within a sample
  int alpha_offset = -1;  // byte offset of the frame's own alpha, or -1
  // height rows of width * pstride values each.
  std::vector<std::uint16_t> premul;  // mark value * coverage * kOne
  std::vector<std::uint16_t> inv;     // (1 - coverage) * kOne
  // Planes with a frame alpha only (packed RGBA family, never subsampled):
  // exact coverage (0..1) and straight colour per sample, for the frame's
  // pixels that are not opaque, where "over" needs a division.
  std::vector<float> coverage;       // width * height
  std::vector<std::uint8_t> colour;  // width * height * ncomp
  // Per row: bytes [span_begin, span_end) hold every sample with any coverage.
  std::vector<std::int32_t> span_begin, span_end;
  int row_bytes() const { return width * pstride; }
};

struct PreparedMark {
  std::vector<PlaneMark> planes;
  bool empty() const { return planes.empty(); }
};

// True for the formats relaiswatermark negotiates.
bool format_supported(GstVideoFormat format);

// Converts mark, with its top-left at `at` in the frame and scaled by opacity
// (0..1), for frames described by info. Empty when nothing would be drawn.
PreparedMark prepare_mark(const RgbaImage& mark, Point at, double opacity,
                          const GstVideoInfo& info);

}  // namespace relais::watermark
