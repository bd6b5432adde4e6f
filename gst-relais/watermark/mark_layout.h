// Where the mark goes: anchor positions, offsets, and stacking an image and a
// text into one mark.
#pragma once

#include "rgba_image.h"

namespace relais::watermark {

enum class Position { kTopLeft = 0, kTopRight, kBottomLeft, kBottomRight, kCenter };

struct Point {
  int x = 0;
  int y = 0;
};

// Top-left corner of a mark_w x mark_h mark in a frame_w x frame_h frame: the
// corner (or centre) named by position, plus (dx, dy) (positive: right/down).
// The result may lie partly or wholly outside the frame; blending clips it.
Point place_mark(Position position, int frame_w, int frame_h, int mark_w, int mark_h, int dx,
                 int dy);

// One mark from an image and/or a text: the text goes under the image, both
// aligned to the side named by position (left, right, or centred). Either
// input may be empty; the result is empty when both are.
RgbaImage stack_mark(const RgbaImage& image, const RgbaImage& text, Position position);

}  // namespace relais::watermark
