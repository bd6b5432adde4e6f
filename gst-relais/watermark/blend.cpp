#include "blend.h"

#include <cstdint>

namespace relais::watermark {

namespace {

// out = mark * coverage + frame * (1 - coverage), in 16.16 fixed point, rounded.
inline std::uint8_t over(std::uint32_t premul, std::uint32_t inv, std::uint8_t dst) {
  return static_cast<std::uint8_t>((premul + dst * inv + kOne / 2) >> 16);
}

// One byte per sample (planar Y, U, V and GRAY8): contiguous, vectorisable.
void blend_planar(const PlaneMark& m, std::uint8_t* base, int stride) {
  for (int r = 0; r < m.height; ++r) {
    const int b = m.span_begin[r], e = m.span_end[r];
    if (b >= e) continue;
    std::uint8_t* row = base + static_cast<size_t>(m.y0 + r) * stride + m.x0;
    const size_t o = static_cast<size_t>(r) * m.width;
    const std::uint32_t* inv = m.inv.data() + o;
    const std::uint32_t* p = m.premul.data() + o;
    for (int i = b; i < e; ++i) row[i] = over(p[i], inv[i], row[i]);
  }
}

// Several interleaved components per sample (NV12/NV21 chroma, packed RGB
// without a frame alpha, where an x byte is left alone).
template <int N>
void blend_interleaved(const PlaneMark& m, std::uint8_t* base, int stride) {
  const size_t n = static_cast<size_t>(m.width) * m.height;
  const int ps = m.pstride;
  for (int r = 0; r < m.height; ++r) {
    const int b = m.span_begin[r], e = m.span_end[r];
    if (b >= e) continue;
    std::uint8_t* row =
        base + static_cast<size_t>(m.y0 + r) * stride + static_cast<size_t>(m.x0) * ps;
    const size_t o = static_cast<size_t>(r) * m.width;
    const std::uint32_t* inv = m.inv.data() + o;
    const std::uint32_t* p = m.premul.data() + o;
    for (int i = b; i < e; ++i) {
      std::uint8_t* px = row + static_cast<size_t>(i) * ps;
      for (int k = 0; k < N; ++k) px[m.offsets[k]] = over(p[k * n + i], inv[i], px[m.offsets[k]]);
    }
  }
}

// Packed RGB with a frame alpha: Porter-Duff "over" of two straight-alpha
// images. Opaque frame pixels (the usual case) take the plain path.
void blend_with_frame_alpha(const PlaneMark& m, std::uint8_t* base, int stride) {
  const size_t n = static_cast<size_t>(m.width) * m.height;
  const int ps = m.pstride;
  const int ao = m.alpha_offset;
  for (int r = 0; r < m.height; ++r) {
    const int b = m.span_begin[r], e = m.span_end[r];
    if (b >= e) continue;
    std::uint8_t* row =
        base + static_cast<size_t>(m.y0 + r) * stride + static_cast<size_t>(m.x0) * ps;
    const size_t o = static_cast<size_t>(r) * m.width;
    const std::uint32_t* inv = m.inv.data() + o;
    const std::uint32_t* p = m.premul.data() + o;
    for (int i = b; i < e; ++i) {
      std::uint8_t* px = row + static_cast<size_t>(i) * ps;
      const std::uint32_t da = px[ao];
      if (da == 255) {
        for (int k = 0; k < 3; ++k) px[m.offsets[k]] = over(p[k * n + i], inv[i], px[m.offsets[k]]);
        continue;
      }
      // out_a = a + da (1 - a); out_c = (c a + dc da (1 - a)) / out_a, all scaled by 255 * kOne.
      const std::uint64_t den = static_cast<std::uint64_t>(kOne - inv[i]) * 255 + da * inv[i];
      if (den == 0) continue;
      for (int k = 0; k < 3; ++k) {
        std::uint8_t& c = px[m.offsets[k]];
        const std::uint64_t num = static_cast<std::uint64_t>(p[k * n + i]) * 255 +
                                  static_cast<std::uint64_t>(c) * da * inv[i];
        c = static_cast<std::uint8_t>((num + den / 2) / den);
      }
      px[ao] = static_cast<std::uint8_t>((den + kOne / 2) >> 16);
    }
  }
}

}  // namespace

void blend_mark(const PreparedMark& mark, GstVideoFrame* frame) {
  for (const PlaneMark& m : mark.planes) {
    auto* base = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, m.plane));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, m.plane);
    if (m.alpha_offset >= 0 && m.ncomp == 3)
      blend_with_frame_alpha(m, base, stride);
    else if (m.ncomp == 1 && m.pstride == 1 && m.offsets[0] == 0)
      blend_planar(m, base, stride);
    else if (m.ncomp == 2)
      blend_interleaved<2>(m, base, stride);
    else if (m.ncomp == 3)
      blend_interleaved<3>(m, base, stride);
    else
      blend_interleaved<1>(m, base, stride);
  }
}

}  // namespace relais::watermark
