// Every file in examples/pipelines/ loads into the pipeline manager and each
// of its pipelines reaches PLAYING, with the servers the examples need started
// here: an RTSP server (gst-rtsp-server, in process) for the relay and an
// S3-compatible server (s3rver) for the recording. All examples run together
// on the memory store, so the recording reads the demo's stream.
#include <gst/rtsp-server/rtsp-server.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "pipeline_definition.h"
#include "pipeline_manager.h"
#include "process.h"
#include "registry.h"
#include "temp_dir.h"

using namespace relais::server;
using namespace relais::test;

namespace {

bool run_until(const std::function<bool()>& done, int timeout_ms) {
  gint64 deadline = g_get_monotonic_time() + gint64{timeout_ms} * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(2000);
  }
  return true;
}

std::string source_dir() {
  return g_getenv("RELAIS_SOURCE_DIR");
}

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  std::string dir = source_dir() + "/examples/pipelines";
  GDir* d = g_dir_open(dir.c_str(), 0, nullptr);
  if (!d) return files;
  while (const char* name = g_dir_read_name(d)) {
    if (g_str_has_suffix(name, ".json")) files.push_back(dir + "/" + name);
  }
  g_dir_close(d);
  std::sort(files.begin(), files.end());
  return files;
}

void replace_all(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size())) {
    s->replace(pos, from.size(), to);
  }
}

// An RTSP server on a free port serving an H.264 test pattern at /test.
class RtspServer {
 public:
  bool start() {
    port_ = free_loopback_port();
    server_ = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server_, "127.0.0.1");
    gst_rtsp_server_set_service(server_, std::to_string(port_).c_str());
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(
        factory,
        "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
        "rtph264pay name=pay0 pt=96 config-interval=-1 )");
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server_);
    gst_rtsp_mount_points_add_factory(mounts, "/test", factory);
    g_object_unref(mounts);
    source_id_ = gst_rtsp_server_attach(server_, nullptr);
    return source_id_ != 0;
  }
  ~RtspServer() {
    if (source_id_) g_source_remove(source_id_);
    if (server_) g_object_unref(server_);
  }
  int port() const { return port_; }

 private:
  GstRTSPServer* server_ = nullptr;
  guint source_id_ = 0;
  int port_ = 0;
};

// s3rver on a free port with the bucket the recording example writes to.
class S3Server {
 public:
  bool start(std::string* error) {
    port_ = free_loopback_port();
    std::string bin = source_dir() + "/tests/node/node_modules/.bin/s3rver";
    return process_.start({bin, "-d", dir_.path(), "-a", "127.0.0.1", "-p", std::to_string(port_),
                           "--configure-bucket", "recordings", "--silent"},
                          dir_.file("s3rver.log"), error) &&
           wait_for_port(port_, 15000);
  }
  int port() const { return port_; }
  // True once an object whose key ends in `suffix` is stored.
  bool has_object(const std::string& suffix) const {
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path(), ec)) {
      if (e.path().string().find(suffix) != std::string::npos) return true;
    }
    return false;
  }

 private:
  TempDir dir_;
  Process process_;
  int port_ = 0;
};

}  // namespace

TEST(Examples, EveryExampleReachesPlaying) {
  auto files = example_files();
  ASSERT_GE(files.size(), 3u) << "examples/pipelines/ should hold the demo, relay and recording";

  RtspServer rtsp;
  ASSERT_TRUE(rtsp.start());
  S3Server s3;
  std::string error;
  ASSERT_TRUE(s3.start(&error)) << "cannot start s3rver (run make deps): " << error;
  // relaiss3sink follows the AWS conventions; s3rver accepts its own keys.
  g_setenv("AWS_ENDPOINT_URL", ("http://127.0.0.1:" + std::to_string(s3.port())).c_str(), TRUE);
  g_setenv("AWS_ACCESS_KEY_ID", "S3RVER", TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", TRUE);
  g_setenv("AWS_REGION", "us-east-1", TRUE);

  BackoffPolicy backoff;
  backoff.initial = std::chrono::milliseconds(200);
  backoff.max = std::chrono::milliseconds(1000);
  PipelineManager manager(nullptr, backoff);
  std::map<std::string, std::string> origin;  // pipeline -> example file
  for (const auto& file : files) {
    std::vector<PipelineDefinition> defs;
    std::vector<std::string> entry_errors;
    ASSERT_TRUE(load_definitions_file(file, &defs, &entry_errors, &error)) << error;
    EXPECT_TRUE(entry_errors.empty()) << file << ": " << entry_errors.front();
    for (auto def : defs) {
      // The relay example points at the usual local RTSP port; serve it here.
      replace_all(&def.launch, "rtsp://127.0.0.1:8554/",
                  "rtsp://127.0.0.1:" + std::to_string(rtsp.port()) + "/");
      origin[def.name] = file;
      std::string why;
      AddResult added = manager.add(def, true, &why);
      EXPECT_EQ(added, AddResult::kAdded) << file << ": pipeline '" << def.name << "': " << why;
    }
  }

  auto all_playing = [&] {
    for (const auto& p : manager.list()) {
      if (p.state != PipelineState::kPlaying) return false;
    }
    return true;
  };
  bool playing = run_until(all_playing, 20000);
  std::set<std::string> missing;
  for (const auto& p : manager.list()) {
    EXPECT_EQ(p.state, PipelineState::kPlaying)
        << origin[p.definition.name] << ": pipeline '" << p.definition.name << "' is "
        << pipeline_state_name(p.state) << ": " << p.last_error;
    size_t at = p.last_error.find("missing elements:");
    if (at != std::string::npos) missing.insert(p.last_error.substr(at));
  }
  for (const auto& m : missing) ADD_FAILURE() << "not in this build: " << m;
  ASSERT_TRUE(playing);

  // Data really flows: the demo and the relay write their streams, and the
  // recording reads the demo's.
  ASSERT_TRUE(run_until(
      [&] {
        for (const auto& s : manager.store_stats()) {
          if (s.kind == "src" && s.frames >= 10) return true;
        }
        return false;
      },
      15000));
  std::shared_ptr<relais::store::Store> store;
  ASSERT_TRUE(relais::store::open_store("memory://", &store).is_ok());
  std::vector<relais::store::StreamInfo> streams;
  auto has_streams = [&] {
    streams.clear();
    if (!store->list_streams(&streams).is_ok()) return false;
    std::set<std::string> names;
    for (const auto& s : streams) names.insert(s.name);
    return names.count("demo") && names.count("cam1");
  };
  EXPECT_TRUE(run_until(has_streams, 15000)) << "the demo and the relay should write demo, cam1";
  for (const auto& s : streams) {
    if (s.name == "demo") {
      EXPECT_NE(s.caps.find("video/x-h264"), std::string::npos) << s.caps;
    }
  }
  // The recording closes its first 10-second segment as an S3 object.
  EXPECT_TRUE(run_until([&] { return s3.has_object("demo/00000.ts"); }, 30000))
      << "no recording segment reached s3rver";
  manager.clear();
}
