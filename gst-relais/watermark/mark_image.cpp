#include "mark_image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#include <cstring>
#include <memory>

#include "glib_handles.h"

namespace relais::watermark {

namespace {
struct PixbufUnref {
  void operator()(GdkPixbuf* p) const { g_object_unref(p); }
};
using PixbufPtr = std::unique_ptr<GdkPixbuf, PixbufUnref>;
}  // namespace

bool load_image(const std::string& path, RgbaImage* out, std::string* error) {
  GError* raw_err = nullptr;
  PixbufPtr pixbuf(gdk_pixbuf_new_from_file(path.c_str(), &raw_err));
  GErrorPtr err(raw_err);
  if (!pixbuf) {
    *error = err ? err->message : "unknown error";
    return false;
  }
  if (gdk_pixbuf_get_colorspace(pixbuf.get()) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample(pixbuf.get()) != 8) {
    *error = "unsupported pixel layout (need 8-bit RGB or RGBA)";
    return false;
  }
  const int w = gdk_pixbuf_get_width(pixbuf.get());
  const int h = gdk_pixbuf_get_height(pixbuf.get());
  const int channels = gdk_pixbuf_get_n_channels(pixbuf.get());
  const bool has_alpha = gdk_pixbuf_get_has_alpha(pixbuf.get());
  const int stride = gdk_pixbuf_get_rowstride(pixbuf.get());
  const guint8* src = gdk_pixbuf_read_pixels(pixbuf.get());

  RgbaImage img = RgbaImage::blank(w, h);
  for (int y = 0; y < h; ++y) {
    const guint8* s = src + static_cast<size_t>(y) * stride;
    std::uint8_t* d = img.pixel(0, y);
    for (int x = 0; x < w; ++x, s += channels, d += 4) {
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
      d[3] = has_alpha ? s[3] : 255;
    }
  }
  *out = std::move(img);
  return true;
}

}  // namespace relais::watermark
