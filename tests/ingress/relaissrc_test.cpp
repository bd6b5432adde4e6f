// relaissrc against real sources: an RTSP server run by the test
// (gst-rtsp-server), files the test makes, and live test patterns.
#include <gst/app/gstappsink.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "gst_handles.h"
#include "pipeline_runner.h"
#include "process.h"
#include "rtsp_test_server.h"
#include "temp_dir.h"

namespace relais::test {
namespace {

using namespace std::chrono_literals;

std::string caps_name(GstSample* sample) {
  GstCaps* caps = gst_sample_get_caps(sample);
  return caps ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "";
}

std::string caps_field(GstSample* sample, const char* field) {
  GstCaps* caps = gst_sample_get_caps(sample);
  if (!caps) return "";
  const gchar* v = gst_structure_get_string(gst_caps_get_structure(caps, 0), field);
  return v ? v : "";
}

int caps_int(GstSample* sample, const char* field) {
  GstCaps* caps = gst_sample_get_caps(sample);
  int v = -1;
  if (caps) gst_structure_get_int(gst_caps_get_structure(caps, 0), field, &v);
  return v;
}

void expect_parsed_h264(GstSample* sample) {
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(caps_name(sample), "video/x-h264");
  EXPECT_EQ(caps_field(sample, "stream-format"), "byte-stream");
  EXPECT_EQ(caps_field(sample, "alignment"), "au");
  EXPECT_EQ(caps_int(sample, "width"), 320);
  EXPECT_EQ(caps_int(sample, "height"), 240);
}

// NAL unit types in an H.264 byte-stream buffer.
std::set<int> nal_types(GstBuffer* buffer) {
  std::set<int> types;
  MappedBuffer map(buffer, GST_MAP_READ);
  if (!map.ok()) return types;
  const guint8* d = map.data();
  for (gsize i = 0; i + 3 < map.size(); ++i) {
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
      types.insert(d[i + 3] & 0x1f);
      i += 2;
    }
  }
  return types;
}

// What a relay needs: each buffer is one whole access unit with a timestamp,
// and each keyframe carries the parameter sets, so a reader that starts at
// any keyframe can decode.
void expect_whole_access_unit(GstSample* sample) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  ASSERT_NE(buffer, nullptr);
  EXPECT_TRUE(GST_BUFFER_PTS_IS_VALID(buffer));
  std::set<int> types = nal_types(buffer);
  EXPECT_TRUE(types.count(1) || types.count(5)) << "a buffer without a picture";
  if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    EXPECT_TRUE(types.count(5) && types.count(7) && types.count(8))
        << "a keyframe without IDR slice, SPS and PPS";
  }
}

std::string sink_part() {
  return " ! appsink name=sink sync=false max-buffers=200 drop=true";
}

// Writes a 320x240 H.264 clip of `frames` frames with `mux` (mp4mux,
// matroskamux) to `path`.
// Encodes `frames` frames of a test pattern with `encoder` (a launch fragment)
// into `mux`, written to `path`.
void make_encoded_file(const std::string& path, const std::string& encoder, const std::string& mux,
                       int frames, const char* size = "width=320,height=240") {
  std::string launch = "videotestsrc num-buffers=" + std::to_string(frames) + " ! video/x-raw," +
                       size + ",framerate=30/1 ! " + encoder + " ! " + mux +
                       " ! filesink location=" + path;
  GError* error = nullptr;
  ElementRef p = ElementRef::adopt(gst_parse_launch(launch.c_str(), &error));
  ASSERT_EQ(error, nullptr) << error->message;
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  BusRef bus = BusRef::adopt(gst_element_get_bus(p.get()));
  MessagePtr msg(
      gst_bus_timed_pop_filtered(bus.get(), 20 * GST_SECOND,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  ASSERT_NE(msg, nullptr);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS);
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

void make_h264_file(const std::string& path, const char* mux, int frames) {
  make_encoded_file(path, "x264enc speed-preset=ultrafast key-int-max=10 ! h264parse", mux, frames);
}

// Pulls samples until `pred` holds for one, up to `timeout`.
template <typename Pred>
bool pull_until(PipelineRunner& run, std::chrono::milliseconds timeout, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    SamplePtr s = run.pull(100ms);
    if (s && pred(s.get())) return true;
  }
  return false;
}

bool is_discont(GstSample* s) {
  return GST_BUFFER_FLAG_IS_SET(gst_sample_get_buffer(s), GST_BUFFER_FLAG_DISCONT);
}

class RelaisSrcRtsp : public ::testing::TestWithParam<const char*> {};

TEST_P(RelaisSrcRtsp, GivesParsedH264) {
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc name=src uri=" + server.uri() + " rtsp-transport=" + GetParam() +
                     sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int keyframes = 0;
  for (int i = 0; i < 40; ++i) {  // the server sends a keyframe every 15 frames
    SamplePtr s = run.pull(5s);
    ASSERT_NE(s, nullptr) << "frame " << i << "; error: " << run.first_error_text();
    expect_parsed_h264(s.get());
    expect_whole_access_unit(s.get());
    keyframes +=
        !GST_BUFFER_FLAG_IS_SET(gst_sample_get_buffer(s.get()), GST_BUFFER_FLAG_DELTA_UNIT);
  }
  EXPECT_GE(keyframes, 2);
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
  auto connected = run.source_status("connected");
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_STREQ(gst_structure_get_string(connected[0], "uri"), server.uri().c_str());
}

TEST_P(RelaisSrcRtsp, SurvivesServerRestart) {
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  const int port = server.port();
  PipelineRunner run("relaissrc name=src uri=" + server.uri() + " rtsp-transport=" + GetParam() +
                     " retry-delay=100 max-retry-delay=400 timeout=1000" + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 10; ++i) ASSERT_NE(run.pull(5s), nullptr) << run.first_error_text();

  server.stop();
  ASSERT_TRUE(run.wait_for_source_status("reconnecting", 5s))
      << "no reconnecting message after the server went away";
  while (run.pull(50ms)) {
  }  // drain what arrived before the loss
  ASSERT_TRUE(server.start(port));

  ASSERT_TRUE(pull_until(run, 10s, is_discont))
      << "no DISCONT buffer after the restart; error: " << run.first_error_text();
  for (int i = 0; i < 10; ++i) {
    SamplePtr s = run.pull(5s);
    ASSERT_NE(s, nullptr) << "frames stopped after the restart";
    expect_parsed_h264(s.get());
  }
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
  EXPECT_EQ(run.count(GST_MESSAGE_EOS), 0);
  EXPECT_FALSE(run.sink_eos());
  auto connected = run.source_status("connected");
  ASSERT_GE(connected.size(), 2u);
  guint attempt = 0;
  gst_structure_get_uint(connected.back(), "attempt", &attempt);
  EXPECT_GE(attempt, 1u);
}

INSTANTIATE_TEST_SUITE_P(Transports, RelaisSrcRtsp, ::testing::Values("tcp", "udp"));

TEST(RelaisSrc, RtspRetriesWithBackoffUntilServerAppears) {
  const int port = free_loopback_port();
  PipelineRunner run("relaissrc name=src uri=rtsp://127.0.0.1:" + std::to_string(port) +
                     "/test rtsp-transport=tcp retry-delay=50 max-retry-delay=200" + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (run.source_status("reconnecting").size() < 4 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto attempts = run.source_status("reconnecting");
  ASSERT_GE(attempts.size(), 4u);
  const guint64 expected_delay[] = {50, 100, 200, 200};
  for (guint i = 0; i < 4; ++i) {
    guint attempt = 0;
    guint64 delay = 0;
    gst_structure_get_uint(attempts[i], "attempt", &attempt);
    gst_structure_get_uint64(attempts[i], "delay", &delay);
    EXPECT_EQ(attempt, i + 1);
    EXPECT_EQ(delay, expected_delay[i] * GST_MSECOND) << "attempt " << attempt;
    EXPECT_NE(std::string(gst_structure_get_string(attempts[i], "reason")), "");
  }
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();

  RtspTestServer server;
  ASSERT_TRUE(server.start(port));
  SamplePtr s = run.pull(10s);
  ASSERT_NE(s, nullptr) << run.first_error_text();
  expect_parsed_h264(s.get());
}

// Stopping while a reconnection is pending, and playing again, neither hangs
// nor leaves the old source running.
TEST(RelaisSrc, StopsAndRestartsWhileReconnecting) {
  const int port = free_loopback_port();
  PipelineRunner run("relaissrc name=src uri=rtsp://127.0.0.1:" + std::to_string(port) +
                     "/test rtsp-transport=tcp retry-delay=20 max-retry-delay=40" + sink_part());
  ASSERT_TRUE(run.ok());
  for (int round = 0; round < 3; ++round) {
    ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
    std::this_thread::sleep_for(150ms);
    ASSERT_EQ(gst_element_set_state(run.pipeline(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  }
  EXPECT_GE(run.source_status("reconnecting").size(), 3u);
  RtspTestServer server;
  ASSERT_TRUE(server.start(port));
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  SamplePtr s = run.pull(5s);
  ASSERT_NE(s, nullptr) << run.first_error_text();
  expect_parsed_h264(s.get());
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

TEST(RelaisSrc, RtspWithAudioGivesOnlyTheVideo) {
  RtspTestServer server;
  server.set_with_audio(true);
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc uri=" + server.uri() + " rtsp-transport=tcp" + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 10; ++i) {
    SamplePtr s = run.pull(5s);
    ASSERT_NE(s, nullptr) << run.first_error_text();
    expect_parsed_h264(s.get());
  }
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

// A self-signed certificate for 127.0.0.1 (cert.pem, key.pem) in `dir`.
void make_certificate(const TempDir& dir) {
  std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  const gchar* argv[] = {"openssl",  "req",           "-x509",   "-newkey",
                         "rsa:2048", "-nodes",        "-keyout", key.c_str(),
                         "-out",     cert.c_str(),    "-days",   "1",
                         "-subj",    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                         nullptr};
  gint status = -1;
  GError* error = nullptr;
  ASSERT_TRUE(
      g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr,
                   static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                            G_SPAWN_STDERR_TO_DEV_NULL),
                   nullptr, nullptr, nullptr, nullptr, &status, &error))
      << error->message;
  ASSERT_TRUE(g_spawn_check_wait_status(status, nullptr));
}

TEST(RelaisSrc, RtspsTrustsTheGivenCertificateAuthority) {
  TempDir dir;
  make_certificate(dir);
  RtspTestServer server;
  server.set_tls(dir.file("cert.pem"), dir.file("key.pem"));
  ASSERT_TRUE(server.start());
  ASSERT_EQ(server.uri().rfind("rtsps://", 0), 0u);
  PipelineRunner run("relaissrc name=src uri=" + server.uri() +
                     " rtsp-transport=tcp tls-ca-file=" + dir.file("cert.pem") + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 10; ++i) {
    SamplePtr s = run.pull(5s);
    ASSERT_NE(s, nullptr) << run.first_error_text();
    expect_parsed_h264(s.get());
  }
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

TEST(RelaisSrc, RtspsRejectsAnUntrustedCertificate) {
  TempDir dir;
  make_certificate(dir);
  RtspTestServer server;
  server.set_tls(dir.file("cert.pem"), dir.file("key.pem"));
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc name=src uri=" + server.uri() +
                     " rtsp-transport=tcp reconnect=false" + sink_part());
  ASSERT_TRUE(run.ok());
  run.play();
  std::string text, source;
  ASSERT_TRUE(run.wait_for_error(5s, &text, &source));
  EXPECT_EQ(source, "src");
  EXPECT_NE(text.find(server.uri()), std::string::npos) << text;
  EXPECT_EQ(run.pull(100ms), nullptr);
}

TEST(RelaisSrc, RtspDecodeGivesRawVideo) {
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc uri=" + server.uri() + " decode=true" + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  SamplePtr s = run.pull(5s);
  ASSERT_NE(s, nullptr) << run.first_error_text();
  EXPECT_EQ(caps_name(s.get()), "video/x-raw");
  EXPECT_EQ(caps_int(s.get(), "width"), 320);
}

class RelaisSrcFile : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(RelaisSrcFile, GivesEncodedVideoThenEos) {
  TempDir dir;
  const std::string path = dir.file(std::string("clip.") + GetParam().second);
  make_h264_file(path, GetParam().first, 30);
  PipelineRunner run("relaissrc uri=file://" + path + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int frames = 0;
  while (SamplePtr s = run.pull(5s)) {
    if (frames++ == 0) expect_parsed_h264(s.get());
    expect_whole_access_unit(s.get());
  }
  EXPECT_EQ(frames, 30);
  EXPECT_TRUE(run.sink_eos());
  EXPECT_TRUE(run.wait_for_eos(2s));
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

TEST_P(RelaisSrcFile, DecodeGivesRawVideo) {
  TempDir dir;
  const std::string path = dir.file(std::string("clip.") + GetParam().second);
  make_h264_file(path, GetParam().first, 10);
  PipelineRunner run("relaissrc decode=true uri=file://" + path + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int frames = 0;
  while (SamplePtr s = run.pull(5s)) {
    EXPECT_EQ(caps_name(s.get()), "video/x-raw");
    EXPECT_EQ(caps_int(s.get(), "width"), 320);
    EXPECT_EQ(caps_int(s.get(), "height"), 240);
    ++frames;
  }
  EXPECT_EQ(frames, 10);
  EXPECT_TRUE(run.wait_for_eos(2s));
}

INSTANTIATE_TEST_SUITE_P(Containers, RelaisSrcFile,
                         ::testing::Values(std::make_pair("mp4mux", "mp4"),
                                           std::make_pair("matroskamux", "mkv")));

// Other codecs pass through parsed and unchanged too.
struct CodecCase {
  const char* name;
  const char* encoder;
  const char* mux;
  const char* extension;
  const char* caps_name;
};

class RelaisSrcCodecs : public ::testing::TestWithParam<CodecCase> {};

TEST_P(RelaisSrcCodecs, FilePassesTheEncodedVideoThrough) {
  const CodecCase& c = GetParam();
  TempDir dir;
  const std::string path = dir.file(std::string("clip.") + c.extension);
  make_encoded_file(path, c.encoder, c.mux, 10, "width=160,height=120");
  PipelineRunner run("relaissrc uri=file://" + path + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int frames = 0;
  while (SamplePtr s = run.pull(5s)) {
    EXPECT_EQ(caps_name(s.get()), c.caps_name);
    EXPECT_EQ(caps_int(s.get(), "width"), 160);
    ++frames;
  }
  EXPECT_EQ(frames, 10);
  EXPECT_TRUE(run.wait_for_eos(2s));
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, RelaisSrcCodecs,
    ::testing::Values(CodecCase{"h265", "x265enc speed-preset=ultrafast ! h265parse", "matroskamux",
                                "mkv", "video/x-h265"},
                      CodecCase{"vp8", "vp8enc deadline=1", "webmmux", "webm", "video/x-vp8"},
                      CodecCase{"vp9", "vp9enc deadline=1 cpu-used=8", "webmmux", "webm",
                                "video/x-vp9"},
                      CodecCase{"av1", "av1enc cpu-used=8 usage-profile=realtime ! av1parse",
                                "matroskamux", "mkv", "video/x-av1"}),
    [](const auto& info) { return std::string(info.param.name); });

// A clip served over HTTP by a real HTTP server (Python's, which meson
// already needs). Matroska, as that server does not answer range requests.
TEST(RelaisSrc, HttpFileGivesEncodedVideoThenEos) {
  TempDir dir;
  make_h264_file(dir.file("clip.mkv"), "matroskamux", 30);
  const int port = free_loopback_port();
  Process http;
  std::string error;
  ASSERT_TRUE(http.start({"python3", "-m", "http.server", std::to_string(port), "--bind",
                          "127.0.0.1", "--directory", dir.path()},
                         "", &error))
      << error;
  ASSERT_TRUE(wait_for_port(port, 5000));
  PipelineRunner run("relaissrc uri=http://127.0.0.1:" + std::to_string(port) + "/clip.mkv" +
                     sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  int frames = 0;
  while (SamplePtr s = run.pull(5s)) {
    if (frames++ == 0) expect_parsed_h264(s.get());
    expect_whole_access_unit(s.get());
  }
  EXPECT_EQ(frames, 30);
  EXPECT_TRUE(run.wait_for_eos(2s));
  EXPECT_EQ(run.count(GST_MESSAGE_ERROR), 0) << run.first_error_text();
}

TEST(RelaisSrc, TestPatternGivesRawVideoAtRequestedSizeAndRate) {
  PipelineRunner run("relaissrc uri=\"test://?pattern=ball&width=160&height=120&framerate=15/1\"" +
                     sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  SamplePtr first = run.pull(5s);
  ASSERT_NE(first, nullptr) << run.first_error_text();
  EXPECT_EQ(caps_name(first.get()), "video/x-raw");
  EXPECT_EQ(caps_int(first.get(), "width"), 160);
  EXPECT_EQ(caps_int(first.get(), "height"), 120);
  int n = 0, d = 0;
  ASSERT_TRUE(gst_structure_get_fraction(
      gst_caps_get_structure(gst_sample_get_caps(first.get()), 0), "framerate", &n, &d));
  EXPECT_EQ(n, 15);
  EXPECT_EQ(d, 1);
  SamplePtr second = run.pull(5s);
  ASSERT_NE(second, nullptr);
  GstClockTime step = GST_BUFFER_PTS(gst_sample_get_buffer(second.get())) -
                      GST_BUFFER_PTS(gst_sample_get_buffer(first.get()));
  EXPECT_NEAR(static_cast<double>(step), GST_SECOND / 15.0, GST_MSECOND);
}

// Bad input: an error from relaissrc on the bus at READY->PAUSED (or soon
// after), never a hang.
struct BadInput {
  const char* name;
  std::string uri;          // "%PORT%" is a closed port, "%DIR%" the temp dir
  std::string extra;        // more properties
  const char* message_has;  // part of the error a person reads
};

class RelaisSrcBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(RelaisSrcBadInput, PostsAnErrorPromptly) {
  TempDir dir;
  std::string uri = GetParam().uri;
  if (auto at = uri.find("%PORT%"); at != std::string::npos)
    uri.replace(at, 6, std::to_string(free_loopback_port()));
  if (auto at = uri.find("%DIR%"); at != std::string::npos) uri.replace(at, 5, dir.path());
  if (std::string(GetParam().name) == "AudioOnlyFile") {
    GError* error = nullptr;
    ElementRef p = ElementRef::adopt(gst_parse_launch(
        ("audiotestsrc num-buffers=20 ! audioconvert ! vorbisenc ! matroskamux ! filesink "
         "location=" +
         dir.file("audio.mkv"))
            .c_str(),
        &error));
    ASSERT_EQ(error, nullptr);
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    BusRef bus = BusRef::adopt(gst_element_get_bus(p.get()));
    MessagePtr msg(gst_bus_timed_pop_filtered(bus.get(), 10 * GST_SECOND, GST_MESSAGE_EOS));
    ASSERT_NE(msg, nullptr);
    gst_element_set_state(p.get(), GST_STATE_NULL);
  }
  PipelineRunner run("relaissrc name=src uri=\"" + uri + "\" " + GetParam().extra + sink_part());
  ASSERT_TRUE(run.ok());
  run.play();
  std::string text, source;
  ASSERT_TRUE(run.wait_for_error(5s, &text, &source)) << "no error for " << uri;
  EXPECT_EQ(source, "src");
  EXPECT_NE(text.find(GetParam().message_has), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, RelaisSrcBadInput,
    ::testing::Values(
        BadInput{"NoUri", "", "", "No uri is set"},
        BadInput{"UnknownScheme", "gopher://example.org/x", "", "Unsupported URI scheme 'gopher'"},
        BadInput{"MalformedUri", "rtsp://[::1/x", "", "Malformed URI"},
        BadInput{"MissingFile", "file://%DIR%/missing.mp4", "", "does not exist"},
        BadInput{"MissingDevice", "v4l2:///dev/video-relais-missing", "", "does not exist"},
        BadInput{"UnreachableRtspHost", "rtsp://127.0.0.1:%PORT%/test", "reconnect=false",
                 "rtsp://127.0.0.1"},
        BadInput{"UnknownTestKey", "test://?pattern=ball&fps=30", "", "Unknown key 'fps'"},
        BadInput{"BadTestSize", "test://?width=huge", "", "width must be a whole number"},
        BadInput{"UnknownTestPattern", "test://?pattern=nosuch", "", "Unknown test:// pattern"},
        BadInput{"MissingTlsCaFile", "rtsps://127.0.0.1:%PORT%/test",
                 "tls-ca-file=/nonexistent/ca.pem", "Cannot use tls-ca-file"},
        BadInput{"AudioOnlyFile", "file://%DIR%/audio.mkv", "", "has no video stream"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return info.param.name; });

}  // namespace
}  // namespace relais::test
