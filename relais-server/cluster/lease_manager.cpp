#include "cluster/lease_manager.h"

#include <glib.h>

#include <algorithm>
#include <set>

#include "cluster/lease_store.h"
#include "server_log.h"

namespace relais::cluster {

using server::log_info;
using server::log_warn;
using store::Status;

namespace {
int64_t now_ms() {
  return g_get_monotonic_time() / 1000;
}
}  // namespace

LeaseManager::LeaseManager(Options options) : options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

LeaseManager::~LeaseManager() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LeaseManager::upsert(std::vector<server::PipelineDefinition> definitions) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& d : definitions) upserts_.push_back(std::move(d));
    woken_ = true;
  }
  wake_.notify_all();
}

void LeaseManager::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

std::map<std::string, HeldLease> LeaseManager::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

bool LeaseManager::listing(std::vector<ClusterPipeline>* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  *out = listing_;
  return listing_known_;
}

int64_t LeaseManager::listing_age_ms() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return listing_known_ ? (g_get_monotonic_time() - listing_read_us_) / 1000 : -1;
}

void LeaseManager::set_local_statuses(std::map<std::string, PublishedStatus> statuses) {
  std::lock_guard<std::mutex> lock(mutex_);
  local_statuses_ = std::move(statuses);
}

void LeaseManager::run() {
  store::RedisConnection connection(options_.endpoint);
  const int64_t period_ms = std::max<int64_t>(1, options_.ttl_ms / 3);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();  // no lock across network I/O
    Status st = round(&connection);
    if (!st.is_ok()) connection.disconnect();
    if (options_.changed) options_.changed();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(period_ms),
                   [this] { return stopping_ || woken_; });
  }
  lock.unlock();
  // A clean leave: the pipelines are stopped; free their leases for the others.
  if (!leases_.empty() && !connection.connected()) {
    connection.connect(std::chrono::milliseconds(std::max<int64_t>(100, options_.ttl_ms / 6)));
  }
  for (const auto& [name, lease] : leases_) {
    if (connection.connected()) release(&connection, name, lease.epoch);
  }
  leases_.clear();
  publish_snapshot(false, {});
}

void LeaseManager::renew_all(store::RedisConnection* c, Status* st) {
  LeaseStore store(c);
  for (auto it = leases_.begin(); st->is_ok() && it != leases_.end();) {
    const int64_t sent = now_ms();
    bool ours = false;
    *st = store.renew(it->first, options_.node_id, it->second.epoch, options_.ttl_ms, &ours);
    if (st->is_ok() && !ours) {
      log_warn("pipeline %s: lease (epoch %lld) lost to another node", it->first.c_str(),
               static_cast<long long>(it->second.epoch));
      it = leases_.erase(it);
      continue;
    }
    if (st->is_ok()) it->second.timing.confirmed(sent);
    ++it;
  }
}

void LeaseManager::drop_expired() {
  const int64_t now = now_ms();
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.timing.must_stop(now)) {
      log_warn("pipeline %s: lease not renewed in time (Redis unreachable): it stops here",
               it->first.c_str());
      to_release_.emplace_back(it->first, it->second.epoch);
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
}

void LeaseManager::release(store::RedisConnection* c, const std::string& name, int64_t epoch) {
  bool ours = false;
  LeaseStore(c).release(name, options_.node_id, epoch, &ours);
}

Status LeaseManager::round(store::RedisConnection* c) {
  const auto timeout = std::chrono::milliseconds(std::max<int64_t>(100, options_.ttl_ms / 6));
  Status st = c->connected() ? Status::ok() : c->connect(timeout);
  std::vector<server::PipelineDefinition> upserts;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    upserts.swap(upserts_);
  }
  if (st.is_ok() && !upserts.empty()) {
    st = upsert_definitions(c, upserts);
    if (st.is_ok()) {
      log_info("%zu pipeline definition(s) written to the cluster", upserts.size());
      upserts.clear();
    }
  }
  if (!upserts.empty()) {  // not written: next round
    std::lock_guard<std::mutex> lock(mutex_);
    upserts_.insert(upserts_.begin(), upserts.begin(), upserts.end());
  }
  renew_all(c, &st);
  drop_expired();
  if (!st.is_ok()) {
    publish_snapshot(false, {});
    return st;
  }
  for (const auto& [name, epoch] : to_release_) release(c, name, epoch);
  to_release_.clear();

  Catalog catalog;
  std::map<std::string, LeaseOwner> owners;
  std::map<std::string, PublishedStatus> statuses;
  st = read_catalog(c, &catalog);
  std::vector<std::string> names;
  for (const auto& [name, def] : catalog.definitions) names.push_back(name);
  if (st.is_ok()) st = read_owners(c, names, &owners);
  if (st.is_ok()) st = read_statuses(c, &statuses);
  if (!st.is_ok()) {
    publish_snapshot(false, {});
    return st;
  }

  LeaseRound r;
  r.self = options_.node_id;
  r.defined = {names.begin(), names.end()};
  r.owners = owners;
  r.live_nodes = options_.live_nodes ? options_.live_nodes() : std::vector<NodeRecord>{};
  for (const auto& [name, lease] : leases_) r.held.insert(name);
  LeasePlan plan = plan_lease_round(r);
  LeaseStore store(c);
  for (const std::string& name : plan.release) {
    log_info("pipeline %s: deleted from the cluster; lease released", name.c_str());
    auto lease = leases_.find(name);
    release(c, name, lease->second.epoch);
    leases_.erase(lease);
  }
  for (const std::string& name : plan.claim) {
    const int64_t sent = now_ms();
    int64_t epoch = 0;
    st = store.claim(name, options_.node_id, options_.ttl_ms, &epoch);
    if (!st.is_ok()) break;
    if (epoch == 0) continue;  // another node was quicker
    Lease lease{catalog.definitions[name], epoch, LeaseTiming(options_.ttl_ms)};
    lease.timing.confirmed(sent);
    leases_.emplace(name, std::move(lease));
    owners[name] = {options_.node_id, epoch};
    log_info("pipeline %s: lease claimed (epoch %lld)", name.c_str(),
             static_cast<long long>(epoch));
  }
  // A definition changed in Redis (a node's file was edited): run the new one.
  for (auto& [name, lease] : leases_) {
    auto def = catalog.definitions.find(name);
    if (def != catalog.definitions.end()) lease.definition = def->second;
  }

  std::map<std::string, PublishedStatus> mine;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, lease] : leases_) {
      auto local = local_statuses_.find(name);
      PublishedStatus s = local != local_statuses_.end() ? local->second : PublishedStatus{};
      if (s.state.empty()) s.state = "starting";
      s.node = options_.node_id;
      s.epoch = lease.epoch;
      mine[name] = s;
    }
  }
  if (st.is_ok()) st = publish_statuses(c, mine);
  for (auto& [name, s] : mine) statuses[name] = s;
  publish_snapshot(true, cluster_listing(catalog, owners, statuses));
  return st;
}

void LeaseManager::publish_snapshot(bool reached, std::vector<ClusterPipeline> listing) {
  std::map<std::string, HeldLease> held;
  for (const auto& [name, lease] : leases_) {
    held[name] = {lease.definition, lease.epoch, lease.timing.stop_deadline_ms() * 1000};
  }
  std::lock_guard<std::mutex> lock(mutex_);
  held_ = std::move(held);
  if (reached) {
    listing_ = std::move(listing);
    listing_known_ = true;
    listing_read_us_ = g_get_monotonic_time();
  }
}

}  // namespace relais::cluster
