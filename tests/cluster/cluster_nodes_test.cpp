// Three relais-server processes against one real redis-server form a cluster:
// each lists the three in /api/v1/nodes and counts them in /metrics; a node
// killed with SIGKILL (no clean leave) drops out of the others' listings once
// its record's TTL (3 heartbeats) has passed.
#include <glib.h>
#include <gtest/gtest.h>

#include "cluster_node.h"
#include "../server/raw_http.h"
#include "redis_server.h"
#include "temp_dir.h"

using namespace relais::test;

namespace {
constexpr int kHeartbeatMs = 300;
}  // namespace

TEST(ClusterNodes, RegistryAndKill9) {
  RedisServer redis;
  std::string err;
  ASSERT_TRUE(redis.start(&err)) << err;
  TempDir dir;
  ClusterNode nodes[3];
  const char* ids[] = {"node-a", "node-b", "node-c"};
  for (int i = 0; i < 3; ++i) {
    nodes[i].id = ids[i];
    nodes[i].redis_port = redis.port();
    nodes[i].heartbeat_ms = kHeartbeatMs;
    ASSERT_TRUE(nodes[i].start(dir)) << ids[i];
  }
  for (auto& n : nodes) {
    ASSERT_TRUE(eventually(
        [&] {
          std::string body = n.nodes();
          return lists_node(body, "node-a") && lists_node(body, "node-b") &&
                 lists_node(body, "node-c");
        },
        15000))
        << n.id << ": " << n.nodes();
    std::string body = n.nodes();
    EXPECT_NE(body.find("\"public_url\":\"http://127.0.0.1:" + std::to_string(n.port) + "\""),
              std::string::npos)
        << body;
    EXPECT_NE(http_request(n.port, "GET", "/metrics").body.find("relais_cluster_nodes 3\n"),
              std::string::npos);
  }

  nodes[2].process.kill();  // SIGKILL: its record stays until it expires
  gint64 killed = g_get_monotonic_time();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(eventually([&] { return !lists_node(nodes[i].nodes(), "node-c"); }, 15000))
        << nodes[i].nodes();
  }
  g_print("node-c gone from the listings %lld ms after SIGKILL (TTL %d ms)\n",
          static_cast<long long>((g_get_monotonic_time() - killed) / 1000), 3 * kHeartbeatMs);
  EXPECT_TRUE(lists_node(nodes[0].nodes(), "node-b"));
  EXPECT_TRUE(lists_node(nodes[1].nodes(), "node-a"));
  EXPECT_EQ(redis.cli("EXISTS 'relais:{relais:nodes}:node-c'"), "0");
}

// Memory mode is no cluster: the route says so.
TEST(ClusterNodes, MemoryModeHasNoNodes) {
  TempDir dir;
  int port = free_loopback_port();
  Process p;
  std::string err;
  ASSERT_TRUE(p.start({server_binary(), "--host", "127.0.0.1", "--port", std::to_string(port)},
                      dir.file("m.log"), &err));
  ASSERT_TRUE(wait_for_port(port, 10000));
  auto r = http_request(port, "GET", "/api/v1/nodes");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("RELAIS_STORAGE_TYPE=redis"), std::string::npos) << r.body;
}
