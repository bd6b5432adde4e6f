// The node registry's Redis side: a thread of its own heartbeats this node's
// record (SET PX) and reads every live record (SCAN + MGET), so the server's
// main context never waits on Redis. The main context hands in the load and
// reads the last listing; both only take a mutex.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node_record.h"
#include "redis_uri.h"

namespace relais::cluster {

class NodeRegistry {
 public:
  // `self` has id, public_url, version and started_unix_ms set.
  NodeRegistry(store::RedisEndpoint endpoint, NodeRecord self, int64_t heartbeat_ms);
  // Stops the thread and removes this node's record (a clean leave).
  ~NodeRegistry();
  NodeRegistry(const NodeRegistry&) = delete;
  NodeRegistry& operator=(const NodeRegistry&) = delete;

  void set_load(int64_t viewers, int64_t pipelines_running);
  // The live nodes as of the last heartbeat (this node included once it has
  // written its record); empty while Redis has not answered.
  std::vector<NodeRecord> nodes() const;
  // Whether the last heartbeat reached Redis.
  bool connected() const;

 private:
  void run();

  store::RedisEndpoint endpoint_;
  const int64_t heartbeat_ms_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  NodeRecord self_;                // guarded by mutex_
  std::vector<NodeRecord> nodes_;  // guarded by mutex_
  bool connected_ = false;         // guarded by mutex_
  std::thread thread_;
};

}  // namespace relais::cluster
