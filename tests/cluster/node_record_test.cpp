#include "cluster/node_record.h"

#include <gtest/gtest.h>

using namespace relais::cluster;

TEST(NodeRecord, RoundTrip) {
  NodeRecord r{"a:8080", "http://a:8080", "0.1.0", 1000, 5000, 6000, 3, 2, 12.5};
  auto back = decode_node_record(encode_node_record(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "a:8080");
  EXPECT_EQ(back->public_url, "http://a:8080");
  EXPECT_EQ(back->version, "0.1.0");
  EXPECT_EQ(back->started_unix_ms, 1000);
  EXPECT_EQ(back->heartbeat_unix_ms, 5000);
  EXPECT_EQ(back->ttl_ms, 6000);
  EXPECT_EQ(back->viewers, 3);
  EXPECT_EQ(back->pipelines_running, 2);
  EXPECT_DOUBLE_EQ(back->cpu_percent, 12.5);
}

TEST(NodeRecord, BadRecordsAreRefused) {
  EXPECT_FALSE(decode_node_record(""));
  EXPECT_FALSE(decode_node_record("public_url=http://x\n"));         // no id
  EXPECT_FALSE(decode_node_record("id=a\nviewers=many\n"));          // not a number
  EXPECT_FALSE(decode_node_record("id=a\ncpu_percent=\n"));          // empty number
  EXPECT_TRUE(decode_node_record("id=a\nfuture_field=1\nnoise\n"));  // newer writer
}

TEST(NodeRecord, NewlinesCannotForgeFields) {
  NodeRecord r;
  r.id = "a\nviewers=99";
  auto back = decode_node_record(encode_node_record(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->viewers, 0);
}

TEST(NodeRecord, LivenessIsHeartbeatPlusTtl) {
  NodeRecord r;
  r.id = "a";
  r.heartbeat_unix_ms = 10000;
  r.ttl_ms = node_ttl_ms(2000);
  EXPECT_EQ(r.ttl_ms, 6000);
  EXPECT_TRUE(is_live(r, 15999));
  EXPECT_FALSE(is_live(r, 16000));
  NodeRecord b = r;
  b.id = "0";
  NodeRecord dead = r;
  dead.id = "z";
  dead.heartbeat_unix_ms = 1000;
  auto live = live_nodes({r, dead, b}, 12000);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].id, "0");
  EXPECT_EQ(live[1].id, "a");
}

TEST(NodeRecord, Defaults) {
  EXPECT_EQ(default_node_id("host1", 8080), "host1:8080");
  EXPECT_EQ(default_public_url("0.0.0.0", 8080, "host1"), "http://host1:8080");
  EXPECT_EQ(default_public_url("127.0.0.1", 9000, "host1"), "http://127.0.0.1:9000");
  EXPECT_EQ(default_public_url("::1", 9000, "host1"), "http://[::1]:9000");
  EXPECT_EQ(default_public_url("::", 9000, "host1"), "http://host1:9000");
}

TEST(NodeRecord, KeysShareOneSlot) {
  EXPECT_EQ(node_key("a"), "relais:{relais:nodes}:a");
  EXPECT_EQ(node_key_pattern(), "relais:{relais:nodes}:*");
}
