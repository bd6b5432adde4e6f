// A mark in memory: straight (not premultiplied) 8-bit RGBA, rows packed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace relais::watermark {

struct RgbaImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 4 bytes: R, G, B, A

  bool empty() const { return width <= 0 || height <= 0; }
  std::uint8_t* pixel(int x, int y) {
    return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 4;
  }
  const std::uint8_t* pixel(int x, int y) const {
    return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 4;
  }
  static RgbaImage blank(int width, int height) {
    RgbaImage img;
    img.width = width;
    img.height = height;
    img.pixels.assign(static_cast<std::size_t>(width) * height * 4, 0);
    return img;
  }
};

}  // namespace relais::watermark
