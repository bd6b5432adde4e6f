// The lease side of cluster pipelines, on a thread of its own so the
// server's main context never waits on Redis. Every TTL/3 a round renews the
// leases this node holds, drops those whose local stop deadline has passed,
// releases those whose pipeline was deleted, claims an unowned pipeline when
// placement says so, publishes the local pipelines' status and refreshes the
// cluster listing. The main context reads held() and starts or stops the
// local pipelines (LeaseRunner); everything shared sits behind one mutex.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/lease_timing.h"
#include "cluster/node_record.h"
#include "cluster/pipeline_catalog.h"
#include "redis_uri.h"

namespace relais::cluster {

struct HeldLease {
  server::PipelineDefinition definition;
  int64_t epoch = 0;
  int64_t stop_deadline_us = 0;  // monotonic (g_get_monotonic_time): run only until then
};

class LeaseManager {
 public:
  struct Options {
    store::RedisEndpoint endpoint;
    std::string node_id;
    int64_t ttl_ms = 6000;
    // The registry's live nodes (thread-safe).
    std::function<std::vector<NodeRecord>()> live_nodes;
    // Called on the lease thread after every round, without a lock held.
    std::function<void()> changed;
  };
  explicit LeaseManager(Options options);
  // Stops the thread, then releases every lease still held (stop the
  // pipelines first: the next owner may start at once).
  ~LeaseManager();
  LeaseManager(const LeaseManager&) = delete;
  LeaseManager& operator=(const LeaseManager&) = delete;

  // Definitions to write into Redis (HSET) at the next round that reaches it.
  void upsert(std::vector<server::PipelineDefinition> definitions);
  // Runs a round now (after a definition was added or removed).
  void wake();

  std::map<std::string, HeldLease> held() const;
  // The cluster's pipelines as of the last round that reached Redis; false
  // while none has.
  bool listing(std::vector<ClusterPipeline>* out) const;
  // How long ago (ms) the listing was read from Redis; -1 while never.
  int64_t listing_age_ms() const;
  // The local state of held pipelines (state, uptime, restarts, last error),
  // from the main context; published at the next round.
  void set_local_statuses(std::map<std::string, PublishedStatus> statuses);

 private:
  struct Lease {
    server::PipelineDefinition definition;
    int64_t epoch = 0;
    LeaseTiming timing;
  };
  void run();
  store::Status round(store::RedisConnection* c);
  void renew_all(store::RedisConnection* c, store::Status* st);
  void drop_expired();
  void release(store::RedisConnection* c, const std::string& name, int64_t epoch);
  void publish_snapshot(bool reached, std::vector<ClusterPipeline> listing);

  const Options options_;
  // The lease thread's own state (only it touches these).
  std::map<std::string, Lease> leases_;
  std::vector<std::pair<std::string, int64_t>> to_release_;  // dropped at the deadline

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                                  // guarded by mutex_
  bool woken_ = false;                                     // guarded by mutex_
  std::vector<server::PipelineDefinition> upserts_;        // guarded by mutex_
  std::map<std::string, HeldLease> held_;                  // guarded by mutex_
  std::vector<ClusterPipeline> listing_;                   // guarded by mutex_
  bool listing_known_ = false;                             // guarded by mutex_
  int64_t listing_read_us_ = 0;                            // guarded by mutex_ (monotonic)
  std::map<std::string, PublishedStatus> local_statuses_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace relais::cluster
