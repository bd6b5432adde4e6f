// relaiswatermark behaviour: clear errors for missing or unreadable images,
// passthrough when there is nothing to draw, text rendering, and property
// changes while buffers flow (deterministic and under stress).
#include <gtest/gtest.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>

#include <algorithm>
#include <fstream>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "harness_util.h"
#include "reference.h"
#include "temp_dir.h"

namespace {

using wmtest::BufferPtr;

struct MessageDeleter {
  void operator()(GstMessage* m) const { gst_message_unref(m); }
};
using MessagePtr = std::unique_ptr<GstMessage, MessageDeleter>;

GstVideoInfo info_for(const std::string& caps) {
  GstVideoInfo info;
  GstCaps* c = gst_caps_from_string(caps.c_str());
  gst_video_info_from_caps(&info, c);
  gst_caps_unref(c);
  return info;
}

struct ErrorSeen {
  bool seen = false;
  GQuark domain = 0;
  int code = 0;
  std::string message;
  std::string source;
};

ErrorSeen error_from(GstMessage* msg) {
  ErrorSeen e;
  if (!msg || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR) return e;
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  e.seen = true;
  e.domain = err->domain;
  e.code = err->code;
  e.message = err->message;
  e.source = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));
  g_error_free(err);
  g_free(debug);
  return e;
}

// Runs a short real pipeline and returns the error it ends with, if any.
ErrorSeen run_pipeline(const std::string& description) {
  GError* perr = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &perr);
  if (perr) g_error_free(perr);
  if (!pipeline) return {};
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  MessagePtr msg(gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
  ErrorSeen e = error_from(msg.get());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return e;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(WatermarkErrors, MissingImageIsElementError) {
  relais::test::TempDir dir;
  const std::string path = dir.file("no-such-logo.png");
  ErrorSeen e = run_pipeline(
      "videotestsrc num-buffers=3 ! relaiswatermark name=wm location=" + path + " ! fakesink");
  ASSERT_TRUE(e.seen);
  EXPECT_EQ(e.source, "wm");
  EXPECT_EQ(e.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(e.code, GST_RESOURCE_ERROR_NOT_FOUND);
  EXPECT_NE(e.message.find(path), std::string::npos) << e.message;
}

TEST(WatermarkErrors, NotAnImageIsElementError) {
  relais::test::TempDir dir;
  const std::string path = dir.file("logo.png");
  write_file(path, "this is a text file, not a PNG\n");
  ErrorSeen e = run_pipeline(
      "videotestsrc num-buffers=3 ! relaiswatermark name=wm location=" + path + " ! fakesink");
  ASSERT_TRUE(e.seen);
  EXPECT_EQ(e.source, "wm");
  EXPECT_EQ(e.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(e.code, GST_RESOURCE_ERROR_OPEN_READ);
  EXPECT_NE(e.message.find(path), std::string::npos) << e.message;
}

TEST(WatermarkErrors, TruncatedPngIsElementError) {
  relais::test::TempDir dir;
  ASSERT_TRUE(wmtest::save_png(wmtest::make_mark(64, 64, 3), dir.file("full.png")));
  const std::string png = read_file(dir.file("full.png"));
  ASSERT_GT(png.size(), 100u);
  const std::string path = dir.file("truncated.png");
  write_file(path, png.substr(0, png.size() / 2));
  ErrorSeen e = run_pipeline(
      "videotestsrc num-buffers=3 ! relaiswatermark name=wm location=" + path + " ! fakesink");
  ASSERT_TRUE(e.seen);
  EXPECT_EQ(e.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(e.code, GST_RESOURCE_ERROR_OPEN_READ);
}

TEST(WatermarkErrors, ImageGoneWhilePlayingIsElementError) {
  relais::test::TempDir dir;
  ASSERT_TRUE(wmtest::save_png(wmtest::make_mark(9, 7, 1), dir.file("mark.png")));
  const std::string caps = wmtest::caps_for(GST_VIDEO_FORMAT_I420, 64, 48);
  wmtest::HarnessPtr h = wmtest::make_harness("location=" + dir.file("mark.png"), caps);
  ASSERT_TRUE(h);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  const GstVideoInfo info = info_for(caps);
  ASSERT_EQ(gst_harness_push(h.get(), wmtest::make_frame(info, 1)), GST_FLOW_OK);
  BufferPtr(gst_harness_pull(h.get()));

  const std::string missing = dir.file("gone.png");
  g_object_set(h->element, "location", missing.c_str(), nullptr);
  EXPECT_EQ(gst_harness_push(h.get(), wmtest::make_frame(info, 2)), GST_FLOW_ERROR);
  MessagePtr msg(gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR));
  ErrorSeen e = error_from(msg.get());
  ASSERT_TRUE(e.seen);
  EXPECT_EQ(e.code, GST_RESOURCE_ERROR_NOT_FOUND);
  EXPECT_NE(e.message.find(missing), std::string::npos) << e.message;

  // Pointing it back at a good file resumes the stream.
  g_object_set(h->element, "location", dir.file("mark.png").c_str(), nullptr);
  EXPECT_EQ(gst_harness_push(h.get(), wmtest::make_frame(info, 3)), GST_FLOW_OK);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
}

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
                                      "FarRight", "FarLeftUp"};
  return names[p.index];
}

INSTANTIATE_TEST_SUITE_P(NothingToDraw, WatermarkPassthrough,
                         ::testing::Values("", "location=MARK opacity=0", "text=Hi opacity=0",
                                           "location=MARK position=top-left x=64",
                                           "location=MARK position=bottom-right y=7",
                                           "location=MARK position=top-left x=-9",
                                           "location=MARK position=bottom-right x=2147483647",
                                           "location=MARK x=-2147483648 y=-2147483648"),
                         passthrough_name);

// Bounding box of the luma samples that differ between two I420 frames.
struct Box {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
  int changed = 0, bright = 0, dark = 0;
};
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
    Box b = changed_luma(info, original.get(), output.get());
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
    BufferPtr expected(wmtest::expected_frame(info, original.get(), mark, px, py, opacity));
    const wmtest::Comparison r =
        wmtest::compare(info, original.get(), expected.get(), output.get(), mark, px, py);
    EXPECT_LE(r.max_diff, 1) << r.first_problem;
    EXPECT_EQ(r.changed_outside, 0);
    if (opacity > 0) {
      EXPECT_GT(r.changed, 0);
    }
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
    BufferPtr expected(wmtest::expected_frame(info, original.get(), a, px, py, 1.0));
    const wmtest::Comparison r =
        wmtest::compare(info, original.get(), expected.get(), output.get(), a, px, py);
    EXPECT_LE(r.max_diff, 1) << r.first_problem;
    EXPECT_EQ(r.changed_outside, 0);
    EXPECT_GT(r.changed, 0);
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
    BufferPtr expected(wmtest::expected_frame(info, original.get(), a, 4, 5, 0.6));
    const wmtest::Comparison r =
        wmtest::compare(info, original.get(), expected.get(), output.get(), a, 4, 5);
    EXPECT_LE(r.max_diff, 1) << r.first_problem;
    EXPECT_EQ(r.changed_outside, 0);
    EXPECT_GT(r.changed, 0);
  }
}

}  // namespace
