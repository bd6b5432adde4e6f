// Helpers of the cluster process tests: a relais-server node started as a
// real process against a redis-server, and polling without fixed sleeps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"
#include "wait.h"

namespace relais::test {

struct ClusterNode {
  std::string id;
  int port = 0;
  int redis_port = 0;  // the Redis (or proxy) this node reaches
  int heartbeat_ms = 300;
  int lease_ttl_ms = 0;                 // 0: the server's default
  std::string pipelines_file;           // empty: none
  std::vector<std::string> extra_args;  // more flags, e.g. {"--max-viewers", "1"}
  std::string log_path;
  Process process;

  bool start(const TempDir& dir);
  std::string get(const std::string& path) const;
  std::string nodes() const { return get("/api/v1/nodes"); }
  // The node's own log so far.
  std::string log() const;
};

// Whether a /api/v1/nodes body lists the node id.
bool lists_node(const std::string& body, const std::string& id);

}  // namespace relais::test
