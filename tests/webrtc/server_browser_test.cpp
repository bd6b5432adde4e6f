// The real relais-server executable, its pipelines and its pages, watched in
// headless Chromium (playwright-core through browser_driver.mjs): H.264 and
// VP8 streams play at their size with frames that keep being decoded, two
// viewers play and one leaves, the first frame comes from the stored keyframe
// (before the writer's next one, with a 4 s GOP), the index page links every
// stream, errors are said in plain words, and the README's demo plays.
#include <glib.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>

#include "../server/raw_http.h"
#include "browser_driver.h"
#include "process.h"
#include "redis_server.h"
#include "registry.h"
#include "temp_dir.h"

namespace relais::test {
namespace {

std::string build_dir() {
  return g_getenv("RELAIS_BUILD_DIR");
}
std::string source_dir() {
  return g_getenv("RELAIS_SOURCE_DIR");
}

bool eventually(const std::function<bool()>& f, int timeout_ms) {
  gint64 end = g_get_monotonic_time() + gint64{timeout_ms} * 1000;
  while (g_get_monotonic_time() < end) {
    if (f()) return true;
    g_usleep(20000);
  }
  return f();
}

std::string read_text(const std::string& path) {
  gchar* text = nullptr;
  g_file_get_contents(path.c_str(), &text, nullptr, nullptr);
  std::string s = text ? text : "";
  g_free(text);
  return s;
}

// A 320x240 test pattern at 30 frames/s with a keyframe every 4 s (120 frames).
std::string camera(const std::string& stream, const std::string& encoder) {
  return R"({"name": ")" + stream +
         R"(", "launch": "relaissrc uri=\"test://?pattern=ball&width=320&height=240&framerate=30/1\" ! videoconvert ! )" +
         encoder + " ! relaisstoresink stream=" + stream + R"("})";
}

const std::string kDefinitions =
    R"({"pipelines": [)" +
    camera("cam-h264",
           "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=120 ! "
           "video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1") +
    ", " + camera("cam-vp8", "vp8enc deadline=1 keyframe-max-dist=120") + "]}";

// Counts the keyframes a stream gets from now on, as a store reader sees them.
class KeyframeWatch {
 public:
  KeyframeWatch(const std::string& store_uri, const std::string& stream) {
    std::shared_ptr<store::Store> s;
    if (!store::open_store(store_uri, &s).is_ok() ||
        !s->open_reader(stream, store::StartPosition::kLive, &reader_).is_ok())
      return;
    thread_ = std::thread([this] {
      store::Frame frame;
      while (!stop_) {
        if (reader_->next(&frame, std::chrono::milliseconds(200)) == store::ReadResult::kFrame &&
            frame.is_keyframe())
          ++keyframes_;
      }
    });
  }
  ~KeyframeWatch() {
    stop_ = true;
    if (reader_) reader_->cancel();
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return reader_ != nullptr; }
  int keyframes() const { return keyframes_; }

 private:
  std::unique_ptr<store::Reader> reader_;
  std::atomic<bool> stop_{false};
  std::atomic<int> keyframes_{0};
  std::thread thread_;
};

// What a person checks on a viewer page: it plays, at the stream's size, with
// nothing fetched from elsewhere. The page's own words are in every message.
void expect_playing(const DriverAnswer& a, int width, int height) {
  ASSERT_EQ(a.str("failure"), "") << a.raw();
  ASSERT_NE(a.str("state"), "error") << "the page shows an error: " << a.str("text");
  ASSERT_FALSE(a.flag("timedOut")) << "no picture in time; the page says: " << a.str("text") << "\n"
                                   << a.raw();
  EXPECT_EQ(a.str("state"), "playing") << a.str("text");
  EXPECT_EQ(a.num("width"), width) << a.raw();
  EXPECT_EQ(a.num("height"), height) << a.raw();
  EXPECT_TRUE(a.strings("foreign").empty()) << "the page fetched from elsewhere: " << a.raw();
}

// Decoded frames (requestVideoFrameCallback / getVideoPlaybackQuality) must
// grow between two looks: a frozen picture does not pass.
void expect_frames_increase(BrowserDriver& b, const std::string& page) {
  DriverAnswer first(b.command("view " + page));
  g_usleep(500 * 1000);
  DriverAnswer second(b.command("view " + page));
  ASSERT_EQ(second.str("state"), "playing") << page << ": " << second.str("text");
  EXPECT_GT(second.num("decodedFrames"), first.num("decodedFrames"))
      << page << " stopped decoding: " << first.raw() << " then " << second.raw();
}

class ServerBrowser : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite() {
    state_ = new Shared;
    std::string err;
    if (!state_->redis.start(&err)) {
      state_->error = "redis-server: " + err;
      return;
    }
    std::ofstream(state_->dir.file("pipelines.json")) << kDefinitions;
    state_->port = free_loopback_port();
    // RELAIS_PIPELINES and the store settings as an operator sets them.
    std::vector<std::string> argv = {
        "env",
        "RELAIS_PIPELINES=" + state_->dir.file("pipelines.json"),
        "RELAIS_STORAGE_TYPE=redis",
        "RELAIS_STORAGE_REDIS_URL=127.0.0.1:" + std::to_string(state_->redis.port()),
        build_dir() + "/relais-server/relais-server",
        "--host",
        "127.0.0.1",
        "--port",
        std::to_string(state_->port)};
    if (!state_->server.start(argv, state_->dir.file("server.log"), &err) ||
        !wait_for_port(state_->port, 10000)) {
      state_->error = "relais-server did not start: " + err;
      return;
    }
    if (!state_->browser.start(state_->dir.file("browser.log"), &err))
      state_->error = "browser driver: " + err;
  }
  static void TearDownTestSuite() {
    delete state_;
    state_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(state_->error, "") << server_log();
    ASSERT_TRUE(eventually(
        [] {
          auto r = http_request(state_->port, "GET", "/api/v1/streams");
          return r.body.find("\"name\":\"cam-h264\"") != std::string::npos &&
                 r.body.find("\"name\":\"cam-vp8\"") != std::string::npos;
        },
        20000))
        << server_log();
  }
  static std::string server_log() { return read_text(state_->dir.file("server.log")); }
  static std::string browser_log() { return read_text(state_->dir.file("browser.log")); }
  static std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(state_->port) + path;
  }
  static BrowserDriver& browser() { return state_->browser; }
  static int port() { return state_->port; }
  static std::string store_uri() { return state_->redis.uri(); }

 private:
  struct Shared {
    TempDir dir;
    RedisServer redis;
    Process server;
    int port = 0;
    BrowserDriver browser;  // quits before the server stops
    std::string error;
  };
  static Shared* state_;
};

ServerBrowser::Shared* ServerBrowser::state_ = nullptr;

TEST_P(ServerBrowser, TwoViewersPlayAndOneLeaves) {
  const std::string page = url(std::string("/watch/cam-") + GetParam());
  auto& b = browser();
  ASSERT_EQ(DriverAnswer(b.command("open first " + page)).num("status"), 200);
  {
    DriverAnswer a(b.command("wait first 10 20000"));
    expect_playing(a, 320, 240);
  }
  ASSERT_EQ(DriverAnswer(b.command("open second " + page)).num("status"), 200);
  {
    DriverAnswer a(b.command("wait second 10 20000"));
    expect_playing(a, 320, 240);
  }
  expect_frames_increase(b, "first");
  expect_frames_increase(b, "second");
  ASSERT_EQ(DriverAnswer(b.command("close first")).str("failure"), "");
  g_usleep(500 * 1000);
  expect_frames_increase(b, "second");
  expect_frames_increase(b, "second");
  b.command("close second");
  if (HasFailure())
    ADD_FAILURE() << "browser log:\n" << browser_log() << "\nserver log:\n" << server_log();
}

// The writer makes a keyframe every 4 s. The page is opened just after one
// reached the store; a server that started viewers at the live edge would
// leave the browser waiting for the next one. So the order of events is the
// check, not a duration: the first decoded frame comes before the store sees
// the writer's next keyframe.
TEST_P(ServerBrowser, FirstFrameComesBeforeTheWritersNextKeyframe) {
  const std::string stream = std::string("cam-") + GetParam();
  KeyframeWatch watch(store_uri(), stream);
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(eventually([&] { return watch.keyframes() >= 1; }, 10000))
      << "no keyframe from the writer in 10 s";
  const int keyframes_at_open = watch.keyframes();
  const gint64 opened = g_get_monotonic_time();
  auto& b = browser();
  ASSERT_EQ(DriverAnswer(b.command("open ttff " + url("/watch/" + stream))).num("status"), 200);
  DriverAnswer a(b.command("wait ttff 1 10000"));
  const int keyframes_at_first_frame = watch.keyframes();
  const gint64 first_frame_ms = (g_get_monotonic_time() - opened) / 1000;
  b.command("close ttff");
  ASSERT_EQ(a.str("state") == "error", false) << a.str("text");
  ASSERT_FALSE(a.flag("timedOut")) << "no first frame in 10 s: " << a.str("text");
  EXPECT_GE(a.num("decodedFrames"), 1) << a.raw();
  EXPECT_EQ(keyframes_at_first_frame, keyframes_at_open)
      << "the first frame came only after the writer's next keyframe (" << first_frame_ms
      << " ms after opening the page, GOP 4000 ms): the viewer did not start at the stored "
         "keyframe";
  RecordProperty("first_frame_ms", static_cast<int>(first_frame_ms));
}

INSTANTIATE_TEST_SUITE_P(Codecs, ServerBrowser, ::testing::Values("h264", "vp8"));

// GET / in the browser: each stream with a link to its viewer and whether it
// is live, each pipeline with its state, nothing loaded from elsewhere.
TEST_F(ServerBrowser, IndexListsStreamsAndPipelinesWithTheirState) {
  auto& b = browser();
  ASSERT_TRUE(eventually(
      [] {
        auto r = http_request(port(), "GET", "/api/v1/pipelines");
        return r.body.find("\"state\":\"playing\"") != std::string::npos;
      },
      10000));
  ASSERT_EQ(DriverAnswer(b.command("open index " + url("/"))).num("status"), 200);
  DriverAnswer a(b.command("links index"));
  b.command("close index");
  auto links = a.strings("links");
  for (const char* want : {"/watch/cam-h264", "/watch/cam-vp8", "/api/v1/pipelines/cam-h264",
                           "/api/v1/pipelines/cam-vp8", "/api/v1/streams", "/metrics"})
    EXPECT_NE(std::find(links.begin(), links.end(), want), links.end()) << want << ": " << a.raw();
  const std::string text = a.str("text");
  EXPECT_NE(text.find("cam-h264: playing"), std::string::npos) << text;
  EXPECT_NE(text.find("cam-vp8: playing"), std::string::npos) << text;
  EXPECT_NE(text.find("cam-h264 live"), std::string::npos) << text;
  EXPECT_NE(text.find("video/x-vp8"), std::string::npos) << text;
  EXPECT_EQ(a.num("scripts"), 0) << a.raw();
  EXPECT_TRUE(a.strings("foreign").empty()) << a.raw();
}

TEST_F(ServerBrowser, UnknownStreamIsSaidInPlainWords) {
  auto& b = browser();
  ASSERT_EQ(DriverAnswer(b.command("open missing " + url("/watch/nosuchstream"))).num("status"),
            200);
  DriverAnswer a(b.command("wait missing 1 10000"));
  b.command("close missing");
  EXPECT_FALSE(a.flag("timedOut")) << a.raw();
  EXPECT_EQ(a.str("state"), "error") << a.raw();
  EXPECT_NE(a.str("text").find("There is no stream named “nosuchstream”"), std::string::npos)
      << a.raw();
  EXPECT_EQ(a.num("decodedFrames"), 0);
}

// RELAIS_ICE_SERVERS through the real HTTP layer: every server reaches the
// viewer as its own Link header (one header per server, none dropped).
TEST(ServerIceServers, EveryIceServerIsOneLinkHeader) {
  TempDir dir;
  const int port = free_loopback_port();
  Process server;
  std::string err;
  ASSERT_TRUE(server.start({"env",
                            "RELAIS_ICE_SERVERS=stun:stun.example.org:3478,"
                            "turn:alice:pw@turn.example.org:3478?transport=tcp",
                            build_dir() + "/relais-server/relais-server", "--host", "127.0.0.1",
                            "--port", std::to_string(port)},
                           dir.file("server.log"), &err))
      << err;
  ASSERT_TRUE(wait_for_port(port, 10000)) << read_text(dir.file("server.log"));
  const std::string cmd =
      "curl -s -D - -o /dev/null -X OPTIONS http://127.0.0.1:" + std::to_string(port) + "/whep/x";
  gchar* out = nullptr;
  gint status = 0;
  ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, &status, nullptr));
  std::vector<std::string> links;
  gchar** lines = g_strsplit(out, "\r\n", -1);
  for (gchar** l = lines; *l; ++l) {
    if (g_ascii_strncasecmp(*l, "Link:", 5) == 0) links.emplace_back(*l);
  }
  g_strfreev(lines);
  g_free(out);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], R"(Link: <stun:stun.example.org:3478>; rel="ice-server")");
  EXPECT_NE(links[1].find(R"(<turn:turn.example.org:3478?transport=tcp>; rel="ice-server"; )"
                          R"(username="alice"; credential="pw")"),
            std::string::npos)
      << links[1];
}

// The README's run command (`make run` = examples/run-demo.sh) with the real
// demo definition and the memory store: Chromium plays the printed viewer URL.
TEST(DemoInBrowser, PrintedViewerUrlPlaysTheDemo) {
  TempDir dir;
  const int port = free_loopback_port();
  Process server;
  std::string err;
  ASSERT_TRUE(server.start(
      {"env", "RELAIS_SERVER_PORT=" + std::to_string(port), "RELAIS_SERVER_HOST=127.0.0.1",
       source_dir() + "/examples/run-demo.sh", build_dir()},
      dir.file("server.log"), &err))
      << err;
  ASSERT_TRUE(wait_for_port(port, 10000)) << read_text(dir.file("server.log"));
  const std::string log = read_text(dir.file("server.log"));
  const std::string printed = "viewer:    http://127.0.0.1:" + std::to_string(port) + "/watch/demo";
  ASSERT_NE(log.find(printed), std::string::npos) << log;

  BrowserDriver b;
  ASSERT_TRUE(b.start(dir.file("browser.log"), &err)) << err;
  ASSERT_EQ(
      DriverAnswer(b.command("open demo " + printed.substr(printed.find("http")))).num("status"),
      200);
  DriverAnswer a(b.command("wait demo 30 30000"));
  expect_playing(a, 640, 360);
  expect_frames_increase(b, "demo");
  b.quit();
  if (HasFailure())
    ADD_FAILURE() << read_text(dir.file("server.log")) << read_text(dir.file("browser.log"));
}

}  // namespace
}  // namespace relais::test
