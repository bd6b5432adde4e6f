// relaissrc on RTSP ends its stream when the application or downstream says
// so, and only the server ending the stream (or going silent while playing)
// makes it reconnect: not an EOS, not a pause.
#include <gst/app/gstappsink.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "gst_handles.h"
#include "pipeline_runner.h"
#include "rtsp_test_server.h"
#include "temp_dir.h"

namespace relais::test {
namespace {

using namespace std::chrono_literals;

// relaissrc recorded into an MP4 (what `gst-launch-1.0 -e relaissrc ! h264parse
// ! mp4mux ! filesink` does), with a tee to an appsink so the test sees frames.
std::string recording(const std::string& uri, const std::string& path,
                      const std::string& extra = "") {
  return "relaissrc name=src uri=" + uri + " rtsp-transport=tcp " + extra +
         " ! tee name=t ! queue ! h264parse ! mp4mux ! filesink location=" + path +
         " t. ! queue ! appsink name=sink sync=false max-buffers=200 drop=true";
}

// The number of video frames qtdemux reads back from `path`; -1 when it
// cannot (an MP4 that was never finalised has no moov and does not parse).
int mp4_frames(const std::string& path) {
  PipelineRunner read("filesrc location=" + path +
                      " ! qtdemux ! appsink name=sink sync=false max-buffers=0");
  if (!read.ok() || read.play() == GST_STATE_CHANGE_FAILURE) return -1;
  int frames = 0;
  while (SamplePtr s = read.pull(5s)) ++frames;
  if (!read.sink_eos() || read.count(GST_MESSAGE_ERROR) > 0) return -1;
  return frames;
}

void send_eos(PipelineRunner& run) {
  // What gst-launch-1.0 -e does on Ctrl-C.
  ASSERT_TRUE(gst_element_send_event(run.pipeline(), gst_event_new_eos()));
}

TEST(RelaisSrcEos, EosFromTheApplicationEndsTheStreamAndFinalisesTheMp4) {
  TempDir dir;
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  const std::string path = dir.file("x.mp4");
  PipelineRunner run(recording(server.uri(), path));
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int pulled = 0;
  for (; pulled < 20; ++pulled) ASSERT_NE(run.pull(5s), nullptr) << run.first_error_text();

  send_eos(run);
  ASSERT_TRUE(run.wait_for_eos(10s)) << "the EOS never reached the sinks";
  EXPECT_TRUE(run.sink_eos());
  EXPECT_TRUE(run.source_status("reconnecting").empty());
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
  ASSERT_EQ(gst_element_set_state(run.pipeline(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_GE(mp4_frames(path), pulled);
}

TEST(RelaisSrcEos, EosWhileWaitingToReconnectEndsTheStream) {
  TempDir dir;
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  const std::string path = dir.file("x.mp4");
  PipelineRunner run(
      recording(server.uri(), path, "retry-delay=100 max-retry-delay=400 timeout=1000"));
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int pulled = 0;
  for (; pulled < 10; ++pulled) ASSERT_NE(run.pull(5s), nullptr) << run.first_error_text();

  server.stop();
  ASSERT_TRUE(run.wait_for_source_status("reconnecting", 5s));
  while (run.pull(50ms)) ++pulled;
  send_eos(run);
  ASSERT_TRUE(run.wait_for_eos(10s)) << "the EOS never reached the sinks";
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
  ASSERT_EQ(gst_element_set_state(run.pipeline(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_GE(mp4_frames(path), pulled);
}

// Segmented recording (what `splitmuxsink sink=relaiss3sink` does, here to
// files): the EOS completes the last segment, so every segment parses.
TEST(RelaisSrcEos, EosCompletesTheLastSegmentOfASplitRecording) {
  TempDir dir;
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc name=src uri=" + server.uri() +
                     " rtsp-transport=tcp ! tee name=t ! queue ! h264parse ! "
                     "splitmuxsink muxer=mp4mux max-size-time=500000000 location=" +
                     dir.file("seg%02d.mp4") +
                     " t. ! queue ! appsink name=sink sync=false max-buffers=200 drop=true");
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int pulled = 0;
  for (; pulled < 40; ++pulled) ASSERT_NE(run.pull(5s), nullptr) << run.first_error_text();

  send_eos(run);
  ASSERT_TRUE(run.wait_for_eos(10s)) << "the EOS never reached the sinks";
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
  ASSERT_EQ(gst_element_set_state(run.pipeline(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  int segments = 0, frames = 0;
  for (;; ++segments) {
    gchar name[16];
    g_snprintf(name, sizeof name, "seg%02d.mp4", segments);
    if (!g_file_test(dir.file(name).c_str(), G_FILE_TEST_EXISTS)) break;
    const int n = mp4_frames(dir.file(name));
    EXPECT_GT(n, 0) << name << " does not parse";
    frames += std::max(n, 0);
  }
  EXPECT_GE(segments, 2);
  EXPECT_GE(frames, pulled);
}

// identity eos-after=N returns GST_FLOW_EOS once N buffers went through:
// downstream is done, so the stream ends (EOS reaches the sink) and the
// source is not rebuilt.
TEST(RelaisSrcEos, FlowEosFromDownstreamEndsTheStream) {
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc name=src uri=" + server.uri() +
                     " rtsp-transport=tcp retry-delay=100 timeout=1000"
                     " ! identity eos-after=10 ! appsink name=sink sync=false");
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int frames = 0;
  while (SamplePtr s = run.pull(5s)) ++frames;
  EXPECT_GT(frames, 0);
  EXPECT_LE(frames, 10);
  EXPECT_TRUE(run.sink_eos()) << run.first_error_text();
  ASSERT_TRUE(run.wait_for_eos(5s));
  EXPECT_TRUE(run.source_status("reconnecting").empty());
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

// A paused pipeline gets no data (rtspsrc sends PAUSE); that is not a lost
// source, however long it lasts.
TEST(RelaisSrcPause, PausedLongerThanTheTimeoutKeepsTheSource) {
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc name=src uri=" + server.uri() +
                     " rtsp-transport=tcp retry-delay=100 timeout=300 ! appsink name=sink "
                     "sync=false max-buffers=200 drop=true");
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 10; ++i) ASSERT_NE(run.pull(5s), nullptr) << run.first_error_text();

  ASSERT_NE(gst_element_set_state(run.pipeline(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  // Five times the no-data timeout.
  EXPECT_FALSE(run.wait_for_source_status("reconnecting", 1500ms))
      << "the watchdog rebuilt a paused source";
  while (run.pull(10ms)) {
  }  // what arrived before the pause

  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 10; ++i) ASSERT_NE(run.pull(5s), nullptr) << "no frames after resuming";
  EXPECT_TRUE(run.source_status("reconnecting").empty());
  EXPECT_EQ(run.source_status("connected").size(), 1u);
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

}  // namespace
}  // namespace relais::test
