// relaisstoresink and relaisstoresrc through GstHarness, on the memory store.
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "gst_handles.h"

using relais::BufferPtr;
using relais::CapsPtr;
using relais::EventPtr;

namespace {

std::string unique_stream() {
  static std::atomic<int> n{0};
  return "h" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using HarnessPtr = std::unique_ptr<GstHarness, HarnessDeleter>;

HarnessPtr sink_harness(const std::string& stream, const char* caps) {
  std::string desc = "relaisstoresink store=memory:// sync=false stream=" + stream;
  HarnessPtr h(gst_harness_new_parse(desc.c_str()));
  gst_harness_set_src_caps_str(h.get(), caps);
  return h;
}

HarnessPtr src_harness(const std::string& stream, const std::string& extra = "") {
  std::string desc =
      "relaisstoresrc store=memory:// timestamps=original stream=" + stream + " " + extra;
  HarnessPtr h(gst_harness_new_parse(desc.c_str()));
  gst_harness_play(h.get());
  return h;
}

GstBuffer* make_buffer(guint8 tag, GstClockTime pts, bool keyframe, gsize size = 64) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, size, nullptr);
  gst_buffer_memset(b, 0, tag, size);
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DTS(b) = pts;
  GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
  if (!keyframe) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

guint8 first_byte(GstBuffer* b) {
  guint8 v = 0;
  gst_buffer_extract(b, 0, &v, 1);
  return v;
}

const char* kH264Caps = "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au";

TEST(StoreElements, BuffersArriveWithCapsTimestampsAndFlags) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  auto src = src_harness(stream, "start=earliest");

  GstBuffer* header = make_buffer(1, 0, true);
  GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_HEADER);
  GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_DISCONT);
  ASSERT_EQ(gst_harness_push(sink.get(), header), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(2, 40 * GST_MSECOND, false)), GST_FLOW_OK);

  BufferPtr a(gst_harness_pull(src.get()));
  BufferPtr b(gst_harness_pull(src.get()));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(first_byte(a.get()), 1);
  EXPECT_EQ(gst_buffer_get_size(a.get()), 64u);
  EXPECT_EQ(GST_BUFFER_PTS(a.get()), 0u);
  EXPECT_EQ(GST_BUFFER_DURATION(a.get()), 40 * GST_MSECOND);
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(a.get(), GST_BUFFER_FLAG_HEADER));
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(a.get(), GST_BUFFER_FLAG_DISCONT));
  EXPECT_FALSE(GST_BUFFER_FLAG_IS_SET(a.get(), GST_BUFFER_FLAG_DELTA_UNIT));
  EXPECT_EQ(first_byte(b.get()), 2);
  EXPECT_EQ(GST_BUFFER_PTS(b.get()), 40 * GST_MSECOND);
  EXPECT_EQ(GST_BUFFER_DTS(b.get()), 40 * GST_MSECOND);
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(b.get(), GST_BUFFER_FLAG_DELTA_UNIT));

  CapsPtr caps(gst_pad_get_current_caps(src->sinkpad));
  CapsPtr expected(gst_caps_from_string(kH264Caps));
  ASSERT_TRUE(caps);
  EXPECT_TRUE(gst_caps_is_equal(caps.get(), expected.get()));
}

TEST(StoreElements, CapsChangeRenegotiatesDownstream) {
  std::string stream = unique_stream();
  auto sink = sink_harness(
      stream,
      "video/x-raw, format=(string)GRAY8, width=(int)4, height=(int)4, framerate=(fraction)25/1");
  auto src = src_harness(stream, "start=earliest");
  ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(1, 0, true, 16)), GST_FLOW_OK);
  gst_harness_set_src_caps_str(
      sink.get(),
      "video/x-raw, format=(string)GRAY8, width=(int)8, height=(int)2, framerate=(fraction)25/1");
  ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(2, 40 * GST_MSECOND, true, 16)), GST_FLOW_OK);

  BufferPtr a(gst_harness_pull(src.get()));
  BufferPtr b(gst_harness_pull(src.get()));
  // The caps events, in the order the source sent them.
  std::vector<int> widths;
  while (EventPtr ev{gst_harness_try_pull_event(src.get())}) {
    if (GST_EVENT_TYPE(ev.get()) != GST_EVENT_CAPS) continue;
    GstCaps* caps = nullptr;
    gst_event_parse_caps(ev.get(), &caps);
    int w = 0;
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "width", &w);
    widths.push_back(w);
  }
  EXPECT_EQ(widths, (std::vector<int>{4, 8}));
  EXPECT_EQ(first_byte(a.get()), 1);
  EXPECT_EQ(first_byte(b.get()), 2);
}

TEST(StoreElements, StartPositions) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  for (guint8 n = 0; n < 7; ++n)  // keyframes at 0 and 5
    ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(n, n * GST_MSECOND, n % 5 == 0)),
              GST_FLOW_OK);

  auto earliest = src_harness(stream, "start=earliest");
  auto keyframe = src_harness(stream, "start=keyframe");
  auto live = src_harness(stream, "start=live");
  BufferPtr e(gst_harness_pull(earliest.get()));
  BufferPtr k(gst_harness_pull(keyframe.get()));
  EXPECT_EQ(first_byte(e.get()), 0);
  EXPECT_EQ(first_byte(k.get()), 5);
  ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(42, 7 * GST_MSECOND, false)), GST_FLOW_OK);
  BufferPtr l(gst_harness_pull(live.get()));
  EXPECT_EQ(first_byte(l.get()), 42);
}

TEST(StoreElements, NumBuffersEndsWithEos) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  for (guint8 n = 0; n < 5; ++n)
    ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(n, n * GST_MSECOND, true)), GST_FLOW_OK);
  auto src = src_harness(stream, "start=earliest num-buffers=3");
  for (int i = 0; i < 3; ++i) {
    BufferPtr b(gst_harness_pull(src.get()));
    ASSERT_TRUE(b);
    EXPECT_EQ(first_byte(b.get()), i);
  }
  // After num-buffers the source sends EOS.
  bool eos = false;
  for (int i = 0; i < 100 && !eos; ++i) {
    EventPtr ev(gst_harness_pull_event(src.get()));
    eos = ev && GST_EVENT_TYPE(ev.get()) == GST_EVENT_EOS;
  }
  EXPECT_TRUE(eos);
}

TEST(StoreElements, RebasedTimestampsKeepTheirSpacing) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  GstClockTime base = 1000 * GST_SECOND;  // far from the reader's running time
  for (guint8 n = 0; n < 3; ++n)
    gst_harness_push(sink.get(), make_buffer(n, base + n * 40 * GST_MSECOND, true));
  std::string desc = "relaisstoresrc store=memory:// start=earliest stream=" + stream;
  HarnessPtr src(gst_harness_new_parse(desc.c_str()));
  gst_harness_use_systemclock(src.get());
  gst_harness_play(src.get());
  BufferPtr a(gst_harness_pull(src.get()));
  BufferPtr b(gst_harness_pull(src.get()));
  BufferPtr c(gst_harness_pull(src.get()));
  EXPECT_NE(GST_BUFFER_PTS(a.get()), base);  // moved onto this pipeline's running time
  EXPECT_EQ(GST_BUFFER_PTS(b.get()) - GST_BUFFER_PTS(a.get()), 40 * GST_MSECOND);
  EXPECT_EQ(GST_BUFFER_PTS(c.get()) - GST_BUFFER_PTS(b.get()), 40 * GST_MSECOND);
}

TEST(StoreElements, StatsCountFramesAndBytes) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  auto src = src_harness(stream, "start=earliest");
  for (guint8 n = 0; n < 4; ++n) gst_harness_push(sink.get(), make_buffer(n, n, true, 100));
  for (int n = 0; n < 4; ++n) BufferPtr(gst_harness_pull(src.get()));
  auto stats_of = [](GstHarness* h, const char* factory) {
    relais::ElementRef el = relais::ElementRef::adopt(gst_harness_find_element(h, factory));
    GstStructure* s = nullptr;
    g_object_get(el.get(), "stats", &s, nullptr);
    return relais::StructurePtr(s);
  };
  auto sink_stats = stats_of(sink.get(), "relaisstoresink");
  auto src_stats = stats_of(src.get(), "relaisstoresrc");
  guint64 frames = 0, bytes = 0, dropped = 99, read = 0;
  gst_structure_get_uint64(sink_stats.get(), "frames", &frames);
  gst_structure_get_uint64(sink_stats.get(), "bytes", &bytes);
  gst_structure_get_uint64(sink_stats.get(), "dropped", &dropped);
  gst_structure_get_uint64(src_stats.get(), "frames", &read);
  EXPECT_EQ(frames, 4u);
  EXPECT_EQ(bytes, 400u);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(read, 4u);
}

TEST(StoreElements, WaitingSourceStopsPromptlyOnStateChangeToNull) {
  // A stream nobody writes: the source waits in create() until shut down.
  relais::ElementRef pipeline = relais::ElementRef::adopt(gst_parse_launch(
      ("relaisstoresrc store=memory:// stream=" + unique_stream() + " ! fakesink").c_str(),
      nullptr));
  ASSERT_TRUE(pipeline);
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Would block forever if unlock() did not interrupt the reader.
  EXPECT_EQ(gst_element_set_state(pipeline.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

}  // namespace

namespace {

TEST(StoreElements, SettingsCannotChangeWhilePlaying) {
  std::string stream = unique_stream();
  auto src = src_harness(stream, "start=earliest");
  relais::ElementRef el =
      relais::ElementRef::adopt(gst_harness_find_element(src.get(), "relaisstoresrc"));
  g_object_set(el.get(), "stream", "other", "store", "redis://nowhere:1", nullptr);
  gchar* now_stream = nullptr;
  gchar* now_store = nullptr;
  g_object_get(el.get(), "stream", &now_stream, "store", &now_store, nullptr);
  EXPECT_STREQ(now_stream, stream.c_str());
  EXPECT_STREQ(now_store, "memory://");
  g_free(now_stream);
  g_free(now_store);
}

}  // namespace

namespace {

// Defect 11: a 0-byte buffer through memory:// has a payload without a data
// pointer; the source crashed wrapping it.
TEST(StoreElements, EmptyBuffersArriveAsEmptyBuffers) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  auto src = src_harness(stream, "start=earliest");
  ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(1, 0, true, 0)), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(sink.get(), make_buffer(2, 40 * GST_MSECOND, false)), GST_FLOW_OK);
  BufferPtr empty(gst_harness_pull(src.get()));
  BufferPtr next(gst_harness_pull(src.get()));
  ASSERT_TRUE(empty && next);
  EXPECT_EQ(gst_buffer_get_size(empty.get()), 0u);
  EXPECT_EQ(GST_BUFFER_PTS(empty.get()), 0u);
  EXPECT_FALSE(GST_BUFFER_FLAG_IS_SET(empty.get(), GST_BUFFER_FLAG_DELTA_UNIT));
  EXPECT_EQ(first_byte(next.get()), 2);
}

}  // namespace

namespace {

// Defect 15: a start=keyframe reader drains the backlog since the keyframe
// faster than real time; rebasing treated "ahead of the clock" as a jump and
// re-anchored every ~2 s, so timestamps went backwards. They only go forward,
// and never run ahead of the reader's clock.
TEST(StoreElements, RebasedTimestampsStayMonotonicWhileDrainingABacklog) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  const int backlog = 150;  // 6 s of 40 ms frames, one GOP
  for (int n = 0; n < backlog; ++n)
    gst_harness_push(sink.get(), make_buffer(static_cast<guint8>(n), n * 40 * GST_MSECOND, n == 0));
  std::string desc = "relaisstoresrc store=memory:// start=keyframe stream=" + stream;
  HarnessPtr src(gst_harness_new_parse(desc.c_str()));
  gst_harness_use_systemclock(src.get());
  gst_harness_play(src.get());
  GstClockTime prev = GST_CLOCK_TIME_NONE;
  for (int n = 0; n < backlog + 10; ++n) {
    // Then the writer restarts its timestamps (a new keyframe at 0): still monotonic.
    if (n == backlog) {
      for (int k = 0; k < 10; ++k)
        gst_harness_push(sink.get(),
                         make_buffer(static_cast<guint8>(k), k * 40 * GST_MSECOND, k == 0));
    }
    BufferPtr b(gst_harness_pull(src.get()));
    ASSERT_TRUE(b);
    GstClockTime pts = GST_BUFFER_PTS(b.get());
    if (GST_CLOCK_TIME_IS_VALID(prev)) ASSERT_GT(pts, prev) << "frame " << n << " went back";
    prev = pts;
  }
  // Pulled well within 6 s: not stamped 6 s into the future (at most 1 s ahead).
  GstClock* clock = gst_system_clock_obtain();
  GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(src->element);
  gst_object_unref(clock);
  EXPECT_LT(prev, now + 1500 * GST_MSECOND) << "ahead of the clock";
}

// Defect 16: the source answers the LATENCY query as a live source, with
// the latency it adds (one frame), so a decode pipeline needs no queue.
TEST(StoreElements, AnswersTheLatencyQueryAsALiveSource) {
  std::string stream = unique_stream();
  auto sink = sink_harness(stream, kH264Caps);
  for (int n = 0; n < 3; ++n)
    gst_harness_push(sink.get(), make_buffer(static_cast<guint8>(n), n * 40 * GST_MSECOND, true));
  std::string desc = "relaisstoresrc store=memory:// start=earliest stream=" + stream;
  HarnessPtr src(gst_harness_new_parse(desc.c_str()));
  gst_harness_use_systemclock(src.get());
  gst_harness_play(src.get());
  BufferPtr b(gst_harness_pull(src.get()));
  relais::ElementRef el =
      relais::ElementRef::adopt(gst_harness_find_element(src.get(), "relaisstoresrc"));
  relais::QueryPtr q(gst_query_new_latency());
  ASSERT_TRUE(gst_element_query(el.get(), q.get()));
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;
  gst_query_parse_latency(q.get(), &live, &min, &max);
  EXPECT_TRUE(live);
  EXPECT_EQ(min, 40 * GST_MSECOND);  // one frame
  EXPECT_TRUE(max == GST_CLOCK_TIME_NONE || max >= min);
}

}  // namespace
