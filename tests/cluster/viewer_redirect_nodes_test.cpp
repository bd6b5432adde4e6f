// Load balancing with real processes: one redis-server, two relais-server
// nodes with RELAIS_MAX_VIEWERS=1, a stream written into Redis by this test.
// A WHEP POST to a node at its budget is answered 307 with an absolute
// Location on the other node; when both are full, 503 with Retry-After.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "../server/raw_http.h"
#include "../webrtc/offers.h"
#include "cluster_node.h"
#include "gst_handles.h"
#include "redis_server.h"
#include "temp_dir.h"

using namespace relais::test;

namespace {

RawResponse post_offer(const ClusterNode& node, const std::string& path) {
  return http_request(node.port, "POST", path, relais::webrtc::test::chromium_offer(),
                      {{"Content-Type", "application/sdp"}});
}

std::string header(const RawResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

}  // namespace

TEST(ClusterRedirect, FullNodeRedirectsThenAllFullIs503) {
  RedisServer redis;
  std::string err;
  ASSERT_TRUE(redis.start(&err)) << err;
  // The stream both nodes serve: live H.264 written into Redis from here.
  GError* error = nullptr;
  relais::ElementRef writer = relais::ElementRef::adopt(gst_parse_launch(
      ("videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
       "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
       "video/x-h264,profile=constrained-baseline ! h264parse ! "
       "relaisstoresink store=redis://127.0.0.1:" +
       std::to_string(redis.port()) + " stream=lobby")
          .c_str(),
      &error));
  ASSERT_EQ(error, nullptr) << error->message;
  ASSERT_NE(gst_element_set_state(writer.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

  TempDir dir;
  ClusterNode a, b;
  a.id = "node-a";
  b.id = "node-b";
  for (ClusterNode* n : {&a, &b}) {
    n->redis_port = redis.port();
    n->extra_args = {"--max-viewers", "1"};
    ASSERT_TRUE(n->start(dir)) << n->id;
  }
  ASSERT_TRUE(eventually([&] { return lists_node(a.nodes(), "node-b"); }, 15000)) << a.nodes();

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

  gst_element_set_state(writer.get(), GST_STATE_NULL);
}
