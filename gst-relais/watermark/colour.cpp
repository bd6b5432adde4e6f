#include "colour.h"

#include <algorithm>

namespace relais::watermark {

ComponentConverter::ComponentConverter(const GstVideoInfo& info)
    : rgb_(GST_VIDEO_INFO_IS_RGB(&info)), gray_(GST_VIDEO_INFO_IS_GRAY(&info)) {
  gdouble kr, kb;
  if (gst_video_color_matrix_get_Kr_Kb(info.colorimetry.matrix, &kr, &kb)) {
    kr_ = kr;
    kb_ = kb;
  }
  gint offset[GST_VIDEO_MAX_COMPONENTS] = {};
  gint scale[GST_VIDEO_MAX_COMPONENTS] = {};
  gst_video_color_range_offsets(info.colorimetry.range, info.finfo, offset, scale);
  for (int c = 0; c < 3; ++c) {
    offset_[c] = offset[c];
    scale_[c] = scale[c];
  }
}

void ComponentConverter::operator()(const std::uint8_t rgb[3], double out[3]) const {
  if (rgb_) {
    for (int c = 0; c < 3; ++c) out[c] = rgb[c];
    return;
  }
  const double r = rgb[0] / 255.0, g = rgb[1] / 255.0, b = rgb[2] / 255.0;
  const double y = kr_ * r + (1.0 - kr_ - kb_) * g + kb_ * b;
  out[0] = offset_[0] + scale_[0] * y;
  out[1] = gray_ ? 0.0 : offset_[1] + scale_[1] * (b - y) / (2 * (1 - kb_));
  out[2] = gray_ ? 0.0 : offset_[2] + scale_[2] * (r - y) / (2 * (1 - kr_));
  for (int c = 0; c < 3; ++c) out[c] = std::clamp(out[c], 0.0, 255.0);
}

}  // namespace relais::watermark
