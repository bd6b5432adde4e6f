#include "blend.h"

#include <cstdint>
#include <cstring>

namespace relais::watermark {

namespace {

// out = (premul + frame * inv + 128) >> 8 over a run of bytes. Every byte has
// its own weights, so one loop serves planar, semi-planar and packed layouts.
inline std::uint8_t over(std::uint16_t premul, std::uint16_t inv, std::uint8_t dst) {
  return static_cast<std::uint8_t>((premul + dst * inv + kOne / 2) >> 8);
}

#if defined(__GNUC__)
// 16 bytes at a time on 16-bit lanes (SSE2/NEON with GCC or Clang vector extensions).
using U16x16 = std::uint16_t __attribute__((vector_size(32)));
using U8x16 = std::uint8_t __attribute__((vector_size(16)));

void blend_bytes(std::uint8_t* dst, const std::uint16_t* premul, const std::uint16_t* inv, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    U8x16 d8;
    U16x16 p, w;
    std::memcpy(&d8, dst + i, sizeof d8);
    std::memcpy(&p, premul + i, sizeof p);
    std::memcpy(&w, inv + i, sizeof w);
    const U16x16 d = __builtin_convertvector(d8, U16x16);
    const U8x16 out = __builtin_convertvector((p + d * w + kOne / 2) >> 8, U8x16);
    std::memcpy(dst + i, &out, sizeof out);
  }
  for (; i < n; ++i) dst[i] = over(premul[i], inv[i], dst[i]);
}
#else
void blend_bytes(std::uint8_t* dst, const std::uint16_t* premul, const std::uint16_t* inv, int n) {
  for (int i = 0; i < n; ++i) dst[i] = over(premul[i], inv[i], dst[i]);
}
#endif

// A row of a frame with its own alpha where some pixels are not opaque:
// straight-alpha "over" then needs a division per pixel,
// out_a = a + da (1 - a), out_c = (c a + dc da (1 - a)) / out_a,
// done in floating point from the exact coverage (rare: video is opaque).
void blend_row_with_frame_alpha(const PlaneMark& m, int r, std::uint8_t* row, int begin, int end) {
  const int ps = m.pstride;
  for (int b = begin; b < end; b += ps) {
    const size_t s = static_cast<size_t>(r) * m.width + b / ps;
    const float a = m.coverage[s];
    if (a <= 0.0f) continue;
    std::uint8_t* px = row + b;
    const float da = px[m.alpha_offset] / 255.0f;
    const float keep = da * (1.0f - a);
    const float out_a = a + keep;
    for (int k = 0; k < m.ncomp; ++k) {
      std::uint8_t& c = px[m.offsets[k]];
      c = static_cast<std::uint8_t>((m.colour[s * m.ncomp + k] * a + c * keep) / out_a + 0.5f);
    }
    px[m.alpha_offset] = static_cast<std::uint8_t>(out_a * 255.0f + 0.5f);
  }
}

// True when every pixel in the row's span has alpha 255. Frames with alpha
// have 4-byte pixels and the span holds whole ones: AND them together, 16 bytes at a time, then
// look at the alpha bytes of the result.
bool row_opaque(const std::uint8_t* row, int begin, int end, int alpha_offset) {
  std::uint8_t acc[16];
  std::memset(acc, 0xff, sizeof acc);
  int b = begin;
#if defined(__GNUC__)
  U8x16 all;
  std::memcpy(&all, acc, sizeof all);
  for (; b + 16 <= end; b += 16) {
    U8x16 v;
    std::memcpy(&v, row + b, sizeof v);
    all &= v;
  }
  std::memcpy(acc, &all, sizeof acc);
#endif
  for (int k = 0; b < end; ++b, ++k) acc[k & 15] &= row[b];
  std::uint8_t alpha = 0xff;
  for (int k = alpha_offset; k < 16; k += 4) alpha &= acc[k];
  return alpha == 0xff;
}

}  // namespace

void blend_mark(const PreparedMark& mark, GstVideoFrame* frame) {
  for (const PlaneMark& m : mark.planes) {
    auto* base = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, m.plane));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, m.plane);
    const size_t row_bytes = static_cast<size_t>(m.row_bytes());
    for (int r = 0; r < m.height; ++r) {
      const int b = m.span_begin[r], e = m.span_end[r];
      if (b >= e) continue;
      std::uint8_t* row =
          base + static_cast<size_t>(m.y0 + r) * stride + static_cast<size_t>(m.x0) * m.pstride;
      const std::uint16_t* premul = m.premul.data() + r * row_bytes;
      const std::uint16_t* inv = m.inv.data() + r * row_bytes;
      if (m.alpha_offset >= 0 && !row_opaque(row, b, e, m.alpha_offset))
        blend_row_with_frame_alpha(m, r, row, b, e);
      else
        blend_bytes(row + b, premul + b, inv + b, e - b);
    }
  }
}

}  // namespace relais::watermark
