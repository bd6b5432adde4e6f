#include "prepared_mark.h"

#include <algorithm>
#include <cmath>

#include "colour.h"

namespace relais::watermark {

bool format_supported(GstVideoFormat format) {
  switch (format) {
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_YV12:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_NV21:
    case GST_VIDEO_FORMAT_Y42B:
    case GST_VIDEO_FORMAT_Y444:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_GRAY8:
      return true;
    default:
      return false;
  }
}

namespace {

// The mark clipped to the frame, at full resolution: coverage and colour.
struct Coverage {
  int x0, y0, x1, y1;           // clipped rectangle in frame pixels, [x0, x1) x [y0, y1)
  std::vector<double> alpha;    // 0..1, (x1 - x0) * (y1 - y0)
  std::vector<double> comp[3];  // frame components of each pixel, 0..255
  int width() const { return x1 - x0; }
  size_t index(int x, int y) const { return static_cast<size_t>(y - y0) * width() + (x - x0); }
};

PlaneMark prepare_plane(const Coverage& cov, const GstVideoInfo& info, int plane, const int* comps,
                        int ncomp) {
  const GstVideoFormatInfo* finfo = info.finfo;
  const int frame_w = GST_VIDEO_INFO_WIDTH(&info);
  const int frame_h = GST_VIDEO_INFO_HEIGHT(&info);
  const int ws = GST_VIDEO_FORMAT_INFO_W_SUB(finfo, comps[0]);
  const int hs = GST_VIDEO_FORMAT_INFO_H_SUB(finfo, comps[0]);

  PlaneMark pm;
  pm.plane = plane;
  pm.ncomp = ncomp;
  pm.pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, comps[0]);
  for (int k = 0; k < ncomp; ++k) pm.offsets[k] = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, comps[k]);
  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA(finfo) &&
      static_cast<int>(GST_VIDEO_FORMAT_INFO_PLANE(finfo, 3)) == plane)
    pm.alpha_offset = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 3);
  pm.x0 = cov.x0 >> ws;
  pm.y0 = cov.y0 >> hs;
  pm.width = ((cov.x1 - 1) >> ws) + 1 - pm.x0;
  pm.height = ((cov.y1 - 1) >> hs) + 1 - pm.y0;

  const size_t row_bytes = static_cast<size_t>(pm.row_bytes());
  pm.inv.assign(row_bytes * pm.height, kOne);
  pm.premul.assign(row_bytes * pm.height, 0);
  pm.span_begin.assign(pm.height, 0);
  pm.span_end.assign(pm.height, 0);
  if (pm.alpha_offset >= 0) {
    pm.coverage.assign(static_cast<size_t>(pm.width) * pm.height, 0.0f);
    pm.colour.assign(static_cast<size_t>(pm.width) * pm.height * ncomp, 0);
  }

  for (int r = 0; r < pm.height; ++r) {
    const int sy = pm.y0 + r;
    // Luma rows this sample row stands for, within the frame, then within the mark.
    const int fy0 = sy << hs, fy1 = std::min((sy + 1) << hs, frame_h);
    const int my0 = std::max(fy0, cov.y0), my1 = std::min(fy1, cov.y1);
    std::uint16_t* inv_row = pm.inv.data() + r * row_bytes;
    std::uint16_t* premul_row = pm.premul.data() + r * row_bytes;
    int first = pm.width, last = -1;
    for (int i = 0; i < pm.width; ++i) {
      const int sx = pm.x0 + i;
      const int fx0 = sx << ws, fx1 = std::min((sx + 1) << ws, frame_w);
      const int mx0 = std::max(fx0, cov.x0), mx1 = std::min(fx1, cov.x1);
      const double count = static_cast<double>((fx1 - fx0) * (fy1 - fy0));
      double sum_a = 0, sum_c[3] = {0, 0, 0};
      for (int y = my0; y < my1; ++y) {
        for (int x = mx0; x < mx1; ++x) {
          const size_t idx = cov.index(x, y);
          const double a = cov.alpha[idx];
          sum_a += a;
          for (int k = 0; k < ncomp; ++k) sum_c[k] += a * cov.comp[comps[k]][idx];
        }
      }
      if (sum_a <= 0) continue;
      first = std::min(first, i);
      last = i;
      if (pm.alpha_offset >= 0) {
        const size_t s = static_cast<size_t>(r) * pm.width + i;
        pm.coverage[s] = static_cast<float>(sum_a / count);
        for (int k = 0; k < ncomp; ++k)
          pm.colour[s * ncomp + k] = static_cast<std::uint8_t>(std::lround(sum_c[k] / sum_a));
      }
      const long inv = std::lround(kOne * (1.0 - sum_a / count));
      if (inv >= kOne) continue;
      // premul + 255 * inv + 128 must fit 16 bits: cap rounding overshoot.
      const long cap = 255 * (kOne - inv) + 127;
      std::uint16_t* iv = inv_row + static_cast<size_t>(i) * pm.pstride;
      std::uint16_t* pv = premul_row + static_cast<size_t>(i) * pm.pstride;
      for (int k = 0; k < ncomp; ++k) {
        iv[pm.offsets[k]] = static_cast<std::uint16_t>(inv);
        pv[pm.offsets[k]] =
            static_cast<std::uint16_t>(std::min(std::lround(kOne * sum_c[k] / count), cap));
      }
    }
    if (last >= first) {
      pm.span_begin[r] = first * pm.pstride;
      pm.span_end[r] = (last + 1) * pm.pstride;
    }
  }
  return pm;
}

}  // namespace

PreparedMark prepare_mark(const RgbaImage& mark, Point at, double opacity,
                          const GstVideoInfo& info) {
  PreparedMark out;
  const int frame_w = GST_VIDEO_INFO_WIDTH(&info);
  const int frame_h = GST_VIDEO_INFO_HEIGHT(&info);
  if (mark.empty() || opacity <= 0.0 || !format_supported(GST_VIDEO_INFO_FORMAT(&info))) return out;
  opacity = std::min(opacity, 1.0);

  Coverage cov;
  // 64-bit arithmetic: offsets may be anywhere in the int range.
  cov.x0 = static_cast<int>(std::max<long long>(at.x, 0));
  cov.y0 = static_cast<int>(std::max<long long>(at.y, 0));
  cov.x1 =
      static_cast<int>(std::min<long long>(static_cast<long long>(at.x) + mark.width, frame_w));
  cov.y1 =
      static_cast<int>(std::min<long long>(static_cast<long long>(at.y) + mark.height, frame_h));
  if (cov.x0 >= cov.x1 || cov.y0 >= cov.y1) return out;

  const size_t n = static_cast<size_t>(cov.x1 - cov.x0) * (cov.y1 - cov.y0);
  cov.alpha.assign(n, 0.0);
  for (auto& c : cov.comp) c.assign(n, 0.0);
  const ComponentConverter convert(info);
  bool any = false;
  for (int y = cov.y0; y < cov.y1; ++y) {
    for (int x = cov.x0; x < cov.x1; ++x) {
      const std::uint8_t* px = mark.pixel(x - at.x, y - at.y);
      if (px[3] == 0) continue;
      const size_t idx = cov.index(x, y);
      cov.alpha[idx] = px[3] / 255.0 * opacity;
      double comp[3];
      convert(px, comp);
      for (int c = 0; c < 3; ++c) cov.comp[c][idx] = comp[c];
      any = true;
    }
  }
  if (!any) return out;

  const GstVideoFormatInfo* finfo = info.finfo;
  const int ncomps = std::min<int>(GST_VIDEO_FORMAT_INFO_N_COMPONENTS(finfo), 3);
  for (int plane = 0; plane < static_cast<int>(GST_VIDEO_INFO_N_PLANES(&info)); ++plane) {
    int comps[3];
    int k = 0;
    for (int c = 0; c < ncomps; ++c)
      if (static_cast<int>(GST_VIDEO_FORMAT_INFO_PLANE(finfo, c)) == plane) comps[k++] = c;
    if (k > 0) out.planes.push_back(prepare_plane(cov, info, plane, comps, k));
  }
  return out;
}

}  // namespace relais::watermark
