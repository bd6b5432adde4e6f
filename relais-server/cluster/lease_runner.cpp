#include "cluster/lease_runner.h"

#include <algorithm>
#include <map>

#include "cluster/fenced_launch.h"
#include "server_log.h"

namespace relais::cluster {

using server::log_info;
using server::log_warn;

namespace {

gboolean dispatch_wake(GSource* source, GSourceFunc callback, gpointer data) {
  g_source_set_ready_time(source, -1);
  return callback(data);
}

GSourceFuncs wake_funcs = {nullptr, nullptr, dispatch_wake, nullptr, nullptr, nullptr};

// What runs here: the definition with the lease epoch on its store writes.
server::PipelineDefinition local_definition(const HeldLease& lease) {
  server::PipelineDefinition def = lease.definition;
  def.launch = fenced_launch(def.launch, lease.epoch);
  return def;
}

gboolean on_wake(gpointer data) {
  static_cast<LeaseRunner*>(data)->reconcile();
  return G_SOURCE_CONTINUE;
}

}  // namespace

LeaseRunner::LeaseRunner(server::PipelineManager* manager, GMainContext* context)
    : manager_(manager), context_(context) {
  GSource* wake = g_source_new(&wake_funcs, sizeof(GSource));
  g_source_set_callback(wake, on_wake, this, nullptr);
  g_source_set_ready_time(wake, -1);
  g_source_attach(wake, context_);
  wake_.reset(wake);
}

void LeaseRunner::notify() {
  // Thread-safe: it takes the context's lock and wakes the context up.
  g_source_set_ready_time(wake_.get(), 0);
}

void LeaseRunner::stop(const std::string& name, const char* why, bool now) {
  log_info("pipeline %s: stopping here (%s)", name.c_str(), why);
  running_.erase(name);
  stopping_.insert(name);
  std::weak_ptr<bool> alive = alive_;
  auto gone = [this, alive, name] {
    if (alive.expired() || !*alive.lock()) return;
    stopping_.erase(name);
    log_info("pipeline %s: stopped here", name.c_str());
    notify();
  };
  if (!manager_->remove(name, gone,
                        now ? server::PipelineManager::StopMode::kNow
                            : server::PipelineManager::StopMode::kDrain)) {
    stopping_.erase(name);
  }
}

bool LeaseRunner::deleted(const std::string& name) const {
  std::vector<ClusterPipeline> listing;
  if (!leases_->listing(&listing)) return false;
  return std::none_of(listing.begin(), listing.end(),
                      [&](const ClusterPipeline& p) { return p.definition.name == name; });
}

void LeaseRunner::arm_deadline(gint64 deadline_us) {
  deadline_.reset();
  if (deadline_us <= 0) return;
  const gint64 wait_ms = std::max<gint64>(0, (deadline_us - g_get_monotonic_time() + 999) / 1000);
  GSource* timer = g_timeout_source_new(static_cast<guint>(wait_ms));
  g_source_set_callback(timer, on_wake, this, nullptr);
  g_source_attach(timer, context_);
  deadline_.reset(timer);
}

void LeaseRunner::reconcile() {
  if (!leases_) return;
  const std::map<std::string, HeldLease> held = leases_->held();
  const gint64 now = g_get_monotonic_time();
  for (auto it = running_.begin(); it != running_.end();) {
    const std::string name = *it++;
    auto lease = held.find(name);
    if (lease == held.end()) {
      // Deleted from the cluster: drain it (nobody else will run it). Lost:
      // stop at once, another node may claim it.
      if (deleted(name)) {
        stop(name, "deleted from the cluster", false);
      } else {
        stop(name, "its lease is no longer held", true);
      }
    } else if (lease->second.stop_deadline_us <= now) {
      log_warn("pipeline %s: lease deadline passed without a renewal", name.c_str());
      stop(name, "lease deadline passed", true);
    } else if (auto local = manager_->get(name);
               local && !(local->definition == local_definition(lease->second))) {
      // A new epoch fences the running copy's writes: no point draining it.
      stop(name, "its definition or epoch changed", true);
    }
  }
  // A drain must not outlast the lease either.
  for (const std::string& name : std::set<std::string>(stopping_)) {
    auto lease = held.find(name);
    if ((lease == held.end() && !deleted(name)) ||
        (lease != held.end() && lease->second.stop_deadline_us <= now)) {
      manager_->remove(name, {}, server::PipelineManager::StopMode::kNow);
    }
  }
  gint64 earliest = 0;
  for (const auto& [name, lease] : held) {
    if (lease.stop_deadline_us <= now || stopping_.count(name)) continue;
    if (!running_.count(name)) {
      std::string error;
      log_info("pipeline %s: leased here (epoch %lld)", name.c_str(),
               static_cast<long long>(lease.epoch));
      if (manager_->add(local_definition(lease), true, &error) == server::AddResult::kDuplicate) {
        log_warn("pipeline %s: %s", name.c_str(), error.c_str());
        continue;
      }
      running_.insert(name);
    }
    if (earliest == 0 || lease.stop_deadline_us < earliest) earliest = lease.stop_deadline_us;
  }
  arm_deadline(earliest);

  std::map<std::string, PublishedStatus> statuses;
  for (const std::string& name : running_) {
    auto local = manager_->get(name);
    if (!local) continue;
    PublishedStatus s;
    s.state = server::pipeline_state_name(local->state);
    s.uptime_seconds = static_cast<int64_t>(local->uptime_seconds);
    s.restarts = local->restarts;
    s.last_error = local->last_error;
    statuses[name] = s;
  }
  leases_->set_local_statuses(std::move(statuses));
}

}  // namespace relais::cluster
