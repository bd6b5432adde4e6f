// The main-context half of cluster pipelines: runs in the local
// PipelineManager exactly the pipelines whose leases this node holds, and
// stops each at its lease's local deadline (a main-context timer, so a lease
// thread stuck on Redis cannot keep a pipeline running past it).
#pragma once

#include <glib.h>

#include <memory>
#include <set>
#include <string>

#include "cluster/lease_manager.h"
#include "glib_handles.h"
#include "pipeline_manager.h"

namespace relais::cluster {

class LeaseRunner {
 public:
  LeaseRunner(server::PipelineManager* manager, GMainContext* context);
  ~LeaseRunner() { *alive_ = false; }
  LeaseRunner(const LeaseRunner&) = delete;
  LeaseRunner& operator=(const LeaseRunner&) = delete;

  // The lease manager to follow (it must outlive neither this nor be used
  // after this is gone: destroy it first).
  void attach(LeaseManager* leases) { leases_ = leases; }
  // Any thread: reconcile soon on the main context.
  void notify();
  // Main context: start what is held and not running, stop what runs and is
  // no longer held (or past its deadline), publish the local states.
  void reconcile();

 private:
  // Drains the pipeline (EOS) unless `now`; the name stays in stopping_ until
  // the manager has let it go.
  void stop(const std::string& name, const char* why, bool now);
  void arm_deadline(gint64 deadline_us);
  // Whether the last listing no longer has the pipeline (deleted, not lost).
  bool deleted(const std::string& name) const;

  server::PipelineManager* manager_;
  GMainContext* context_;
  LeaseManager* leases_ = nullptr;
  GSourcePtr wake_;                 // ready time 0 = reconcile now (set from the lease thread)
  GSourcePtr deadline_;             // the earliest local stop deadline
  std::set<std::string> running_;   // names this runner added to the manager
  std::set<std::string> stopping_;  // removed, not yet gone: not started again meanwhile
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for the manager's callbacks
};

}  // namespace relais::cluster
