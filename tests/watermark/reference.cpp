#include "reference.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

namespace wmtest {

namespace {

unsigned next(unsigned* state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

// The mark's colour in the frame's components. YUV caps in these tests are
// BT.601 limited range; GRAY8 is full-range BT.601 luma.
void mark_components(const GstVideoInfo& info, const std::uint8_t* rgba, double out[3]) {
  const double r = rgba[0], g = rgba[1], b = rgba[2];
  if (GST_VIDEO_INFO_IS_RGB(&info)) {
    out[0] = r;
    out[1] = g;
    out[2] = b;
    return;
  }
  const double luma = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
  if (GST_VIDEO_INFO_IS_GRAY(&info)) {
    out[0] = 255.0 * luma;
    out[1] = out[2] = 0;
    return;
  }
  out[0] = 16.0 + 219.0 * luma;
  out[1] = 128.0 + 224.0 * (b / 255.0 - luma) / 1.772;
  out[2] = 128.0 + 224.0 * (r / 255.0 - luma) / 1.402;
}

struct Frame {
  GstVideoFrame f{};
  bool ok = false;
  Frame(const GstVideoInfo& info, GstBuffer* buf, GstMapFlags flags) {
    ok = gst_video_frame_map(&f, const_cast<GstVideoInfo*>(&info), buf, flags);
  }
  ~Frame() {
    if (ok) gst_video_frame_unmap(&f);
  }
  std::uint8_t* sample(int comp, int sx, int sy) {
    return static_cast<std::uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&f, comp)) +
           sy * GST_VIDEO_FRAME_COMP_STRIDE(&f, comp) + sx * GST_VIDEO_FRAME_COMP_PSTRIDE(&f, comp);
  }
};

int comp_w_sub(const GstVideoInfo& info, int c) {
  return GST_VIDEO_FORMAT_INFO_W_SUB(info.finfo, c);
}
int comp_h_sub(const GstVideoInfo& info, int c) {
  return GST_VIDEO_FORMAT_INFO_H_SUB(info.finfo, c);
}

bool block_meets_mark(const GstVideoInfo& info, int c, int sx, int sy, const Mark& mark, int px,
                      int py) {
  const int ws = comp_w_sub(info, c), hs = comp_h_sub(info, c);
  const int x0 = sx << ws, x1 = (sx + 1) << ws, y0 = sy << hs, y1 = (sy + 1) << hs;
  return x0 < px + mark.width && px < x1 && y0 < py + mark.height && py < y1;
}

}  // namespace

Mark make_mark(int width, int height, unsigned seed) {
  Mark m;
  m.width = width;
  m.height = height;
  m.rgba.resize(static_cast<size_t>(width) * height * 4);
  unsigned st = seed;
  static const std::uint8_t alphas[] = {0, 255, 255, 128, 1, 254, 77, 200};
  for (int i = 0; i < width * height; ++i) {
    m.rgba[i * 4 + 0] = static_cast<std::uint8_t>(next(&st));
    m.rgba[i * 4 + 1] = static_cast<std::uint8_t>(next(&st));
    m.rgba[i * 4 + 2] = static_cast<std::uint8_t>(next(&st));
    m.rgba[i * 4 + 3] = alphas[next(&st) % 8];
  }
  return m;
}

bool save_png(const Mark& mark, const std::string& path) {
  GdkPixbuf* pb =
      gdk_pixbuf_new_from_data(mark.rgba.data(), GDK_COLORSPACE_RGB, TRUE, 8, mark.width,
                               mark.height, mark.width * 4, nullptr, nullptr);
  GError* err = nullptr;
  const gboolean ok = gdk_pixbuf_save(pb, path.c_str(), "png", &err, nullptr);
  if (err) g_error_free(err);
  g_object_unref(pb);
  return ok;
}

GstBuffer* make_frame(const GstVideoInfo& info, unsigned seed) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  Frame fr(info, buf, GST_MAP_WRITE);
  unsigned st = seed;
  // Fill whole planes (padding too) so untouched bytes are recognisable.
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); ++p) {
    auto* d = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&fr.f, p));
    const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&fr.f, p == 0 ? 0 : 1);
    const size_t bytes = static_cast<size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&fr.f, p)) * rows;
    for (size_t i = 0; i < bytes; ++i) d[i] = static_cast<std::uint8_t>(next(&st));
  }
  if (GST_VIDEO_INFO_HAS_ALPHA(&info)) {
    static const std::uint8_t alphas[] = {255, 255, 255, 255, 0, 90, 180, 255};
    for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); ++y)
      for (int x = 0; x < GST_VIDEO_INFO_WIDTH(&info); ++x)
        *fr.sample(3, x, y) = alphas[next(&st) % 8];
  }
  return buf;
}

GstBuffer* expected_frame(const GstVideoInfo& info, GstBuffer* input, const Mark& mark, int px,
                          int py, double opacity) {
  GstBuffer* out = gst_buffer_copy_deep(input);
  Frame in(info, input, GST_MAP_READ);
  Frame ex(info, out, GST_MAP_WRITE);
  const int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
  const bool alpha = GST_VIDEO_INFO_HAS_ALPHA(&info);
  const int ncolor = GST_VIDEO_INFO_IS_GRAY(&info) ? 1 : 3;

  // Full-resolution result of every pixel, per component (alpha last).
  std::vector<double> full[4];
  for (auto& v : full) v.assign(static_cast<size_t>(w) * h, 0.0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      double dst[4] = {0, 0, 0, 255};
      for (int c = 0; c < ncolor; ++c)
        dst[c] = *in.sample(c, x >> comp_w_sub(info, c), y >> comp_h_sub(info, c));
      if (alpha) dst[3] = *in.sample(3, x, y);
      const int mx = x - px, my = y - py;
      double a = 0, src[3] = {0, 0, 0};
      if (mx >= 0 && my >= 0 && mx < mark.width && my < mark.height) {
        a = mark.at(mx, my)[3] / 255.0 * opacity;
        mark_components(info, mark.at(mx, my), src);
      }
      if (!alpha) {
        for (int c = 0; c < ncolor; ++c) full[c][i] = a * src[c] + (1 - a) * dst[c];
        continue;
      }
      // Porter-Duff over with straight alpha on both sides.
      const double da = dst[3] / 255.0;
      const double oa = a + da * (1 - a);
      for (int c = 0; c < 3; ++c)
        full[c][i] = oa > 0 ? (src[c] * a + dst[c] * da * (1 - a)) / oa : dst[c];
      full[3][i] = oa * 255.0;
    }
  }

  std::vector<int> comps;
  for (int c = 0; c < ncolor; ++c) comps.push_back(c);
  if (alpha) comps.push_back(3);
  for (int c : comps) {
    const int ws = comp_w_sub(info, c), hs = comp_h_sub(info, c);
    const int cw = GST_VIDEO_INFO_COMP_WIDTH(&info, c), ch = GST_VIDEO_INFO_COMP_HEIGHT(&info, c);
    for (int sy = 0; sy < ch; ++sy) {
      for (int sx = 0; sx < cw; ++sx) {
        if (!block_meets_mark(info, c, sx, sy, mark, px, py)) continue;
        double sum = 0;
        int n = 0;
        for (int y = sy << hs; y < std::min((sy + 1) << hs, h); ++y)
          for (int x = sx << ws; x < std::min((sx + 1) << ws, w); ++x, ++n)
            sum += full[c][static_cast<size_t>(y) * w + x];
        *ex.sample(c, sx, sy) =
            static_cast<std::uint8_t>(std::clamp(std::lround(sum / n), 0L, 255L));
      }
    }
  }
  return out;
}

Comparison compare(const GstVideoInfo& info, GstBuffer* input, GstBuffer* expected,
                   GstBuffer* output, const Mark& mark, int px, int py) {
  Comparison r;
  Frame in(info, input, GST_MAP_READ);
  Frame ex(info, expected, GST_MAP_READ);
  Frame out(info, output, GST_MAP_READ);
  if (!in.ok || !ex.ok || !out.ok) {
    r.first_problem = "could not map a frame";
    r.max_diff = 256;
    return r;
  }
  for (int c = 0; c < static_cast<int>(GST_VIDEO_INFO_N_COMPONENTS(&info)); ++c) {
    const int cw = GST_VIDEO_INFO_COMP_WIDTH(&info, c), ch = GST_VIDEO_INFO_COMP_HEIGHT(&info, c);
    for (int sy = 0; sy < ch; ++sy) {
      for (int sx = 0; sx < cw; ++sx) {
        const int o = *out.sample(c, sx, sy), e = *ex.sample(c, sx, sy), i = *in.sample(c, sx, sy);
        const int d = std::abs(o - e);
        if (d > 1 && r.first_problem.empty()) {
          std::ostringstream s;
          s << "component " << c << " sample (" << sx << "," << sy << "): got " << o
            << ", expected " << e << ", input " << i;
          r.first_problem = s.str();
        }
        r.max_diff = std::max(r.max_diff, d);
        if (o != i) r.changed++;
        if (o != i && !block_meets_mark(info, c, sx, sy, mark, px, py)) r.changed_outside++;
      }
    }
  }
  // Padding bytes of 4-byte pixels without alpha (RGBx, xRGB, ...).
  const GstVideoFormatInfo* f = info.finfo;
  if (GST_VIDEO_INFO_IS_RGB(&info) && !GST_VIDEO_INFO_HAS_ALPHA(&info) &&
      GST_VIDEO_FORMAT_INFO_PSTRIDE(f, 0) == 4) {
    const int pad = 6 - GST_VIDEO_FORMAT_INFO_POFFSET(f, 0) - GST_VIDEO_FORMAT_INFO_POFFSET(f, 1) -
                    GST_VIDEO_FORMAT_INFO_POFFSET(f, 2);
    for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); ++y)
      for (int x = 0; x < GST_VIDEO_INFO_WIDTH(&info); ++x) {
        const auto* a = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&in.f, 0)) +
                        y * GST_VIDEO_FRAME_PLANE_STRIDE(&in.f, 0) + x * 4 + pad;
        const auto* b = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&out.f, 0)) +
                        y * GST_VIDEO_FRAME_PLANE_STRIDE(&out.f, 0) + x * 4 + pad;
        if (*a != *b) r.padding_changed++;
      }
  }
  return r;
}

}  // namespace wmtest
