// Loads a PNG or JPEG file into a straight-alpha RGBA image (gdk-pixbuf).
#pragma once

#include <string>

#include "rgba_image.h"

namespace relais::watermark {

// Returns false and sets *error to a human-readable reason when the file is
// missing, unreadable or not an image. Does file I/O: never call under a lock.
bool load_image(const std::string& path, RgbaImage* out, std::string* error);

}  // namespace relais::watermark
