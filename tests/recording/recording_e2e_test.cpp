// The recording path a camera operator runs: an RTSP camera (gst-rtsp-server)
// recorded by relais-server to S3 (a real s3rver) in 2-second MPEG-TS
// segments. One pipeline is deleted through the API, the other stopped by
// SIGTERM to the server. Every segment, the last included, must be in S3 and
// decode from its first frame to its last, and the segments must follow each
// other without a gap, adding up to what was recorded.
#include <gio/gio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <functional>

#include "child_guard.h"
#include "raw_http.h"
#include "rtsp_test_server.h"
#include "s3rver.h"
#include "temp_dir.h"
#include "wait.h"

using namespace relais::test;

namespace {

constexpr GstClockTime kFrame = GST_SECOND / 30;  // the test camera sends 30 frames/s

// Records the camera to S3 and, as operators do for live viewing, into the
// store too (which also tells the test when the first frame arrived).
std::string recording(const std::string& camera, const std::string& prefix) {
  return "relaissrc uri=" + camera +
         " ! h264parse ! tee name=t ! queue ! splitmuxsink async-finalize=true "
         "sink-factory=relaiss3sink location=s3://recordings/" +
         prefix +
         "/%05d.ts muxer-factory=mpegtsmux max-size-time=2000000000 t. ! queue ! relaisstoresink "
         "stream=live-" +
         prefix;
}

struct Segment {
  std::string key;
  int frames = 0;
  GstClockTime first = GST_CLOCK_TIME_NONE;  // PTS of the first and last decoded frame
  GstClockTime last = GST_CLOCK_TIME_NONE;
  std::string error;  // empty when it decoded to the end
};

// Decodes one object fully: tsdemux, h264parse, avdec_h264.
Segment decode(const std::string& key, const std::string& bytes, const TempDir& dir) {
  Segment s;
  s.key = key;
  const std::string path = dir.file("segment.ts");
  std::ofstream(path, std::ios::binary) << bytes;
  std::string launch = "filesrc location=" + path +
                       " ! tsdemux ! h264parse ! avdec_h264 ! fakesink name=out "
                       "signal-handoffs=true sync=false";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &err);
  if (!pipeline) {
    s.error = err ? err->message : "parse";
    g_clear_error(&err);
    return s;
  }
  GstElement* out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  g_signal_connect(out, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* b, GstPad*, gpointer d) {
                     auto* seg = static_cast<Segment*>(d);
                     ++seg->frames;
                     GstClockTime pts = GST_BUFFER_PTS(b);
                     if (!GST_CLOCK_TIME_IS_VALID(seg->first)) seg->first = pts;
                     seg->last = pts;
                   }),
                   &s);
  gst_object_unref(out);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 20 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!msg) {
    s.error = "no EOS";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    s.error = e ? e->message : "error";
    g_clear_error(&e);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return s;
}

class RecordingToS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_ = S3rver::start_for_suite("recordings");
    ASSERT_TRUE(s3_);
    ASSERT_TRUE(camera_.start());
  }
  void TearDown() override {
    if (proc_) {
      g_subprocess_force_exit(proc_);
      g_subprocess_wait(proc_, nullptr, nullptr);
      g_object_unref(proc_);
    }
  }
  bool start_server() {
    std::ofstream(dir_.file("p.json"))
        << R"({"pipelines": [{"name": "cam-a", "launch": ")" << recording(camera_.uri(), "a")
        << R"("}, {"name": "cam-b", "launch": ")" << recording(camera_.uri(), "b") << R"("}]})";
    port_ = free_loopback_port();
    std::string p = std::to_string(port_), bin = server_binary(), file = dir_.file("p.json");
    const gchar* argv[] = {bin.c_str(), "--host",      "127.0.0.1",  "--port",
                           p.c_str(),   "--pipelines", file.c_str(), nullptr};
    GSubprocessLauncher* launcher = test_launcher(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stderr_file_path(launcher, dir_.file("server.log").c_str());
    g_subprocess_launcher_setenv(launcher, "AWS_ENDPOINT_URL", s3_->endpoint().c_str(), TRUE);
    g_subprocess_launcher_setenv(launcher, "AWS_ACCESS_KEY_ID", S3rver::kAccessKey, TRUE);
    g_subprocess_launcher_setenv(launcher, "AWS_SECRET_ACCESS_KEY", S3rver::kSecretKey, TRUE);
    g_subprocess_launcher_setenv(launcher, "AWS_REGION", "us-east-1", TRUE);
    GError* err = nullptr;
    proc_ = g_subprocess_launcher_spawnv(launcher, argv, &err);
    g_object_unref(launcher);
    if (!proc_) {
      ADD_FAILURE() << err->message;
      g_clear_error(&err);
      return false;
    }
    return wait_for_port(port_, 10000);
  }
  // Whether the store has a frame of the stream yet.
  bool has_frames(const std::string& stream) {
    std::string body = http_request(port_, "GET", "/api/v1/streams").body;
    size_t at = body.find("\"name\":\"" + stream + "\"");
    return at != std::string::npos &&
           body.find("\"frames_retained\":0", at) != body.find("\"frames_retained\"", at);
  }
  std::string log() const {
    gchar* text = nullptr;
    g_file_get_contents(dir_.file("server.log").c_str(), &text, nullptr, nullptr);
    std::string s = text ? text : "";
    g_free(text);
    return s;
  }
  // Every segment under prefix/, decoded, in order.
  std::vector<Segment> segments(const std::string& prefix) {
    std::vector<Segment> out;
    for (const auto& key : list_keys(s3_->endpoint(), "recordings", prefix + "/")) {
      HttpResult r = http_get(s3_->endpoint() + "/recordings/" + key);
      EXPECT_EQ(r.status, 200u) << key;
      out.push_back(decode(key, r.body, dir_));
    }
    return out;
  }
  // Each segment decodes to its end, and their durations add up to what was
  // recorded: the time from the first frame to the stop.
  void expect_complete(const std::string& prefix, double recorded_s) {
    std::vector<Segment> segs = segments(prefix);
    ASSERT_GE(segs.size(), 3u) << prefix << "\n" << log();
    double total = 0;
    std::string durations;
    for (const Segment& s : segs) {
      EXPECT_TRUE(s.error.empty()) << s.key << ": " << s.error;
      ASSERT_GT(s.frames, 0) << s.key;
      const double d = static_cast<double>(GST_CLOCK_DIFF(s.first, s.last) + kFrame) / GST_SECOND;
      total += d;
      durations += " " + std::to_string(d);
    }
    std::printf("%s: %zu segments, %.2f s recorded, %.2f s in S3 (%s)\n", prefix.c_str(),
                segs.size(), recorded_s, total, durations.c_str());
    EXPECT_GE(total, recorded_s - 0.5) << prefix << ":" << durations;
    EXPECT_LE(total, recorded_s + 0.5) << prefix << ":" << durations;
  }

  std::unique_ptr<S3rver> s3_;
  RtspTestServer camera_;
  TempDir dir_;
  int port_ = 0;
  GSubprocess* proc_ = nullptr;
};

}  // namespace

TEST_F(RecordingToS3, DeleteAndSigtermLeaveEverySegmentComplete) {
  ASSERT_TRUE(start_server()) << log();
  // Both read the same camera: their first frames arrive together.
  gint64 started = 0;
  ASSERT_TRUE(eventually(
      [&] {
        if (!has_frames("live-a") || !has_frames("live-b")) return false;
        started = g_get_monotonic_time();
        return true;
      },
      20000))
      << log();
  // Two whole segments and most of a third: losing the last one shows.
  g_usleep(5800 * 1000);

  const double a_seconds = static_cast<double>(g_get_monotonic_time() - started) / G_USEC_PER_SEC;
  RawResponse r = http_request(port_, "DELETE", "/api/v1/pipelines/cam-a");
  EXPECT_EQ(r.status, 204) << r.body;
  expect_complete("a", a_seconds);  // in S3 when DELETE answers: no waiting

  const double b_seconds = static_cast<double>(g_get_monotonic_time() - started) / G_USEC_PER_SEC;
  g_subprocess_send_signal(proc_, SIGTERM);
  ASSERT_TRUE(g_subprocess_wait(proc_, nullptr, nullptr));
  EXPECT_TRUE(g_subprocess_get_if_exited(proc_));
  EXPECT_EQ(g_subprocess_get_exit_status(proc_), 0) << log();
  expect_complete("b", b_seconds);
}
