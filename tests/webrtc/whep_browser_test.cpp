// The viewer page in headless Chromium (driven by playwright-core) against the
// WHEP service behind a loopback libsoup server: the browser's own offer, its
// payload types and mDNS candidates, decoded frames and picture size.
#include <gio/gio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>

#include "child_guard.h"
#include "registry.h"
#include "soup_bridge.h"
#include "turn_server.h"
#include "whep_peer.h"
#include "whep_service.h"

namespace relais::webrtc {
namespace {

using test::run_until;

struct PageResult {
  bool finished = false;
  std::string out;
  std::string err;
};

// Runs watch_page.mjs while this thread's main context keeps serving.
PageResult open_page(const std::string& url, int min_frames, int timeout_ms) {
  const char* src = g_getenv("RELAIS_SOURCE_DIR");
  std::string script = std::string(src ? src : ".") + "/tests/webrtc/watch_page.mjs";
  GError* err = nullptr;
  GSubprocessLauncher* launcher = relais::test::test_launcher(static_cast<GSubprocessFlags>(
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE));
  GSubprocess* proc = g_subprocess_launcher_spawn(launcher, &err, "node", script.c_str(),
                                                  url.c_str(), std::to_string(min_frames).c_str(),
                                                  std::to_string(timeout_ms).c_str(), nullptr);
  g_object_unref(launcher);
  PageResult result;
  if (!proc) {
    result.finished = true;
    result.err = err ? err->message : "could not start node";
    g_clear_error(&err);
    return result;
  }
  g_subprocess_communicate_utf8_async(
      proc, nullptr, nullptr,
      [](GObject* obj, GAsyncResult* res, gpointer data) {
        auto* r = static_cast<PageResult*>(data);
        gchar* out = nullptr;
        gchar* errout = nullptr;
        g_subprocess_communicate_utf8_finish(G_SUBPROCESS(obj), res, &out, &errout, nullptr);
        r->out = out ? out : "";
        r->err = errout ? errout : "";
        g_free(out);
        g_free(errout);
        r->finished = true;
      },
      &result);
  if (!run_until([&] { return result.finished; }, timeout_ms + 30000))
    g_subprocess_force_exit(proc);
  run_until([&] { return result.finished; }, 5000);
  g_object_unref(proc);
  return result;
}

int json_int(const std::string& json, const std::string& key) {
  auto pos = json.find("\"" + key + "\":");
  return pos == std::string::npos ? -1 : std::atoi(json.c_str() + pos + key.size() + 3);
}

std::string json_string(const std::string& json, const std::string& key) {
  auto pos = json.find("\"" + key + "\":\"");
  if (pos == std::string::npos) return "";
  pos += key.size() + 4;
  return json.substr(pos, json.find('"', pos) - pos);
}

class WatchPage : public ::testing::TestWithParam<const char*> {};

TEST_P(WatchPage, ChromiumPlaysTheStream) {
  const std::string stream = std::string("browser-") + GetParam();
  const std::string encoder =
      std::string(GetParam()) == "h264"
          ? "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
            "video/x-h264,profile=constrained-baseline ! h264parse"
          : "vp8enc deadline=1 keyframe-max-dist=30";
  GError* err = nullptr;
  ElementRef writer = ElementRef::adopt(
      gst_parse_launch(("videotestsrc is-live=true pattern=ball ! "
                        "video/x-raw,width=320,height=240,framerate=30/1 ! " +
                        encoder + " ! relaisstoresink store=memory:// stream=" + stream)
                           .c_str(),
                       &err));
  ASSERT_TRUE(writer) << (err ? err->message : "");
  gst_element_set_state(writer.get(), GST_STATE_PLAYING);

  WhepService service("memory://", {}, "", 64 * 1024);
  test::SoupBridge bridge(service);
  ASSERT_FALSE(bridge.base_url().empty());
  PageResult page = open_page(bridge.base_url() + "/watch/" + stream, 30, 20000);
  ASSERT_TRUE(page.finished);
  EXPECT_GE(json_int(page.out, "decodedFrames"), 30) << page.out << "\n" << page.err;
  EXPECT_EQ(json_int(page.out, "width"), 320) << page.out;
  EXPECT_EQ(json_int(page.out, "height"), 240) << page.out;
  EXPECT_EQ(json_string(page.out, "state"), "playing") << page.out << "\n" << page.err;
  EXPECT_EQ(json_string(page.out, "error"), "") << page.out;
  gst_element_set_state(writer.get(), GST_STATE_NULL);
}

INSTANTIATE_TEST_SUITE_P(Codecs, WatchPage, ::testing::Values("h264", "vp8"));

// With a TURN server in RELAIS_ICE_SERVERS the page knows it before it makes
// its offer, so Chromium gathers relay candidates (allocated on a real coturn).
TEST(WatchPageIce, ChromiumGathersRelayCandidatesFromTheServersTurn) {
  relais::test::TurnServer turn;
  std::string error;
  ASSERT_TRUE(turn.start("alice", "pw", &error)) << error;
  std::vector<IceServer> ice;
  ASSERT_TRUE(parse_ice_servers(
      "turn:alice:pw@127.0.0.1:" + std::to_string(turn.port()) + "?transport=udp", &ice, &error))
      << error;
  GError* err = nullptr;
  ElementRef writer = ElementRef::adopt(gst_parse_launch(
      "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
      "vp8enc deadline=1 keyframe-max-dist=15 ! relaisstoresink store=memory:// stream=turned",
      &err));
  ASSERT_TRUE(writer) << (err ? err->message : "");
  gst_element_set_state(writer.get(), GST_STATE_PLAYING);
  WhepService service("memory://", ice, "", 64 * 1024);
  test::SoupBridge bridge(service);
  PageResult page = open_page(bridge.base_url() + "/watch/turned", 10, 20000);
  ASSERT_TRUE(page.finished);
  EXPECT_EQ(json_string(page.out, "state"), "playing") << page.out << "\n" << page.err;
  EXPECT_EQ(json_int(page.out, "iceServers"), 1) << page.out;
  EXPECT_NE(page.out.find("\"relay\""), std::string::npos) << "no relay candidate: " << page.out;
  EXPECT_GT(turn.allocations(), 0);
  gst_element_set_state(writer.get(), GST_STATE_NULL);
}

TEST(WatchPageErrors, UnknownStreamIsSaidInPlainWords) {
  WhepService service("memory://", {}, "", 64 * 1024);
  test::SoupBridge bridge(service);
  PageResult page = open_page(bridge.base_url() + "/watch/nosuchstream", 1, 3000);
  ASSERT_TRUE(page.finished);
  EXPECT_EQ(json_string(page.out, "state"), "error") << page.out << page.err;
  EXPECT_NE(json_string(page.out, "text").find("no stream named"), std::string::npos) << page.out;
}

}  // namespace
}  // namespace relais::webrtc
