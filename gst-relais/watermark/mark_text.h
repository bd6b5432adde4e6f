// Renders a line (or lines) of text into a straight-alpha RGBA image with
// pango/cairo: the text in a colour, with a thin dark outline so it reads on
// any background.
#pragma once

#include <cstdint>
#include <string>

#include "rgba_image.h"

namespace relais::watermark {

// color is 0xAARRGGBB. Text without extent (only line breaks) gives an empty
// image. Returns false with *error set when the text is too large to render.
bool render_text(const std::string& text, const std::string& font_desc, std::uint32_t color,
                 RgbaImage* out, std::string* error);

}  // namespace relais::watermark
