// Blends a prepared mark into a mapped, writable frame: straight-alpha "over",
// touching only the samples under the mark.
#pragma once

#include <gst/video/video.h>

#include "prepared_mark.h"

namespace relais::watermark {

// frame must be mapped for writing in the format the mark was prepared for.
void blend_mark(const PreparedMark& mark, GstVideoFrame* frame);

}  // namespace relais::watermark
