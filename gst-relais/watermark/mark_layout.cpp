#include "mark_layout.h"

#include <algorithm>
#include <cstring>

namespace relais::watermark {

namespace {
// Floor division, so a mark larger than the frame is centred symmetrically.
int floor_half(int v) {
  return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

int aligned_x(Position position, int outer_w, int inner_w) {
  switch (position) {
    case Position::kTopLeft:
    case Position::kBottomLeft:
      return 0;
    case Position::kTopRight:
    case Position::kBottomRight:
      return outer_w - inner_w;
    case Position::kCenter:
      break;
  }
  return floor_half(outer_w - inner_w);
}

void copy_into(const RgbaImage& src, RgbaImage* dst, int x0, int y0) {
  for (int y = 0; y < src.height; ++y)
    std::memcpy(dst->pixel(x0, y0 + y), src.pixel(0, y), static_cast<size_t>(src.width) * 4);
}
}  // namespace

Point place_mark(Position position, int frame_w, int frame_h, int mark_w, int mark_h, int dx,
                 int dy) {
  Point p;
  // Offsets may be anything in the int range: add in 64 bits, then keep the
  // result where it still means "this far outside the frame".
  const auto add = [](int base, int offset) {
    constexpr long long kFar = 1 << 30;
    return static_cast<int>(std::clamp(static_cast<long long>(base) + offset, -kFar, kFar));
  };
  switch (position) {
    case Position::kTopLeft:
      break;
    case Position::kTopRight:
      p.x = frame_w - mark_w;
      break;
    case Position::kBottomLeft:
      p.y = frame_h - mark_h;
      break;
    case Position::kBottomRight:
      p.x = frame_w - mark_w;
      p.y = frame_h - mark_h;
      break;
    case Position::kCenter:
      p.x = floor_half(frame_w - mark_w);
      p.y = floor_half(frame_h - mark_h);
      break;
  }
  p.x = add(p.x, dx);
  p.y = add(p.y, dy);
  return p;
}

RgbaImage stack_mark(const RgbaImage& image, const RgbaImage& text, Position position) {
  if (image.empty()) return text;
  if (text.empty()) return image;
  const int w = std::max(image.width, text.width);
  RgbaImage out = RgbaImage::blank(w, image.height + text.height);
  copy_into(image, &out, aligned_x(position, w, image.width), 0);
  copy_into(text, &out, aligned_x(position, w, text.width), image.height);
  return out;
}

}  // namespace relais::watermark
