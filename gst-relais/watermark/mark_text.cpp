#include "mark_text.h"

#include <cairo.h>
#include <pango/pangocairo.h>

#include <cmath>
#include <memory>
#include <string>

namespace relais::watermark {

namespace {
struct SurfaceDestroy {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoDestroy {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct GObjectUnref {
  void operator()(gpointer o) const { g_object_unref(o); }
};
struct FontDescFree {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDestroy>;
using CairoPtr = std::unique_ptr<cairo_t, CairoDestroy>;
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectUnref>;
using FontDescPtr = std::unique_ptr<PangoFontDescription, FontDescFree>;

// Outline width in pixels, scaled with the font so small text stays legible.
double outline_width(const PangoFontDescription* desc) {
  double size_px = pango_font_description_get_size(desc) / static_cast<double>(PANGO_SCALE);
  if (!pango_font_description_get_size_is_absolute(desc)) size_px *= 96.0 / 72.0;
  return std::max(1.0, std::round(size_px / 12.0));
}
}  // namespace

bool render_text(const std::string& text, const std::string& font_desc, std::uint32_t color,
                 RgbaImage* out, std::string* error) {
  FontDescPtr desc(pango_font_description_from_string(font_desc.c_str()));
  if (pango_font_description_get_size(desc.get()) <= 0)
    pango_font_description_set_size(desc.get(), 20 * PANGO_SCALE);

  // Measure on a scratch surface, then draw on one of the right size.
  SurfacePtr scratch(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1));
  CairoPtr scratch_cr(cairo_create(scratch.get()));
  LayoutPtr layout(pango_cairo_create_layout(scratch_cr.get()));
  pango_layout_set_font_description(layout.get(), desc.get());
  // Property strings are not guaranteed UTF-8: show what is valid, mark the rest.
  std::unique_ptr<gchar, decltype(&g_free)> valid(g_utf8_make_valid(text.c_str(), -1), g_free);
  pango_layout_set_text(layout.get(), valid.get(), -1);
  PangoRectangle ink, logical;
  pango_layout_get_pixel_extents(layout.get(), &ink, &logical);

  const double outline = outline_width(desc.get());
  const int pad = static_cast<int>(std::ceil(outline)) + 1;
  const int left = std::min(ink.x, logical.x);
  const int top = std::min(ink.y, logical.y);
  const int right = std::max(ink.x + ink.width, logical.x + logical.width);
  const int bottom = std::max(ink.y + ink.height, logical.y + logical.height);
  const int w = right - left + 2 * pad;
  const int h = bottom - top + 2 * pad;
  if (right <= left || bottom <= top) {  // e.g. only line breaks: nothing to draw
    *out = RgbaImage();
    return true;
  }
  if (w > 16384 || h > 16384) {
    *error = "the text would be " + std::to_string(w) + "x" + std::to_string(h) +
             " pixels, more than 16384 in one direction";
    return false;
  }

  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    *error = "could not allocate the text surface";
    return false;
  }
  CairoPtr cr(cairo_create(surface.get()));
  pango_cairo_update_layout(cr.get(), layout.get());
  const double a = ((color >> 24) & 0xff) / 255.0;
  const double r = ((color >> 16) & 0xff) / 255.0;
  const double g = ((color >> 8) & 0xff) / 255.0;
  const double b = (color & 0xff) / 255.0;

  cairo_move_to(cr.get(), pad - left, pad - top);
  pango_cairo_layout_path(cr.get(), layout.get());
  cairo_set_source_rgba(cr.get(), 0, 0, 0, 0.75 * a);
  cairo_set_line_width(cr.get(), 2 * outline);
  cairo_set_line_join(cr.get(), CAIRO_LINE_JOIN_ROUND);
  cairo_stroke(cr.get());

  cairo_move_to(cr.get(), pad - left, pad - top);
  cairo_set_source_rgba(cr.get(), r, g, b, a);
  pango_cairo_show_layout(cr.get(), layout.get());
  cairo_surface_flush(surface.get());

  // Cairo's ARGB32 is premultiplied, native-endian 0xAARRGGBB words.
  RgbaImage img = RgbaImage::blank(w, h);
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < h; ++y) {
    const auto* src =
        reinterpret_cast<const std::uint32_t*>(data + static_cast<size_t>(y) * stride);
    std::uint8_t* d = img.pixel(0, y);
    for (int x = 0; x < w; ++x, d += 4) {
      const std::uint32_t px = src[x];
      const unsigned pa = px >> 24;
      if (pa == 0) continue;
      for (int c = 0; c < 3; ++c) {
        const unsigned pc = (px >> (16 - 8 * c)) & 0xff;
        d[c] = static_cast<std::uint8_t>(std::min(255u, (pc * 255 + pa / 2) / pa));
      }
      d[3] = static_cast<std::uint8_t>(pa);
    }
  }
  *out = std::move(img);
  return true;
}

}  // namespace relais::watermark
