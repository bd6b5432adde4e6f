// Stopping pipelines loses nothing: DELETE, the server's own shutdown and
// SIGTERM send EOS and wait for it, so an MP4 recording is finalised; a
// pipeline that does not drain is stopped after RELAIS_STOP_TIMEOUT_MS; a
// pipeline whose state change hangs is reported and restarted while the
// server keeps answering.
#include <gio/gio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <functional>

#include "child_guard.h"
#include "pipeline_manager.h"
#include "process.h"
#include "raw_http.h"
#include "temp_dir.h"
#include "wait.h"

using namespace relais::server;
using namespace relais::test;
using namespace std::chrono_literals;

namespace {

bool run_until(const std::function<bool()>& done, int timeout_ms = 15000) {
  return run_context_until(done, timeout_ms);
}

BackoffPolicy fast_backoff() {
  BackoffPolicy p;
  p.initial = 20ms;
  p.max = 80ms;
  p.stable_after = 60s;
  return p;
}

// A live H.264 recording into an MP4 file: only a drained mp4mux writes the
// index (moov) that makes the file playable.
std::string recording(const std::string& path) {
  return "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! "
         "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! h264parse ! "
         "mp4mux ! filesink location=" +
         path;
}

// Demuxes and decodes the file; the number of decoded frames, -1 on error.
int decoded_frames(const std::string& path, std::string* error) {
  GError* err = nullptr;
  std::string launch =
      "filesrc location=" + path +
      " ! qtdemux ! h264parse ! avdec_h264 ! fakesink name=out signal-handoffs=true";
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &err);
  if (!pipeline) {
    *error = err ? err->message : "parse";
    g_clear_error(&err);
    return -1;
  }
  int frames = 0;
  GstElement* out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  g_signal_connect(out, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer data) {
                     ++*static_cast<int*>(data);
                   }),
                   &frames);
  gst_object_unref(out);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 20 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  int result = frames;
  if (!msg) {
    *error = "no EOS";
    result = -1;
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    *error = e ? e->message : "error";
    g_clear_error(&e);
    result = -1;
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return result;
}

PipelineDefinition def(const std::string& name, const std::string& launch,
                       RestartPolicy restart = RestartPolicy::kAlways) {
  return PipelineDefinition{name, launch, restart};
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

TEST(GracefulStop, RemoveDrainsARecordingSoTheFileIsComplete) {
  TempDir dir;
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("rec", recording(dir.file("rec.mp4"))), false, &err), AddResult::kAdded)
      << err;
  ASSERT_TRUE(run_until([&] { return m.get("rec")->state == PipelineState::kPlaying; }));
  run_until([] { return false; }, 1000);  // about 30 frames
  bool removed = false;
  ASSERT_TRUE(m.remove("rec", [&] { removed = true; }));
  EXPECT_EQ(m.get("rec")->state, PipelineState::kStopping);
  // The name stays taken until the pipeline is gone.
  EXPECT_EQ(m.add(def("rec", "fakesrc ! fakesink"), false, &err), AddResult::kDuplicate);
  EXPECT_NE(err.find("stopping"), std::string::npos) << err;
  ASSERT_TRUE(run_until([&] { return removed; }));
  EXPECT_FALSE(m.get("rec"));
  std::string why;
  EXPECT_GE(decoded_frames(dir.file("rec.mp4"), &why), 20) << why;
}

TEST(GracefulStop, StopAllDrainsEveryPipelineAndRefusesNewOnes) {
  TempDir dir;
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("a", recording(dir.file("a.mp4"))), false, &err), AddResult::kAdded);
  ASSERT_EQ(m.add(def("b", recording(dir.file("b.mp4"))), false, &err), AddResult::kAdded);
  ASSERT_EQ(m.add(def("c", "filesrc location=/nonexistent/relais ! fakesink"), false, &err),
            AddResult::kAdded);
  ASSERT_TRUE(run_until([&] {
    return m.get("a")->state == PipelineState::kPlaying &&
           m.get("b")->state == PipelineState::kPlaying;
  }));
  run_until([] { return false; }, 700);
  bool done = false;
  m.stop_all([&] { done = true; });
  EXPECT_EQ(m.add(def("d", "fakesrc ! fakesink"), false, &err), AddResult::kShuttingDown);
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_TRUE(m.list().empty());
  for (const char* f : {"a.mp4", "b.mp4"}) {
    std::string why;
    EXPECT_GT(decoded_frames(dir.file(f), &why), 10) << f << ": " << why;
  }
}

// identity sleeps in the streaming thread: EOS cannot pass it, and going to
// NULL waits for the sleep to end.
TEST(GracefulStop, APipelineThatDoesNotDrainIsStoppedAfterTheTimeout) {
  PipelineManager m(nullptr, fast_backoff(), 300);
  std::string err;
  ASSERT_EQ(
      m.add(def("stuck", "videotestsrc is-live=true ! identity sleep-time=2000000 ! fakesink"),
            false, &err),
      AddResult::kAdded);
  ASSERT_TRUE(run_until([&] { return m.get("stuck")->state == PipelineState::kPlaying; }));
  run_until([] { return false; }, 200);
  bool removed = false;
  int ticks = 0;  // the context keeps running while the pipeline is stuck
  GSource* timer = g_timeout_source_new(20);
  g_source_set_callback(
      timer,
      +[](gpointer t) -> gboolean {
        ++*static_cast<int*>(t);
        return G_SOURCE_CONTINUE;
      },
      &ticks, nullptr);
  g_source_attach(timer, nullptr);
  ASSERT_TRUE(m.remove("stuck", [&] { removed = true; }));
  ASSERT_TRUE(run_until([&] { return removed; }));
  g_source_destroy(timer);
  g_source_unref(timer);
  EXPECT_FALSE(m.get("stuck"));
  EXPECT_GT(ticks, 5);
}

TEST(GracefulStop, AHungStateChangeIsReportedAndThePipelineRestarted) {
  // The second branch fails after a few frames; going to NULL then waits for
  // the first branch's 3 s sleep: longer than the 300 ms allowed.
  PipelineManager m(nullptr, fast_backoff(), 300);
  std::string err;
  ASSERT_EQ(m.add(def("hangs",
                      "videotestsrc is-live=true ! identity sleep-time=3000000 ! fakesink "
                      "videotestsrc is-live=true ! identity error-after=5 ! fakesink"),
                  false, &err),
            AddResult::kAdded)
      << err;
  ASSERT_TRUE(run_until([&] { return m.get("hangs")->hangs >= 1; }));
  auto s = m.get("hangs");
  EXPECT_NE(s->last_error.find("hung"), std::string::npos) << s->last_error;
  // Restarted per its policy with a fresh pipeline.
  ASSERT_TRUE(run_until([&] { return m.get("hangs")->restarts >= 1; }));
  EXPECT_TRUE(m.abandoned_any());
}

// The relais-server process: DELETE answers once the recording is complete;
// SIGTERM finalises every recording before the process exits; a hung pipeline
// shows in the API while /healthz keeps answering.
class ServerStop : public ::testing::Test {
 protected:
  bool start(const std::string& pipelines_json, const std::vector<std::string>& extra = {}) {
    std::ofstream(dir_.file("p.json")) << pipelines_json;
    port_ = free_loopback_port();
    std::vector<std::string> argv = {
        server_binary(),       "--host",      "127.0.0.1",        "--port",
        std::to_string(port_), "--pipelines", dir_.file("p.json")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::vector<const gchar*> raw;
    for (const auto& a : argv) raw.push_back(a.c_str());
    raw.push_back(nullptr);
    GSubprocessLauncher* launcher = test_launcher(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stderr_file_path(launcher, dir_.file("server.log").c_str());
    GError* err = nullptr;
    proc_ = g_subprocess_launcher_spawnv(launcher, raw.data(), &err);
    g_object_unref(launcher);
    if (!proc_) {
      ADD_FAILURE() << err->message;
      g_clear_error(&err);
      return false;
    }
    return wait_for_port(port_, 10000);
  }
  void TearDown() override {
    if (proc_) {
      g_subprocess_force_exit(proc_);
      g_subprocess_wait(proc_, nullptr, nullptr);
      g_object_unref(proc_);
    }
  }
  bool playing(const std::string& name) {
    return http_request(port_, "GET", "/api/v1/pipelines/" + name).body.find("\"playing\"") !=
           std::string::npos;
  }
  std::string log() const {
    gchar* text = nullptr;
    g_file_get_contents(dir_.file("server.log").c_str(), &text, nullptr, nullptr);
    std::string s = text ? text : "";
    g_free(text);
    return s;
  }

  TempDir dir_;
  int port_ = 0;
  GSubprocess* proc_ = nullptr;
};

TEST_F(ServerStop, DeleteAnswersOnceTheRecordingIsComplete) {
  const std::string file = dir_.file("api.mp4");
  ASSERT_TRUE(
      start(R"({"pipelines": [{"name": "rec", "launch": )" + json_string(recording(file)) + "}]}"));
  ASSERT_TRUE(eventually([&] { return playing("rec"); }, 15000)) << log();
  g_usleep(1000 * 1000);
  RawResponse r = http_request(port_, "DELETE", "/api/v1/pipelines/rec");
  EXPECT_EQ(r.status, 204) << r.body;
  // Already complete when the answer arrives: no waiting here.
  std::string why;
  EXPECT_GE(decoded_frames(file, &why), 20) << why << "\n" << log();
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/pipelines/rec").status, 404);
}

TEST_F(ServerStop, SigtermFinalisesEveryRecording) {
  const std::string a = dir_.file("a.mp4"), b = dir_.file("b.mp4");
  ASSERT_TRUE(start(R"({"pipelines": [{"name": "a", "launch": )" + json_string(recording(a)) +
                    R"(}, {"name": "b", "launch": )" + json_string(recording(b)) + "}]}"));
  ASSERT_TRUE(eventually([&] { return playing("a") && playing("b"); }, 15000)) << log();
  g_usleep(1000 * 1000);
  g_subprocess_send_signal(proc_, SIGTERM);
  ASSERT_TRUE(g_subprocess_wait(proc_, nullptr, nullptr));
  EXPECT_TRUE(g_subprocess_get_if_exited(proc_));
  EXPECT_EQ(g_subprocess_get_exit_status(proc_), 0) << log();
  for (const auto& f : {a, b}) {
    std::string why;
    EXPECT_GE(decoded_frames(f, &why), 20) << f << ": " << why << "\n" << log();
  }
}

TEST_F(ServerStop, AHungPipelineIsReportedWhileTheServerKeepsAnswering) {
  ASSERT_TRUE(start(
      R"({"pipelines": [{"name": "hangs", "launch": "videotestsrc is-live=true ! identity sleep-time=3000000 ! fakesink videotestsrc is-live=true ! identity error-after=5 ! fakesink"}]})",
      {"--stop-timeout-ms", "300"}));
  ASSERT_TRUE(eventually(
      [&] {
        return http_request(port_, "GET", "/api/v1/pipelines/hangs").body.find("\"hangs\":0") ==
               std::string::npos;
      },
      15000))
      << log();
  RawResponse p = http_request(port_, "GET", "/api/v1/pipelines/hangs");
  EXPECT_NE(p.body.find("hung"), std::string::npos) << p.body;
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200);
  EXPECT_TRUE(eventually(
      [&] {
        return http_request(port_, "GET", "/api/v1/pipelines/hangs").body.find("\"restarts\":0") ==
               std::string::npos;
      },
      15000));
}

TEST_F(ServerStop, ABadStopTimeoutIsAStartError) {
  for (const char* bad : {"abc", "5", "3600001", "-1"}) {
    GSubprocessLauncher* launcher = test_launcher(G_SUBPROCESS_FLAGS_STDERR_PIPE);
    std::string bin = server_binary();
    const gchar* argv[] = {bin.c_str(), "--stop-timeout-ms", bad, nullptr};
    GError* err = nullptr;
    GSubprocess* proc = g_subprocess_launcher_spawnv(launcher, argv, &err);
    g_object_unref(launcher);
    ASSERT_NE(proc, nullptr);
    gchar* err_text = nullptr;
    g_subprocess_communicate_utf8(proc, nullptr, nullptr, nullptr, &err_text, nullptr);
    EXPECT_EQ(g_subprocess_get_exit_status(proc), 2) << bad;
    EXPECT_NE(std::string(err_text ? err_text : "").find("stop-timeout-ms"), std::string::npos)
        << (err_text ? err_text : "");
    g_free(err_text);
    g_object_unref(proc);
  }
}
