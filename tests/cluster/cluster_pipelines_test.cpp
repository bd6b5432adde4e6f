// Cluster pipelines with real processes: one redis-server, three
// relais-server nodes, small videotestsrc pipelines writing to the store.
// Spread and failover after kill -9, API add/delete from any node, and a
// node cut off from Redis stopping its pipeline before another starts it.
#include <glib.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>

#include "../server/raw_http.h"
#include "cluster_node.h"
#include "redis_server.h"
#include "registry.h"
#include "tcp_proxy.h"
#include "temp_dir.h"

using namespace relais::test;

namespace {

constexpr int kLeaseTtlMs = 2000;
constexpr int kHeartbeatMs = 300;  // 3 heartbeats < TTL: a dead node drops out before its leases

std::string launch(const std::string& stream) {
  return "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=10/1 ! "
         "relaisstoresink stream=" +
         stream;
}

std::string definition(const std::string& name) {
  return "{\"name\":\"" + name + "\",\"launch\":\"" + launch(name) + "\"}";
}

std::string write_pipelines(const TempDir& dir, const std::vector<std::string>& names) {
  std::string json = "{\"pipelines\":[";
  for (size_t i = 0; i < names.size(); ++i) json += (i ? "," : "") + definition(names[i]);
  json += "]}";
  std::string path = dir.file("pipelines.json");
  g_file_set_contents(path.c_str(), json.c_str(), -1, nullptr);
  return path;
}

struct Listed {
  std::string node;  // empty: unowned
  std::string state;
  int64_t epoch = 0;
};

// GET /api/v1/pipelines of a node, by pipeline name (empty on any error).
std::map<std::string, Listed> listing(const ClusterNode& n) {
  std::map<std::string, Listed> out;
  std::string body = n.get("/api/v1/pipelines");
  JsonParser* parser = json_parser_new();
  if (json_parser_load_from_data(parser, body.c_str(), -1, nullptr)) {
    JsonNode* root = json_parser_get_root(parser);
    JsonObject* o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
    JsonArray* a = o && json_object_has_member(o, "pipelines")
                       ? json_object_get_array_member(o, "pipelines")
                       : nullptr;
    for (guint i = 0; a && i < json_array_get_length(a); ++i) {
      JsonObject* p = json_array_get_object_element(a, i);
      Listed l;
      const char* node = json_object_get_null_member(p, "node")
                             ? nullptr
                             : json_object_get_string_member(p, "node");
      l.node = node ? node : "";
      l.state = json_object_get_string_member(p, "state");
      l.epoch = json_object_get_int_member(p, "epoch");
      out[json_object_get_string_member(p, "name")] = l;
    }
  }
  g_object_unref(parser);
  return out;
}

// The listing's as_of_ms_ago (how old the node's view of the cluster is), -2 if absent.
int64_t view_age_ms(const ClusterNode& n) {
  const std::string body = n.get("/api/v1/pipelines");
  const std::string key = "\"as_of_ms_ago\":";
  const size_t at = body.find(key);
  return at == std::string::npos ? -2 : std::stoll(body.substr(at + key.size()));
}

bool all_playing(const std::map<std::string, Listed>& l, size_t count) {
  if (l.size() != count) return false;
  for (const auto& [name, p] : l) {
    if (p.state != "playing" || p.node.empty()) return false;
  }
  return true;
}

// Whether the node runs the pipeline locally (its /metrics has it).
bool runs(const ClusterNode& n, const std::string& name) {
  return n.get("/metrics").find("relais_pipeline_up{pipeline=\"" + name + "\"} 1") !=
         std::string::npos;
}

int runners(ClusterNode* nodes, int n, const std::string& name) {
  int count = 0;
  for (int i = 0; i < n; ++i) count += nodes[i].process.running() && runs(nodes[i], name);
  return count;
}

std::string writer(const RedisServer& redis, const std::string& stream) {
  return redis.cli("HGET 'relais:{" + stream + "}:meta' writer");
}

class ClusterPipelines : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(redis_.start(&err)) << err;
  }
  void start_node(int i, const std::string& pipelines_file, int redis_port = 0) {
    nodes_[i].id = std::string("node-") + static_cast<char>('a' + i);
    nodes_[i].redis_port = redis_port ? redis_port : redis_.port();
    nodes_[i].heartbeat_ms = kHeartbeatMs;
    nodes_[i].lease_ttl_ms = kLeaseTtlMs;
    nodes_[i].pipelines_file = pipelines_file;
    ASSERT_TRUE(nodes_[i].start(dir_)) << nodes_[i].id;
  }
  RedisServer redis_;
  TempDir dir_;
  ClusterNode nodes_[3];
};

}  // namespace

TEST_F(ClusterPipelines, SpreadAndFailoverAfterKill9) {
  const std::string file = write_pipelines(dir_, {"p1", "p2", "p3", "p4"});
  for (int i = 0; i < 3; ++i) start_node(i, file);
  ASSERT_TRUE(eventually([&] { return all_playing(listing(nodes_[0]), 4); }, 20000))
      << nodes_[0].get("/api/v1/pipelines");
  auto before = listing(nodes_[1]);
  std::map<std::string, int> per_node;
  for (const auto& [name, p] : before) {
    ++per_node[p.node];
    EXPECT_EQ(runners(nodes_, 3, name), 1) << name;
  }
  // None has more than two (2-1-1 usually; 2-2-0 when a node registered late).
  for (const auto& [node, count] : per_node) EXPECT_LE(count, 2) << node;

  const std::string victim = before["p1"].node;
  ASSERT_TRUE(eventually([&] { return writer(redis_, "p1") == victim; }, 5000))
      << writer(redis_, "p1");
  ClusterNode* dead = nullptr;
  for (auto& n : nodes_)
    if (n.id == victim) dead = &n;
  ASSERT_NE(dead, nullptr);
  // A reader of the stream (as a viewer on any node would be) follows it across the move.
  std::shared_ptr<relais::store::Store> store;
  ASSERT_TRUE(relais::store::open_store(redis_.uri(), &store).is_ok());
  std::unique_ptr<relais::store::Reader> reader;
  ASSERT_TRUE(store->open_reader("p1", relais::store::StartPosition::kLive, &reader).is_ok());
  dead->process.kill();  // SIGKILL: no release, the leases must expire
  const gint64 killed = g_get_monotonic_time();
  ASSERT_TRUE(eventually(
      [&] {
        std::string w = writer(redis_, "p1");
        return !w.empty() && w != victim;
      },
      4 * kLeaseTtlMs));
  const gint64 failover_ms = (g_get_monotonic_time() - killed) / 1000;
  g_print("p1 failed over from %s to %s: first frame %lld ms after SIGKILL (lease TTL %d ms)\n",
          victim.c_str(), writer(redis_, "p1").c_str(), static_cast<long long>(failover_ms),
          kLeaseTtlMs);
  EXPECT_LE(failover_ms, 2 * kLeaseTtlMs);
  // The reader gets the new owner's frames, starting at a keyframe marked discont.
  int after_discont = -1;
  const gint64 read_until = g_get_monotonic_time() + gint64{4} * kLeaseTtlMs * 1000;
  while (after_discont < 5 && g_get_monotonic_time() < read_until) {
    relais::store::Frame f;
    if (reader->next(&f, std::chrono::milliseconds(200)) != relais::store::ReadResult::kFrame) {
      continue;
    }
    if (after_discont >= 0) {
      ++after_discont;
    } else if ((f.flags & relais::store::kFlagDiscont) && f.is_keyframe()) {
      after_discont = 0;
    }
  }
  EXPECT_GE(after_discont, 5) << "frames read after the new owner's first (discont) keyframe";

  ClusterNode* alive = &nodes_[dead == &nodes_[0] ? 1 : 0];
  ASSERT_TRUE(eventually(
      [&] {
        auto l = listing(*alive);
        if (!all_playing(l, 4)) return false;
        for (const auto& [name, p] : l)
          if (p.node == victim) return false;
        return true;
      },
      4 * kLeaseTtlMs))
      << alive->get("/api/v1/pipelines");
  auto after = listing(*alive);
  EXPECT_GT(after["p1"].epoch, before["p1"].epoch);
  per_node.clear();
  for (const auto& [name, p] : after) {
    ++per_node[p.node];
    EXPECT_EQ(runners(nodes_, 3, name), 1) << name;
  }
  for (const auto& [node, count] : per_node) EXPECT_LE(count, 2) << node;
}

TEST_F(ClusterPipelines, ApiAddOnAnyNodeRunsOnceDeleteStopsItAndLeavingReleases) {
  for (int i = 0; i < 3; ++i) start_node(i, "");
  for (auto& n : nodes_) {
    ASSERT_TRUE(eventually(
        [&] {
          std::string b = n.nodes();
          return lists_node(b, "node-a") && lists_node(b, "node-b") && lists_node(b, "node-c");
        },
        10000));
  }
  auto created = http_request(nodes_[0].port, "POST", "/api/v1/pipelines", definition("api1"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(http_request(nodes_[1].port, "POST", "/api/v1/pipelines", definition("api1")).status,
            409);
  for (int i : {1, 2}) {
    ASSERT_TRUE(eventually([&] { return all_playing(listing(nodes_[i]), 1); }, 10000))
        << nodes_[i].get("/api/v1/pipelines");
  }
  EXPECT_EQ(runners(nodes_, 3, "api1"), 1);
  const std::string owner = listing(nodes_[2])["api1"].node;
  ClusterNode* owner_node = nullptr;
  for (auto& n : nodes_)
    if (n.id == owner) owner_node = &n;
  ASSERT_NE(owner_node, nullptr);
  EXPECT_TRUE(runs(*owner_node, "api1"));
  auto one = http_request(nodes_[1].port, "GET", "/api/v1/pipelines/api1");
  EXPECT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("\"node\":\"" + owner + "\""), std::string::npos) << one.body;

  auto deleted = http_request(nodes_[2].port, "DELETE", "/api/v1/pipelines/api1");
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(http_request(nodes_[2].port, "DELETE", "/api/v1/pipelines/api1").status, 404);
  ASSERT_TRUE(eventually([&] { return !runs(*owner_node, "api1"); }, 4 * kLeaseTtlMs))
      << owner_node->get("/metrics");
  for (auto& n : nodes_) {
    EXPECT_TRUE(eventually([&] { return listing(n).empty(); }, 4 * kLeaseTtlMs)) << n.id;
  }
  EXPECT_EQ(redis_.cli("EXISTS 'relais:{lease:api1}:owner'"), "0");

  // A clean leave (SIGTERM) stops the pipeline, then releases its lease.
  ASSERT_EQ(http_request(nodes_[1].port, "POST", "/api/v1/pipelines", definition("api2")).status,
            201);
  ASSERT_TRUE(eventually([&] { return all_playing(listing(nodes_[0]), 1); }, 10000));
  const std::string leaver = listing(nodes_[0])["api2"].node;
  for (auto& n : nodes_) {
    if (n.id == leaver) n.process.stop();
  }
  EXPECT_NE(redis_.cli("GET 'relais:{lease:api2}:owner'").rfind(leaver + " ", 0), 0u)
      << "the lease of a node that left cleanly is released";
  ClusterNode* alive = &nodes_[leaver == "node-a" ? 1 : 0];
  EXPECT_TRUE(eventually(
      [&] {
        auto l = listing(*alive);
        return all_playing(l, 1) && l["api2"].node != leaver;
      },
      4 * kLeaseTtlMs));
}

// Log lines carry GLib's local time "HH:MM:SS.mmm"; the nodes run on one
// machine, so their lines compare. Milliseconds since midnight, -1 if absent.
int64_t logged_at(const std::string& log, const std::string& text) {
  size_t at = log.find(text);
  if (at == std::string::npos) return -1;
  size_t line = log.rfind('\n', at);
  line = line == std::string::npos ? 0 : line + 1;
  std::string head = log.substr(line, at - line);
  for (size_t i = 0; i + 12 <= head.size(); ++i) {
    int h, m, s, ms;
    if (sscanf(head.c_str() + i, "%2d:%2d:%2d.%3d", &h, &m, &s, &ms) == 4 && head[i + 2] == ':' &&
        head[i + 8] == '.') {
      return ((h * 60 + m) * 60 + s) * 1000LL + ms;
    }
  }
  return -1;
}

TEST_F(ClusterPipelines, NodeCutOffFromRedisStopsItsPipelineBeforeAnotherStartsIt) {
  TcpProxy proxy(redis_.port());
  ASSERT_TRUE(proxy.start());
  const std::string file = write_pipelines(dir_, {"cut"});
  start_node(0, file, proxy.port());  // node-a alone first: it takes the pipeline
  ASSERT_TRUE(eventually(
      [&] {
        auto l = listing(nodes_[0]);
        return all_playing(l, 1) && l["cut"].node == "node-a";
      },
      10000))
      << nodes_[0].get("/api/v1/pipelines");
  start_node(1, file);
  start_node(2, file);
  ASSERT_TRUE(eventually(
      [&] {
        return lists_node(nodes_[1].nodes(), "node-a") && lists_node(nodes_[1].nodes(), "node-c");
      },
      10000));
  ASSERT_TRUE(eventually([&] { return writer(redis_, "cut") == "node-a"; }, 5000));

  proxy.stop();  // node-a can no longer reach Redis (its store writes neither)
  const gint64 cut = g_get_monotonic_time();
  ASSERT_TRUE(eventually(
      [&] {
        std::string w = writer(redis_, "cut");
        return w == "node-b" || w == "node-c";
      },
      4 * kLeaseTtlMs));
  g_print("cut: first frame from %s %lld ms after node-a lost Redis (lease TTL %d ms)\n",
          writer(redis_, "cut").c_str(),
          static_cast<long long>((g_get_monotonic_time() - cut) / 1000), kLeaseTtlMs);
  ClusterNode& next = nodes_[writer(redis_, "cut") == "node-b" ? 1 : 2];
  EXPECT_TRUE(eventually([&] { return !runs(nodes_[0], "cut"); }, 1000));
  EXPECT_TRUE(runs(next, "cut"));
  // node-a still answers with its last view of the cluster, and says how old it is;
  // a node reaching Redis refreshes its view every round.
  EXPECT_GE(view_age_ms(nodes_[0]), kLeaseTtlMs / 2);
  EXPECT_LT(view_age_ms(next), kLeaseTtlMs);
  // Cut off, node-a says it is not ready but keeps answering.
  EXPECT_EQ(http_request(nodes_[0].port, "GET", "/readyz").status, 503);
  EXPECT_EQ(http_request(nodes_[0].port, "GET", "/healthz").status, 200);

  const int64_t stopped = logged_at(nodes_[0].log(), "pipeline cut: stopped here");
  int64_t started = logged_at(next.log(), "pipeline cut: starting");
  ASSERT_GE(stopped, 0) << nodes_[0].log();
  ASSERT_GE(started, 0) << next.log();
  if (started < stopped - 12 * 3600 * 1000) started += 24 * 3600 * 1000;  // past midnight
  g_print("cut: stopped on node-a at %lld, started on %s at %lld (ms of the day): %lld ms apart\n",
          static_cast<long long>(stopped), next.id.c_str(), static_cast<long long>(started),
          static_cast<long long>(started - stopped));
  EXPECT_LT(stopped, started);

  // Redis comes back: node-a rejoins by itself (ready, in the registry again)
  // and the pipeline keeps running once, where it moved.
  ASSERT_TRUE(proxy.start());
  EXPECT_TRUE(eventually(
      [&] { return http_request(nodes_[0].port, "GET", "/readyz").status == 200; }, 10000));
  EXPECT_TRUE(eventually([&] { return lists_node(nodes_[1].nodes(), "node-a"); }, 10000))
      << nodes_[1].nodes();
  EXPECT_TRUE(eventually([&] { return view_age_ms(nodes_[0]) < kLeaseTtlMs; }, 10000));
  EXPECT_EQ(runners(nodes_, 3, "cut"), 1);
}

// A node paused (SIGSTOP) past its lease, then resumed: the pipeline has
// moved, Redis refuses the old owner's writes (no frame of the old epoch
// after the new epoch's first), and the old owner stops its copy.
TEST_F(ClusterPipelines, PausedOwnerIsFencedOffAndStops) {
  const std::string file = write_pipelines(dir_, {"frozen"});
  start_node(0, file);
  ASSERT_TRUE(eventually(
      [&] {
        auto l = listing(nodes_[0]);
        return all_playing(l, 1) && l["frozen"].node == "node-a";
      },
      10000));
  start_node(1, file);
  start_node(2, file);
  ASSERT_TRUE(eventually([&] { return lists_node(nodes_[1].nodes(), "node-c"); }, 10000));
  ASSERT_TRUE(eventually([&] { return writer(redis_, "frozen") == "node-a"; }, 5000));
  const std::string old_epoch = redis_.cli("HGET 'relais:{frozen}:meta' epoch");
  ASSERT_EQ(old_epoch, std::to_string(listing(nodes_[1])["frozen"].epoch));

  ASSERT_EQ(::kill(nodes_[0].process.pid(), SIGSTOP), 0);
  ASSERT_TRUE(eventually(
      [&] {
        std::string w = writer(redis_, "frozen");
        return w == "node-b" || w == "node-c";
      },
      4 * kLeaseTtlMs));
  const std::string new_epoch = redis_.cli("HGET 'relais:{frozen}:meta' epoch");
  EXPECT_GT(std::stoll(new_epoch), std::stoll(old_epoch));
  ASSERT_EQ(::kill(nodes_[0].process.pid(), SIGCONT), 0);
  EXPECT_TRUE(eventually([&] { return !runs(nodes_[0], "frozen"); }, 2 * kLeaseTtlMs))
      << nodes_[0].get("/metrics");
  g_usleep(kLeaseTtlMs * 1000);  // let any late write of the old owner arrive

  std::vector<std::string> epochs = redis_.stream_field("relais:{frozen}:frames", "e");
  auto first_new = std::find(epochs.begin(), epochs.end(), new_epoch);
  ASSERT_NE(first_new, epochs.end());
  EXPECT_EQ(std::count(first_new, epochs.end(), old_epoch), 0)
      << "a frame of epoch " << old_epoch << " after the first of epoch " << new_epoch;
  // The new owner's first frame is a keyframe marked discont (flags 1 + 2).
  // (Read after the epochs: the stream has grown since, nothing was trimmed yet.)
  std::vector<std::string> flags = redis_.stream_field("relais:{frozen}:frames", "f");
  const size_t first_new_at = static_cast<size_t>(first_new - epochs.begin());
  ASSERT_GT(flags.size(), first_new_at);
  EXPECT_EQ(std::stoi(flags[first_new_at]) & 3, 3);
  EXPECT_EQ(runners(nodes_, 3, "frozen"), 1);
  EXPECT_EQ(writer(redis_, "frozen"), listing(nodes_[1])["frozen"].node);
}
