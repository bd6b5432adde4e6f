// Load balancing with real processes: one redis-server, two relais-server
// nodes with RELAIS_MAX_VIEWERS=1, a stream written into Redis by this test.
// A WHEP POST to a node at its budget is answered 307 with an absolute
// Location on the other node; when both are full, 503 with Retry-After.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "../server/raw_http.h"
#include "../webrtc/offers.h"
#include "cluster_node.h"
#include "gst_handles.h"
#include "redis_server.h"
#include "temp_dir.h"

using namespace relais::test;

namespace {

RawResponse post_offer(const ClusterNode& node, const std::string& path,
                       const std::string& bearer = "") {
  std::map<std::string, std::string> headers = {{"Content-Type", "application/sdp"}};
  if (!bearer.empty()) headers["Authorization"] = "Bearer " + bearer;
  return http_request(node.port, "POST", path, relais::webrtc::test::chromium_offer(), headers);
}

// A live H.264 stream written into Redis from the test process.
relais::ElementRef write_stream(int redis_port, const std::string& stream) {
  GError* error = nullptr;
  relais::ElementRef writer = relais::ElementRef::adopt(gst_parse_launch(
      ("videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
       "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
       "video/x-h264,profile=constrained-baseline ! h264parse ! "
       "relaisstoresink store=redis://127.0.0.1:" +
       std::to_string(redis_port) + " stream=" + stream)
          .c_str(),
      &error));
  if (error) {
    ADD_FAILURE() << error->message;
    g_error_free(error);
    return {};
  }
  EXPECT_NE(gst_element_set_state(writer.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  return writer;
}

std::string header(const RawResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

}  // namespace

// One redis-server with a live stream "lobby", and two nodes started with
// `args` that see each other.
class ClusterRedirect : public ::testing::Test {
 protected:
  void start_nodes(const std::vector<std::string>& args) {
    std::string err;
    ASSERT_TRUE(redis.start(&err)) << err;
    writer = write_stream(redis.port(), "lobby");
    ASSERT_TRUE(writer);
    a.id = "node-a";
    b.id = "node-b";
    for (ClusterNode* n : {&a, &b}) {
      n->redis_port = redis.port();
      n->extra_args = args;
      ASSERT_TRUE(n->start(dir)) << n->id;
    }
    ASSERT_TRUE(eventually([&] { return lists_node(a.nodes(), "node-b"); }, 15000)) << a.nodes();
  }
  void TearDown() override {
    if (writer) gst_element_set_state(writer.get(), GST_STATE_NULL);
  }

  RedisServer redis;
  relais::ElementRef writer;
  TempDir dir;
  ClusterNode a, b;
};

TEST_F(ClusterRedirect, FullNodeRedirectsThenAllFullIs503) {
  ASSERT_NO_FATAL_FAILURE(start_nodes({"--max-viewers", "1"}));

  RawResponse first = post_offer(a, "/whep/lobby");
  ASSERT_EQ(first.status, 201) << first.body << "\n" << a.log();

  RawResponse second = post_offer(a, "/whep/lobby");
  EXPECT_EQ(second.status, 307) << second.body;
  const std::string b_url = "http://127.0.0.1:" + std::to_string(b.port);
  EXPECT_EQ(header(second, "location"), b_url + "/whep/lobby");

  // The redirected viewer takes B's place; once A sees B full, nobody has room.
  RawResponse on_b = post_offer(b, "/whep/lobby");
  ASSERT_EQ(on_b.status, 201) << on_b.body << "\n" << b.log();
  RawResponse full;
  ASSERT_TRUE(eventually(
      [&] {
        full = post_offer(a, "/whep/lobby");
        return full.status == 503;
      },
      15000))
      << full.status << " " << full.body;
  EXPECT_FALSE(header(full, "retry-after").empty());
  EXPECT_NE(full.body.find("\"message\""), std::string::npos) << full.body;
  RawResponse b_full = post_offer(b, "/whep/lobby");
  EXPECT_EQ(b_full.status, 503) << b_full.body;
}

// With a viewer token, the redirect carries a short-lived token for the stream
// that the other node accepts without Authorization (which a browser drops on
// a cross-origin redirect).
TEST_F(ClusterRedirect, RedirectCarriesATokenTheOtherNodeAccepts) {
  ASSERT_NO_FATAL_FAILURE(start_nodes({"--max-viewers", "1", "--viewer-token", "vt-secret"}));
  ASSERT_EQ(post_offer(a, "/whep/lobby", "vt-secret").status, 201) << a.log();
  RawResponse redirected = post_offer(a, "/whep/lobby", "vt-secret");
  ASSERT_EQ(redirected.status, 307) << redirected.body;
  const std::string b_url = "http://127.0.0.1:" + std::to_string(b.port);
  const std::string location = header(redirected, "location");
  ASSERT_EQ(location.rfind(b_url + "/whep/lobby?relais_token=", 0), 0u) << location;
  EXPECT_EQ(location.find("vt-secret"), std::string::npos) << location;
  EXPECT_EQ(post_offer(b, "/whep/lobby").status, 401);  // no bearer, no token
  RawResponse on_b = post_offer(b, location.substr(b_url.size()));
  EXPECT_EQ(on_b.status, 201) << on_b.body << "\n" << b.log();
}
