// The mark's colours in a frame format's own components (RGB, or YUV with
// the caps' matrix and range).
#pragma once

#include <gst/video/video.h>

#include <cstdint>

namespace relais::watermark {

// Colour of a straight RGB pixel (0..255 each) in the components of a
// format (indexed like GstVideoFormatInfo components: Y,U,V or R,G,B), using
// the caps' matrix and range (BT.601 when they name none).
class ComponentConverter {
 public:
  explicit ComponentConverter(const GstVideoInfo& info);
  void operator()(const std::uint8_t rgb[3], double out[3]) const;

 private:
  bool rgb_ = false;
  bool gray_ = false;
  double kr_ = 0.299, kb_ = 0.114;
  double offset_[3] = {}, scale_[3] = {};
};

}  // namespace relais::watermark
