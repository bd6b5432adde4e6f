// relaiswatermark errors: a missing, unreadable or truncated image is an
// element error on the bus (at start and when changed while PLAYING).
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
using wmtest::info_for;

struct MessageDeleter {
  void operator()(GstMessage* m) const { gst_message_unref(m); }
};
using MessagePtr = std::unique_ptr<GstMessage, MessageDeleter>;

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

// Text too large to render (here 20 letters at a 2000-point size) is a clear
// error, not an attempt to allocate gigabytes.
TEST(WatermarkErrors, OversizedTextIsElementError) {
  ErrorSeen e = run_pipeline(
      "videotestsrc num-buffers=3 ! relaiswatermark name=wm text=WWWWWWWWWWWWWWWWWWWW "
      "font-desc=\"Sans 2000\" ! fakesink");
  ASSERT_TRUE(e.seen);
  EXPECT_EQ(e.source, "wm");
  EXPECT_EQ(e.domain, GST_LIBRARY_ERROR);
  EXPECT_NE(e.message.find("WWWW"), std::string::npos) << e.message;
}

}  // namespace
