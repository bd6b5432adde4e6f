// relaiswatermark properties changed while buffers flow: exact results on
// the next buffer, caps changes, and a property storm while pushing.
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

// Changes made between buffers take effect on the next buffer, exactly.
TEST(WatermarkLive, PropertyChangesApplyToTheNextBuffer) {
  relais::test::TempDir dir;
  const wmtest::Mark a = wmtest::make_mark(9, 7, 1);
  const wmtest::Mark b = wmtest::make_mark(12, 5, 2);
  ASSERT_TRUE(wmtest::save_png(a, dir.file("a.png")));
  ASSERT_TRUE(wmtest::save_png(b, dir.file("b.png")));
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 64, 48);
  const GstVideoInfo info = info_for(caps);
  wmtest::HarnessPtr h =
      wmtest::make_harness("position=top-left x=2 y=3 location=" + dir.file("a.png"), caps);
  ASSERT_TRUE(h);

  auto check = [&](const wmtest::Mark& mark, int px, int py, double opacity, unsigned seed) {
    GstBuffer* input = wmtest::make_frame(info, seed);
    BufferPtr original(gst_buffer_copy_deep(input));
    ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
    BufferPtr output(gst_harness_pull(h.get()));
    wmtest::expect_matches_reference(info, original.get(), output.get(), mark, px, py, opacity);
  };

  check(a, 2, 3, 1.0, 1);
  gst_util_set_object_arg(G_OBJECT(h->element), "position", "bottom-right");
  g_object_set(h->element, "x", -1, "y", -2, nullptr);
  check(a, 64 - 9 - 1, 48 - 7 - 2, 1.0, 2);
  g_object_set(h->element, "location", dir.file("b.png").c_str(), nullptr);
  check(b, 64 - 12 - 1, 48 - 5 - 2, 1.0, 3);
  g_object_set(h->element, "opacity", 0.25, nullptr);
  check(b, 64 - 12 - 1, 48 - 5 - 2, 0.25, 4);
  gst_util_set_object_arg(G_OBJECT(h->element), "position", "center");
  g_object_set(h->element, "x", 3, "y", 0, "opacity", 1.0, nullptr);
  check(b, (64 - 12) / 2 + 3, (48 - 5) / 2, 1.0, 5);
  g_object_set(h->element, "opacity", 0.0, nullptr);
  check(b, 0, 0, 0.0, 6);
  g_object_set(h->element, "opacity", 1.0, "location", nullptr, nullptr);
  check(b, 0, 0, 0.0, 7);  // nothing left to draw

  // Text switched on and off while flowing.
  g_object_set(h->element, "text", "Hi", nullptr);
  GstBuffer* input = wmtest::make_frame(info, 8);
  BufferPtr original(gst_buffer_copy_deep(input));
  ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
  BufferPtr output(gst_harness_pull(h.get()));
  EXPECT_GT(changed_luma(info, original.get(), output.get()).changed, 20);
  g_object_set(h->element, "text", nullptr, "location", dir.file("a.png").c_str(), nullptr);
  gst_util_set_object_arg(G_OBJECT(h->element), "position", "top-left");
  g_object_set(h->element, "x", 0, "y", 0, nullptr);
  check(a, 0, 0, 1.0, 9);
}

// New caps mid-stream (size and format): the mark is prepared again for them.
TEST(WatermarkLive, CapsChangeRebuildsTheMark) {
  relais::test::TempDir dir;
  const wmtest::Mark a = wmtest::make_mark(9, 7, 1);
  ASSERT_TRUE(wmtest::save_png(a, dir.file("a.png")));
  wmtest::HarnessPtr h =
      wmtest::make_harness("position=bottom-right x=-1 y=-2 location=" + dir.file("a.png"),
                           wmtest::caps_for(GST_VIDEO_FORMAT_I420, 64, 48));
  ASSERT_TRUE(h);
  struct Step {
    GstVideoFormat format;
    int w, h;
  };
  for (const Step& step :
       {Step{GST_VIDEO_FORMAT_I420, 64, 48}, Step{GST_VIDEO_FORMAT_NV12, 80, 60},
        Step{GST_VIDEO_FORMAT_BGRx, 33, 17}, Step{GST_VIDEO_FORMAT_I420, 64, 48}}) {
    const std::string caps = wmtest::caps_for(step.format, step.w, step.h);
    SCOPED_TRACE(caps);
    gst_harness_set_src_caps_str(h.get(), caps.c_str());
    const GstVideoInfo info = info_for(caps);
    GstBuffer* input = wmtest::make_frame(info, 3);
    BufferPtr original(gst_buffer_copy_deep(input));
    ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
    BufferPtr output(gst_harness_pull(h.get()));
    const int px = step.w - 9 - 1, py = step.h - 7 - 2;
    wmtest::expect_matches_reference(info, original.get(), output.get(), a, px, py, 1.0);
  }
}

// Properties hammered from other threads while buffers are pushed: every
// push succeeds, and once the storm is over the next buffer is exactly right.
TEST(WatermarkLive, PropertyStressWhilePushing) {
  relais::test::TempDir dir;
  const wmtest::Mark a = wmtest::make_mark(9, 7, 1);
  const wmtest::Mark b = wmtest::make_mark(20, 11, 2);
  ASSERT_TRUE(wmtest::save_png(a, dir.file("a.png")));
  ASSERT_TRUE(wmtest::save_png(b, dir.file("b.png")));

  for (GstVideoFormat format : {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_BGRA}) {
    SCOPED_TRACE(gst_video_format_to_string(format));
    const std::string caps = wmtest::caps_for(format, 64, 48);
    const GstVideoInfo info = info_for(caps);
    wmtest::HarnessPtr h = wmtest::make_harness("location=" + dir.file("a.png"), caps);
    ASSERT_TRUE(h);

    std::vector<GstHarnessThread*> threads;
    auto stress = [&](const char* name, auto v1, auto v2) {
      for (auto v : {v1, v2}) {
        GValue value = G_VALUE_INIT;
        using T = decltype(v);
        if constexpr (std::is_same_v<T, const char*>) {
          g_value_init(&value, G_TYPE_STRING);
          g_value_set_string(&value, v);
        } else if constexpr (std::is_same_v<T, double>) {
          g_value_init(&value, G_TYPE_DOUBLE);
          g_value_set_double(&value, v);
        } else if constexpr (std::is_same_v<T, guint>) {
          g_value_init(&value, G_TYPE_UINT);
          g_value_set_uint(&value, v);
        } else {
          g_value_init(&value, G_TYPE_INT);
          g_value_set_int(&value, v);
        }
        threads.push_back(gst_harness_stress_property_start_full(h.get(), name, &value, 1000));
        g_value_unset(&value);
      }
    };
    const std::string pa = dir.file("a.png"), pb = dir.file("b.png");
    stress("location", pa.c_str(), pb.c_str());
    stress("text", "A", "Relais");
    stress("font-desc", "Sans 8", "Serif Bold 14");
    stress("color", guint{0xffffffff}, guint{0x80ff0000});
    stress("x", 0, -5);
    stress("y", 3, 40);
    stress("opacity", 0.0, 0.8);
    // position is an enum: its GType exists once the element class does.
    const GType position_type = g_type_from_name("RelaisWatermarkPosition");
    ASSERT_NE(position_type, G_TYPE_INVALID);
    for (int pos : {3, 4}) {  // bottom-right, center
      GValue value = G_VALUE_INIT;
      g_value_init(&value, position_type);
      g_value_set_enum(&value, pos);
      threads.push_back(gst_harness_stress_property_start_full(h.get(), "position", &value, 1000));
      g_value_unset(&value);
    }

    const gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC;
    int pushed = 0;
    while (g_get_monotonic_time() < end) {
      ASSERT_EQ(gst_harness_push(h.get(), wmtest::make_frame(info, pushed)), GST_FLOW_OK);
      BufferPtr out(gst_harness_pull(h.get()));
      ASSERT_TRUE(out);
      pushed++;
    }
    for (GstHarnessThread* t : threads) gst_harness_stress_thread_stop(t);
    EXPECT_GT(pushed, 20);

    g_object_set(h->element, "location", pa.c_str(), "text", nullptr, "x", 4, "y", 5, "opacity",
                 0.6, nullptr);
    gst_util_set_object_arg(G_OBJECT(h->element), "position", "top-left");
    GstBuffer* input = wmtest::make_frame(info, 99);
    BufferPtr original(gst_buffer_copy_deep(input));
    ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
    BufferPtr output(gst_harness_pull(h.get()));
    wmtest::expect_matches_reference(info, original.get(), output.get(), a, 4, 5, 0.6);
  }
}

// Font and colour of the text change while buffers flow.
TEST(WatermarkLive, TextFontAndColourChangeWhileFlowing) {
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 320, 240);
  const GstVideoInfo info = info_for(caps);
  wmtest::HarnessPtr h =
      wmtest::make_harness("text=Relais font-desc=\"Sans 10\" position=top-left", caps);
  ASSERT_TRUE(h);
  auto push = [&](BufferPtr* out) {
    BufferPtr original(grey_i420(info));
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_copy_deep(original.get())), GST_FLOW_OK);
    out->reset(gst_harness_pull(h.get()));
  };
  BufferPtr grey(grey_i420(info));
  BufferPtr small, large, red;
  push(&small);
  g_object_set(h->element, "font-desc", "Sans 30", nullptr);
  push(&large);
  const wmtest::Box a = changed_luma(info, grey.get(), small.get());
  const wmtest::Box b = changed_luma(info, grey.get(), large.get());
  EXPECT_GT(b.x1 - b.x0, 2 * (a.x1 - a.x0));
  EXPECT_GT(b.y1 - b.y0, 2 * (a.y1 - a.y0));

  // Red text: Cr (the V plane) goes well above neutral under the glyphs.
  g_object_set(h->element, "color", 0xffff0000u, nullptr);
  push(&red);
  GstVideoFrame f;
  ASSERT_TRUE(gst_video_frame_map(&f, const_cast<GstVideoInfo*>(&info), red.get(), GST_MAP_READ));
  int reddish = 0;
  for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&f, 2); ++y)
    for (int x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&f, 2); ++x)
      reddish += static_cast<const guint8*>(GST_VIDEO_FRAME_COMP_DATA(
                     &f, 2))[y * GST_VIDEO_FRAME_COMP_STRIDE(&f, 2) + x] > 200;
  gst_video_frame_unmap(&f);
  EXPECT_GT(reddish, 30);
}

}  // namespace
