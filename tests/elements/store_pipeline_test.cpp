// The store elements in real pipelines: errors on the bus, H.264 across two
// processes through a real redis-server, and a Redis outage mid-stream.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <gst/app/gstappsink.h>

#include "gst_handles.h"
#include "process.h"
#include "redis_server.h"
#include "temp_dir.h"

using namespace std::chrono_literals;
using relais::ElementRef;
using relais::MessagePtr;

namespace {

ElementRef launch(const std::string& desc) {
  GError* err = nullptr;
  ElementRef p = ElementRef::adopt(gst_parse_launch(desc.c_str(), &err));
  EXPECT_EQ(err, nullptr) << (err ? err->message : "");
  g_clear_error(&err);
  return p;
}

// Waits for a message of one of `types`; nullptr after the timeout.
MessagePtr wait_message(GstElement* pipeline, GstMessageType types,
                        GstClockTime timeout = 10 * GST_SECOND) {
  relais::BusRef bus = relais::BusRef::adopt(gst_element_get_bus(pipeline));
  return MessagePtr(gst_bus_timed_pop_filtered(bus.get(), timeout, types));
}

std::string error_text(GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string text = std::string(err->message) + " | " + (debug ? debug : "");
  g_error_free(err);
  g_free(debug);
  return text;
}

std::string start_and_expect_error(const std::string& desc) {
  ElementRef p = launch(desc);
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  MessagePtr msg = wait_message(p.get(), GST_MESSAGE_ERROR, 5 * GST_SECOND);
  gst_element_set_state(p.get(), GST_STATE_NULL);
  return msg ? error_text(msg.get()) : std::string();
}

TEST(StorePipelines, BadSettingsAreClearErrorsOnTheBus) {
  int closed_port = relais::test::free_loopback_port();
  struct Case {
    std::string element;
    std::string expect;
  } cases[] = {
      {"relaisstoresink store=memory:// stream=Bad/Name", "Invalid stream name"},
      {"relaisstoresink store=memory://", "Invalid stream name"},
      {"relaisstoresink store=ftp://host stream=ok", "Invalid frame store URI"},
      {"relaisstoresink store=redis://host:notaport stream=ok", "Invalid frame store URI"},
      {"relaisstoresink store=redis://127.0.0.1:" + std::to_string(closed_port) + " stream=ok",
       "Could not reach the frame store"},
  };
  for (const auto& c : cases) {
    std::string text = start_and_expect_error("videotestsrc num-buffers=5 ! " + c.element);
    EXPECT_NE(text.find(c.expect), std::string::npos) << c.element << " -> " << text;
  }
  for (const auto& c : cases) {
    std::string src = c.element;
    src.replace(0, std::string("relaisstoresink").size(), "relaisstoresrc");
    std::string text = start_and_expect_error(src + " ! fakesink");
    EXPECT_NE(text.find(c.expect), std::string::npos) << src << " -> " << text;
  }
}

TEST(StorePipelines, WriterAndReaderOfOneStreamShareAPipeline) {
  // The sink must not wait for preroll, or the reader branch never gets a frame.
  ElementRef p = launch(
      "videotestsrc is-live=true num-buffers=30 ! video/x-raw,width=64,height=48 ! "
      "relaisstoresink stream=shared relaisstoresrc stream=shared num-buffers=10 ! fakesink");
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  MessagePtr msg =
      wait_message(p.get(), static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gst_element_set_state(p.get(), GST_STATE_NULL);
  ASSERT_TRUE(msg) << "no EOS: the branches wait for each other";
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS);
}

TEST(StorePipelines, AStreamWithUnparsableCapsIsAClearError) {
  relais::test::RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  redis.cli("XADD 'relais:{bad}:frames' '*' d x f 1 c 'video/x-raw, width=(int)'");
  std::string text = start_and_expect_error(
      "relaisstoresrc start=earliest stream=bad store=" + redis.uri() + " ! fakesink");
  EXPECT_NE(text.find("invalid caps"), std::string::npos) << text;
}

// Defect 11: an entry without a payload field, written by anyone, crashed
// the source; it arrives as an empty buffer and the stream goes on.
TEST(StorePipelines, AnEntryWithoutPayloadWrittenByRedisCliIsAnEmptyBuffer) {
  relais::test::RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  redis.cli("XADD 'relais:{nod}:frames' 1-1 f 1 pts 5 c video/x-h264");
  redis.cli("XADD 'relais:{nod}:frames' 1-2 d hello f 0 pts 6");
  ElementRef p =
      launch("relaisstoresrc start=earliest timestamps=original stream=nod store=" + redis.uri() +
             " ! appsink name=out sync=false");
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  ElementRef appsink = ElementRef::adopt(gst_bin_get_by_name(GST_BIN(p.get()), "out"));
  std::vector<std::string> got;
  for (int i = 0; i < 2; ++i) {
    relais::SamplePtr sample(
        gst_app_sink_try_pull_sample(GST_APP_SINK(appsink.get()), 10 * GST_SECOND));
    if (!sample) break;
    GstBuffer* b = gst_sample_get_buffer(sample.get());
    relais::MappedBuffer map(b, GST_MAP_READ);
    got.emplace_back(reinterpret_cast<const char*>(map.data()), map.size());
    EXPECT_EQ(GST_BUFFER_PTS(b), i == 0 ? 5u : 6u);
  }
  gst_element_set_state(p.get(), GST_STATE_NULL);
  EXPECT_EQ(got, (std::vector<std::string>{"", "hello"}));
}

TEST(StorePipelines, BothElementsAreDocumentedForGstInspect) {
  for (const char* name : {"relaisstoresink", "relaisstoresrc"}) {
    gchar* out = nullptr;
    gint status = 0;
    std::string cmd = std::string("gst-inspect-1.0 ") + name;
    ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, &status, nullptr));
    std::string text = out ? out : "";
    g_free(out);
    EXPECT_EQ(status, 0) << text;
    for (const char* needle : {"store", "stream", "Frame store URI", "stats", "Relais"})
      EXPECT_NE(text.find(needle), std::string::npos) << name << " lacks " << needle;
    if (std::string(name) == "relaisstoresink")
      EXPECT_NE(text.find("max-bytes"), std::string::npos) << text;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Pulls `count` buffers from an appsink and concatenates their bytes.
std::string pull_bytes(GstElement* appsink, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    relais::SamplePtr sample(gst_app_sink_try_pull_sample(GST_APP_SINK(appsink), 10 * GST_SECOND));
    if (!sample) break;
    relais::MappedBuffer map(gst_sample_get_buffer(sample.get()), GST_MAP_READ);
    out.append(reinterpret_cast<const char*>(map.data()), map.size());
  }
  return out;
}

TEST(StorePipelines, H264WrittenByOneProcessIsReadByteIdenticalByAnother) {
  relais::test::RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  relais::test::TempDir dir;
  const int frames = 60;

  // The writer is a separate gst-launch process; it also keeps a copy of
  // exactly what it wrote.
  std::string reference = dir.file("written.h264");
  relais::test::Process writer;
  ASSERT_TRUE(writer.start({"gst-launch-1.0",
                            "-q",
                            "videotestsrc",
                            "num-buffers=" + std::to_string(frames),
                            "!",
                            "video/x-raw,width=320,height=240,framerate=30/1",
                            "!",
                            "x264enc",
                            "key-int-max=15",
                            "speed-preset=ultrafast",
                            "!",
                            "h264parse",
                            "!",
                            "video/x-h264,stream-format=byte-stream,alignment=au",
                            "!",
                            "tee",
                            "name=t",
                            "!",
                            "queue",
                            "!",
                            "relaisstoresink",
                            "sync=false",
                            "store=" + redis.uri(),
                            "stream=e2e",
                            "t.",
                            "!",
                            "queue",
                            "!",
                            "filesink",
                            "location=" + reference},
                           dir.file("writer.log"), &error))
      << error;

  ElementRef reader = launch("relaisstoresrc store=" + redis.uri() +
                             " stream=e2e start=earliest timestamps=original ! appsink name=out "
                             "sync=false");
  gst_element_set_state(reader.get(), GST_STATE_PLAYING);
  ElementRef appsink = ElementRef::adopt(gst_bin_get_by_name(GST_BIN(reader.get()), "out"));
  std::string received = pull_bytes(appsink.get(), frames);
  gst_element_set_state(reader.get(), GST_STATE_NULL);
  int status = -1;
  ASSERT_TRUE(writer.wait_exit(30000, &status)) << "writer did not finish";
  EXPECT_EQ(status, 0);

  std::string written = read_file(reference);
  ASSERT_GT(written.size(), 1000u);
  EXPECT_EQ(received.size(), written.size());
  EXPECT_TRUE(received == written) << "bytes differ";
}

bool has_store_status(GstElement* pipeline, const char* status, GstClockTime timeout) {
  relais::BusRef bus = relais::BusRef::adopt(gst_element_get_bus(pipeline));
  gint64 end = g_get_monotonic_time() + static_cast<gint64>(timeout / 1000);
  while (g_get_monotonic_time() < end) {
    MessagePtr msg(gst_bus_timed_pop_filtered(
        bus.get(), 100 * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)));
    if (!msg) continue;
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      ADD_FAILURE() << "pipeline error: " << error_text(msg.get());
      return false;
    }
    const GstStructure* s = gst_message_get_structure(msg.get());
    if (gst_structure_has_name(s, "relais-store") &&
        g_strcmp0(gst_structure_get_string(s, "status"), status) == 0)
      return true;
  }
  return false;
}

guint64 stat_of(GstElement* pipeline, const char* element, const char* field) {
  ElementRef el = ElementRef::adopt(gst_bin_get_by_name(GST_BIN(pipeline), element));
  GstStructure* s = nullptr;
  g_object_get(el.get(), "stats", &s, nullptr);
  relais::StructurePtr stats(s);
  guint64 v = 0;
  gst_structure_get_uint64(s, field, &v);
  return v;
}

TEST(StorePipelines, PipelinesKeepRunningThroughARedisOutage) {
  relais::test::RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  ElementRef writer = launch(
      "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! h264parse ! "
      "relaisstoresink name=store store=" +
      redis.uri() + " stream=cam");
  ElementRef reader = launch("relaisstoresrc name=store store=" + redis.uri() +
                             " stream=cam ! appsink name=out sync=false max-buffers=1000");
  gst_element_set_state(writer.get(), GST_STATE_PLAYING);
  gst_element_set_state(reader.get(), GST_STATE_PLAYING);
  ElementRef appsink = ElementRef::adopt(gst_bin_get_by_name(GST_BIN(reader.get()), "out"));
  ASSERT_EQ(pull_bytes(appsink.get(), 10).empty(), false);

  redis.stop();
  EXPECT_TRUE(has_store_status(writer.get(), "disconnected", 5 * GST_SECOND));
  EXPECT_TRUE(has_store_status(reader.get(), "disconnected", 5 * GST_SECOND));
  std::this_thread::sleep_for(500ms);
  GstState state;
  gst_element_get_state(writer.get(), &state, nullptr, 0);
  EXPECT_EQ(state, GST_STATE_PLAYING);
  EXPECT_GT(stat_of(writer.get(), "store", "dropped"), 0u);

  ASSERT_TRUE(redis.start(&error)) << error;
  EXPECT_TRUE(has_store_status(writer.get(), "reconnected", 10 * GST_SECOND));
  EXPECT_TRUE(has_store_status(reader.get(), "reconnected", 10 * GST_SECOND));
  // Drain what was buffered before the outage, then new frames must flow.
  while (true) {
    relais::SamplePtr s(gst_app_sink_try_pull_sample(GST_APP_SINK(appsink.get()), 0));
    if (!s) break;
  }
  EXPECT_EQ(pull_bytes(appsink.get(), 10).empty(), false);
  EXPECT_EQ(stat_of(writer.get(), "store", "reconnects"), 1u);
  EXPECT_GE(stat_of(reader.get(), "store", "reconnects"), 1u);
  gst_element_set_state(writer.get(), GST_STATE_NULL);
  gst_element_set_state(reader.get(), GST_STATE_NULL);
}

// Defect 14: frames Redis refuses (a key of another type) were dropped with
// only a log line: a warning and an element message say what to fix, and
// stats count them.
TEST(StorePipelines, FramesRedisRefusesAreAWarningThatSaysWhatToFix) {
  relais::test::RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  redis.cli("SET 'relais:{taken}:frames' not-a-stream");
  ElementRef p = launch(
      "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! "
      "relaisstoresink name=store stream=taken store=" +
      redis.uri());
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  MessagePtr warning = wait_message(p.get(), GST_MESSAGE_WARNING);
  ASSERT_TRUE(warning) << "no warning";
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_warning(warning.get(), &err, &debug);
  std::string text = std::string(err->message) + " | " + (debug ? debug : "");
  g_error_free(err);
  g_free(debug);
  EXPECT_NE(text.find("DEL 'relais:{taken}:frames'"), std::string::npos) << text;
  EXPECT_TRUE(has_store_status(p.get(), "refused", 5 * GST_SECOND));
  EXPECT_GT(stat_of(p.get(), "store", "refused"), 0u);
  redis.cli("DEL 'relais:{taken}:frames'");
  while (stat_of(p.get(), "store", "frames") == 0) std::this_thread::sleep_for(20ms);
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

// Defect 17: with Redis hung (SIGSTOP), render() waited for the socket
// timeout and shutdown waited for render(), which then reported the store
// lost. unlock() interrupts the write: the pipeline reaches NULL without the
// writer ever giving up on Redis (no "disconnected" before NULL returns).
TEST(StorePipelines, AHungRedisDoesNotHoldUpShutdown) {
  relais::test::RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  ElementRef p = launch(
      "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! "
      "relaisstoresink name=store stream=hung store=" +
      redis.uri());
  ASSERT_TRUE(p);
  std::atomic<bool> at_null{false}, lost_before_null{false};
  relais::BusRef bus = relais::BusRef::adopt(gst_element_get_bus(p.get()));
  struct Seen {
    std::atomic<bool>* at_null;
    std::atomic<bool>* lost;
  } seen{&at_null, &lost_before_null};
  gst_bus_set_sync_handler(
      bus.get(),
      [](GstBus*, GstMessage* msg, gpointer data) {
        auto* seen = static_cast<Seen*>(data);
        const GstStructure* s = gst_message_get_structure(msg);
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT && s &&
            gst_structure_has_name(s, "relais-store") &&
            g_strcmp0(gst_structure_get_string(s, "status"), "disconnected") == 0 &&
            !seen->at_null->load())
          seen->lost->store(true);
        return GST_BUS_PASS;
      },
      &seen, nullptr);
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  while (stat_of(p.get(), "store", "frames") < 5) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(kill(redis.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(300ms);  // the next frame's write is now waiting on Redis
  auto done = std::async(std::launch::async, [&] {
    gst_element_set_state(p.get(), GST_STATE_NULL);
    at_null = true;
  });
  // Generous: three times the writer's socket timeout (2 s).
  EXPECT_EQ(done.wait_for(6s), std::future_status::ready) << "shutdown waits for a hung Redis";
  kill(redis.pid(), SIGCONT);
  done.wait();
  EXPECT_FALSE(lost_before_null) << "shutdown waited for the write to time out";
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
}

// Defect 18: max-bytes cuts a GOP that never ends, with a warning.
TEST(StorePipelines, MaxBytesCutsAnEndlessGopWithAWarning) {
  ElementRef p = launch(
      "videotestsrc num-buffers=300 ! video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc speed-preset=ultrafast key-int-max=100000 ! "
      "relaisstoresink name=store store=memory:// stream=endless max-bytes=20000");
  ASSERT_TRUE(p);
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  MessagePtr warning = wait_message(p.get(), GST_MESSAGE_WARNING);
  ASSERT_TRUE(warning) << "no warning";
  GError* err = nullptr;
  gst_message_parse_warning(warning.get(), &err, nullptr);
  std::string text = err->message;
  g_error_free(err);
  EXPECT_NE(text.find("max-bytes"), std::string::npos) << text;
  wait_message(p.get(), GST_MESSAGE_EOS);
  EXPECT_GT(stat_of(p.get(), "store", "gop-cuts"), 0u);
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

}  // namespace
