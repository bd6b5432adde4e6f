// Any node serves any stream: a cluster pipeline ingests on node A into the
// shared Redis, and a WebRTC viewer (a webrtcbin peer in its own process,
// WHEP over real HTTP) that connects to node B decodes its frames.
#include <gio/gio.h>
#include <gtest/gtest.h>

#include <fstream>

#include "child_guard.h"
#include "cluster_node.h"
#include "redis_server.h"
#include "temp_dir.h"

using namespace relais::test;

namespace {

constexpr const char* kCamera =
    R"({"pipelines": [{"name": "cam", "launch": "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! video/x-h264,profile=constrained-baseline ! h264parse ! relaisstoresink stream=cam"}]})";

double field(const std::string& json, const std::string& name) {
  size_t at = json.find("\"" + name + "\":");
  return at == std::string::npos ? -1
                                 : g_ascii_strtod(json.c_str() + at + name.size() + 3, nullptr);
}

// The viewer's one-line JSON report after watching `seconds`.
std::string watch(const std::string& base_url, const std::string& stream, int seconds) {
  std::string bin = std::string(g_getenv("RELAIS_BUILD_DIR")) + "/tests/webrtc/relais-whep-viewer";
  std::string secs = std::to_string(seconds);
  const gchar* argv[] = {bin.c_str(), base_url.c_str(), stream.c_str(), secs.c_str(), "1", nullptr};
  GSubprocessLauncher* launcher = test_launcher(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  GSubprocess* proc = g_subprocess_launcher_spawnv(launcher, argv, nullptr);
  g_object_unref(launcher);
  if (!proc) return "";
  gchar* out = nullptr;
  g_subprocess_communicate_utf8(proc, nullptr, nullptr, &out, nullptr, nullptr);
  std::string text = out ? out : "";
  g_free(out);
  g_object_unref(proc);
  return text;
}

}  // namespace

TEST(ClusterViewing, AViewerOnAnotherNodeDecodesTheStream) {
  RedisServer redis;
  std::string err;
  ASSERT_TRUE(redis.start(&err)) << err;
  TempDir dir;
  std::ofstream(dir.file("cam.json")) << kCamera;
  ClusterNode a, b;
  a.id = "node-a";
  a.redis_port = redis.port();
  a.pipelines_file = dir.file("cam.json");
  ASSERT_TRUE(a.start(dir));
  // A runs the camera before B joins: B has nothing to claim (fair share).
  ASSERT_TRUE(eventually(
      [&] {
        std::string l = a.get("/api/v1/pipelines");
        return l.find("\"node\":\"node-a\"") != std::string::npos &&
               l.find("\"state\":\"playing\"") != std::string::npos;
      },
      20000))
      << a.get("/api/v1/pipelines") << "\n"
      << a.log();
  b.id = "node-b";
  b.redis_port = redis.port();
  ASSERT_TRUE(b.start(dir));
  ASSERT_TRUE(eventually([&] { return lists_node(b.nodes(), "node-a"); }, 15000)) << b.nodes();
  // B lists the stream it does not ingest.
  ASSERT_TRUE(eventually(
      [&] { return b.get("/api/v1/streams").find("\"cam\"") != std::string::npos; }, 10000))
      << b.get("/api/v1/streams");

  std::string report = watch("http://127.0.0.1:" + std::to_string(b.port), "cam", 2);
  EXPECT_EQ(field(report, "status"), 201) << report << "\n" << b.log();
  EXPECT_GT(field(report, "frames"), 15) << report << "\n" << b.log();
  // Still ingested on A only: B served it from the store.
  std::string listing = b.get("/api/v1/pipelines");
  EXPECT_NE(listing.find("\"node\":\"node-a\""), std::string::npos) << listing;
  EXPECT_EQ(listing.find("\"node\":\"node-b\""), std::string::npos) << listing;
}
