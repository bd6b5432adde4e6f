#include "harness_util.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace wmtest {

HarnessPtr make_harness(const std::string& properties, const std::string& caps) {
  // A one-element description parses to that element itself, so the harness
  // (and its property stress threads) act on relaiswatermark, not on a bin.
  GError* err = nullptr;
  GstElement* element = gst_parse_launch(("relaiswatermark " + properties).c_str(), &err);
  if (err) g_error_free(err);
  if (!element) return nullptr;
  HarnessPtr h(gst_harness_new_with_element(element, "sink", "src"));
  gst_object_unref(element);
  gst_harness_set_src_caps_str(h.get(), caps.c_str());
  return h;
}

std::string caps_for(GstVideoFormat format, int width, int height) {
  std::string caps = std::string("video/x-raw,format=") + gst_video_format_to_string(format) +
                     ",width=" + std::to_string(width) + ",height=" + std::to_string(height) +
                     ",framerate=30/1";
  const GstVideoFormatInfo* f = gst_video_format_get_info(format);
  if (GST_VIDEO_FORMAT_INFO_IS_YUV(f)) caps += ",colorimetry=bt601";
  return caps;
}

GstVideoInfo info_for(const std::string& caps) {
  GstVideoInfo info;
  GstCaps* c = gst_caps_from_string(caps.c_str());
  gst_video_info_from_caps(&info, c);
  gst_caps_unref(c);
  return info;
}

Box changed_luma(const GstVideoInfo& info, GstBuffer* before, GstBuffer* after) {
  Box b;
  GstVideoFrame f0, f1;
  gst_video_frame_map(&f0, const_cast<GstVideoInfo*>(&info), before, GST_MAP_READ);
  gst_video_frame_map(&f1, const_cast<GstVideoInfo*>(&info), after, GST_MAP_READ);
  for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); ++y) {
    const auto* r0 = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&f0, 0)) +
                     y * GST_VIDEO_FRAME_PLANE_STRIDE(&f0, 0);
    const auto* r1 = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&f1, 0)) +
                     y * GST_VIDEO_FRAME_PLANE_STRIDE(&f1, 0);
    for (int x = 0; x < GST_VIDEO_INFO_WIDTH(&info); ++x) {
      if (r0[x] == r1[x]) continue;
      b.changed++;
      if (r1[x] > 200) b.bright++;
      if (r1[x] < r0[x]) b.dark++;
      b.x0 = std::min(b.x0, x);
      b.y0 = std::min(b.y0, y);
      b.x1 = std::max(b.x1, x + 1);
      b.y1 = std::max(b.y1, y + 1);
    }
  }
  gst_video_frame_unmap(&f1);
  gst_video_frame_unmap(&f0);
  return b;
}

GstBuffer* grey_i420(const GstVideoInfo& info) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(buf, 0, 128, GST_VIDEO_INFO_SIZE(&info));  // mid grey, neutral chroma
  return buf;
}

void expect_matches_reference(const GstVideoInfo& info, GstBuffer* original, GstBuffer* output,
                              const Mark& mark, int px, int py, double opacity) {
  BufferPtr expected(expected_frame(info, original, mark, px, py, opacity));
  const Comparison r = compare(info, original, expected.get(), output, mark, px, py);
  EXPECT_LE(r.max_diff, 1) << r.first_problem;
  EXPECT_EQ(r.changed_outside, 0) << "samples changed away from the mark";
  EXPECT_EQ(r.padding_changed, 0) << "padding bytes of 4-byte pixels changed";
  if (opacity > 0) {
    EXPECT_GT(r.changed, 0) << "the mark was not drawn";
  }
}

}  // namespace wmtest
