// Cluster failover time: one redis-server, three relais-server nodes, one
// leased pipeline writing to the store. Each run kills the pipeline's owner
// with SIGKILL and times until another node's first frame reaches Redis (the
// stream meta's writer names the new node), then restarts the killed node.
// Prints the median beside the lease TTL.
#include <glib.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "bench_util.h"
#include "cluster_node.h"
#include "redis_connection.h"
#include "redis_server.h"
#include "redis_uri.h"

using relais::bench::Clock;
using relais::bench::print_result;
using relais::bench::seconds_since;
using relais::test::ClusterNode;
using namespace std::chrono_literals;

namespace {

constexpr int kLeaseTtlMs = 2000;
constexpr int kHeartbeatMs = 300;
constexpr int kRuns = 5;

std::string get(relais::store::RedisConnection* c, const std::vector<std::string_view>& cmd) {
  relais::store::RedisReplyPtr reply;
  if (!c->command(cmd, &reply).is_ok() || !reply || reply->type != REDIS_REPLY_STRING) return {};
  return std::string(reply->str, reply->len);
}

long long live_nodes(relais::store::RedisConnection* c) {
  relais::store::RedisReplyPtr reply;
  if (!c->command({"KEYS", "relais:{relais:nodes}:*"}, &reply).is_ok() || !reply) return 0;
  return static_cast<long long>(reply->elements);
}

}  // namespace

int main() {
  g_setenv("RELAIS_BUILD_DIR", RELAIS_BUILD_DIR, FALSE);  // where ClusterNode finds the server
  relais::test::RedisServer redis;
  std::string error;
  if (!redis.start(&error)) {
    std::fprintf(stderr, "failover bench: %s\n", error.c_str());
    return 1;
  }
  relais::test::TempDir dir;
  const std::string pipelines = dir.file("pipelines.json");
  const char* json =
      "{\"pipelines\":[{\"name\":\"cam\",\"launch\":\"videotestsrc is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! relaisstoresink stream=cam\"}]}";
  g_file_set_contents(pipelines.c_str(), json, -1, nullptr);
  std::map<std::string, ClusterNode> nodes;
  for (const char* id : {"node-a", "node-b", "node-c"}) {
    ClusterNode& n = nodes[id];
    n.id = id;
    n.redis_port = redis.port();
    n.heartbeat_ms = kHeartbeatMs;
    n.lease_ttl_ms = kLeaseTtlMs;
    n.pipelines_file = pipelines;
    if (!n.start(dir)) return 1;
  }
  relais::store::RedisEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = redis.port();
  relais::store::RedisConnection c(ep);
  if (!c.connect(2s).is_ok()) return 1;

  std::vector<double> times_ms;
  for (int run = 0; run < kRuns; ++run) {
    // Steady state: three registered nodes and an owner writing frames.
    auto until = Clock::now() + 20s;
    std::string owner;
    while (Clock::now() < until) {
      owner = get(&c, {"HGET", "relais:{cam}:meta", "writer"});
      if (live_nodes(&c) == 3 && nodes.count(owner)) break;
      std::this_thread::sleep_for(50ms);
    }
    if (!nodes.count(owner)) {
      std::fprintf(stderr, "failover bench: no owner writes the stream\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kLeaseTtlMs));  // a few renewals
    nodes[owner].process.kill();
    const auto killed = Clock::now();
    std::string next;
    while (Clock::now() - killed < std::chrono::milliseconds(10 * kLeaseTtlMs)) {
      next = get(&c, {"HGET", "relais:{cam}:meta", "writer"});
      if (!next.empty() && next != owner) break;
      std::this_thread::sleep_for(5ms);
    }
    if (next.empty() || next == owner) {
      std::fprintf(stderr, "failover bench: the pipeline did not move from %s\n", owner.c_str());
      return 1;
    }
    times_ms.push_back(seconds_since(killed) * 1000);
    std::fprintf(stderr, "failover %d: %s -> %s in %.0f ms\n", run + 1, owner.c_str(), next.c_str(),
                 times_ms.back());
    if (!nodes[owner].start(dir)) return 1;
  }
  for (auto& [id, n] : nodes) n.process.stop();
  std::sort(times_ms.begin(), times_ms.end());
  print_result("cluster_failover_kill9", "ms", times_ms[times_ms.size() / 2], "lease_ttl_ms",
               kLeaseTtlMs, false);
  return 0;
}
