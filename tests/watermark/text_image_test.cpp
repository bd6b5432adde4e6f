// relaiswatermark: passthrough when there is nothing to draw, text lands
// where it should, JPEG logos.
#include <gtest/gtest.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "harness_util.h"
#include "reference.h"
#include "temp_dir.h"

namespace {

using wmtest::BufferPtr;
using wmtest::changed_luma;
using wmtest::grey_i420;
using wmtest::info_for;

// With nothing to draw the buffer goes through as is: same buffer, same
// bytes, even when it is not writable (no copy is made).
class WatermarkPassthrough : public ::testing::TestWithParam<const char*> {};

TEST_P(WatermarkPassthrough, BufferUntouched) {
  relais::test::TempDir dir;
  ASSERT_TRUE(wmtest::save_png(wmtest::make_mark(9, 7, 1), dir.file("mark.png")));
  std::string props = GetParam();
  const std::string key = "MARK";
  if (auto at = props.find(key); at != std::string::npos)
    props.replace(at, key.size(), dir.file("mark.png"));
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_NV12, 64, 48);
  wmtest::HarnessPtr h = wmtest::make_harness(props, caps);
  ASSERT_TRUE(h);
  const GstVideoInfo info = info_for(caps);
  for (unsigned seed : {1u, 2u}) {
    GstBuffer* input = wmtest::make_frame(info, seed);
    BufferPtr original(gst_buffer_copy_deep(input));
    BufferPtr held(gst_buffer_ref(input));  // someone else still holds it
    ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
    BufferPtr output(gst_harness_pull(h.get()));
    ASSERT_TRUE(output);
    EXPECT_EQ(output.get(), held.get());
    GstMapInfo a, b;
    ASSERT_TRUE(gst_buffer_map(output.get(), &a, GST_MAP_READ));
    ASSERT_TRUE(gst_buffer_map(original.get(), &b, GST_MAP_READ));
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(memcmp(a.data, b.data, std::min(a.size, b.size)), 0);
    gst_buffer_unmap(original.get(), &b);
    gst_buffer_unmap(output.get(), &a);
  }
}

std::string passthrough_name(const ::testing::TestParamInfo<const char*>& p) {
  static const char* const names[] = {"NoMark",   "ImageOpacityZero", "TextOpacityZero",
                                      "OffRight", "OffBottom",        "OffLeft",
                                      "FarRight", "FarLeftUp",        "BlankText"};
  return names[p.index];
}

INSTANTIATE_TEST_SUITE_P(NothingToDraw, WatermarkPassthrough,
                         ::testing::Values("", "location=MARK opacity=0", "text=Hi opacity=0",
                                           "location=MARK position=top-left x=64",
                                           "location=MARK position=bottom-right y=7",
                                           "location=MARK position=top-left x=-9",
                                           "location=MARK position=bottom-right x=2147483647",
                                           "location=MARK x=-2147483648 y=-2147483648",
                                           "text=\"  \""),
                         passthrough_name);

TEST(WatermarkText, RendersInTheNamedCorner) {
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 320, 240);
  const GstVideoInfo info = info_for(caps);
  struct Expect {
    const char* props;
    int x0, y0, x1, y1;  // the area the text must stay in
  };
  const Expect cases[] = {
      {"position=top-left x=4 y=4", 4, 4, 200, 80},
      {"position=bottom-right x=-4 y=-4", 120, 160, 316, 236},
      {"position=center", 60, 80, 260, 160},
  };
  for (const Expect& c : cases) {
    SCOPED_TRACE(c.props);
    wmtest::HarnessPtr h =
        wmtest::make_harness(std::string("text=Relais font-desc=\"Sans 20\" ") + c.props, caps);
    ASSERT_TRUE(h);
    BufferPtr original(grey_i420(info));
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_copy_deep(original.get())), GST_FLOW_OK);
    BufferPtr output(gst_harness_pull(h.get()));
    wmtest::Box b = changed_luma(info, original.get(), output.get());
    EXPECT_GT(b.bright, 100) << "white glyph pixels";
    EXPECT_GT(b.dark, 50) << "dark outline pixels";
    EXPECT_GE(b.x0, c.x0);
    EXPECT_GE(b.y0, c.y0);
    EXPECT_LE(b.x1, c.x1);
    EXPECT_LE(b.y1, c.y1);
    EXPECT_GT(b.x1 - b.x0, 40) << "text wider than a few glyphs";
    EXPECT_GT(b.y1 - b.y0, 12);
  }
}

// Text that is not valid UTF-8 (property strings are not checked) still
// renders what it can instead of failing or crashing.
TEST(WatermarkText, InvalidUtf8StillRenders) {
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 320, 240);
  const GstVideoInfo info = info_for(caps);
  wmtest::HarnessPtr h = wmtest::make_harness("position=top-left", caps);
  ASSERT_TRUE(h);
  g_object_set(h->element, "text", "Cam\xff\xfe 7", nullptr);
  BufferPtr original(grey_i420(info));
  ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_copy_deep(original.get())), GST_FLOW_OK);
  BufferPtr output(gst_harness_pull(h.get()));
  EXPECT_GT(changed_luma(info, original.get(), output.get()).bright, 50);
}

// Text of line breaks only has nothing to draw: no error, frames untouched.
TEST(WatermarkText, LineBreaksOnlyDrawNothing) {
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 64, 48);
  const GstVideoInfo info = info_for(caps);
  wmtest::HarnessPtr h = wmtest::make_harness("", caps);
  ASSERT_TRUE(h);
  g_object_set(h->element, "text", "\n\n", nullptr);
  GstBuffer* input = grey_i420(info);
  BufferPtr held(gst_buffer_ref(input));
  ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
  BufferPtr output(gst_harness_pull(h.get()));
  EXPECT_EQ(output.get(), held.get());
}

// A JPEG logo (no alpha) is drawn opaque.
TEST(WatermarkImage, JpegLogoIsOpaque) {
  relais::test::TempDir dir;
  const std::string path = dir.file("logo.jpg");
  GdkPixbuf* pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 32, 16);
  gdk_pixbuf_fill(pb, 0xc0c0c0ff);  // light grey: luma 16 + 219 * 192 / 255 = 181
  ASSERT_TRUE(gdk_pixbuf_save(pb, path.c_str(), "jpeg", nullptr, "quality", "100", nullptr));
  g_object_unref(pb);
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 64, 48);
  const GstVideoInfo info = info_for(caps);
  wmtest::HarnessPtr h = wmtest::make_harness("position=top-left x=8 y=8 location=" + path, caps);
  ASSERT_TRUE(h);
  BufferPtr original(grey_i420(info));  // luma 128 everywhere
  ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_copy_deep(original.get())), GST_FLOW_OK);
  BufferPtr output(gst_harness_pull(h.get()));
  GstVideoFrame f;
  ASSERT_TRUE(
      gst_video_frame_map(&f, const_cast<GstVideoInfo*>(&info), output.get(), GST_MAP_READ));
  const auto* y = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0));
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
  for (int row = 0; row < 48; ++row)
    for (int col = 0; col < 64; ++col) {
      const bool inside = col >= 8 && col < 40 && row >= 8 && row < 24;
      if (inside)
        EXPECT_NEAR(y[row * stride + col], 181, 3) << col << "," << row;
      else
        EXPECT_EQ(y[row * stride + col], 128) << col << "," << row;
    }
  gst_video_frame_unmap(&f);
}

}  // namespace
