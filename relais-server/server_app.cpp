#include "server_app.h"

#include <algorithm>

#include "config.h"  // generated: VERSION, RELAIS_HAVE_REDIS
#include "redact.h"
#include "server_log.h"
#if RELAIS_HAVE_REDIS
#include "cluster/cluster_api.h"
#include "cluster/lease_manager.h"
#include "cluster/lease_runner.h"
#include "cluster/node_registry.h"
#include "cluster/viewer_redirect.h"
#endif

namespace relais::server {

#if RELAIS_HAVE_REDIS
// The registry and the main-context timer that hands it this node's load;
// the pipeline leases: the runner outlives the lease thread that notifies it,
// which outlives the API whose workers wake it.
struct ServerApp::Cluster {
  std::string self_id;
  std::unique_ptr<cluster::NodeRegistry> registry;
  std::unique_ptr<cluster::LeaseRunner> runner;
  std::unique_ptr<cluster::LeaseManager> leases;
  std::unique_ptr<cluster::ClusterApi> api;
  guint load_timer = 0;
  GMainContext* context = nullptr;
  ~Cluster() {
    if (load_timer) {
      GSource* s = g_main_context_find_source_by_id(context, load_timer);
      if (s) g_source_destroy(s);
    }
  }
};
#else
struct ServerApp::Cluster {};
#endif

ServerApp::ServerApp(const Config& config, GMainContext* context)
    : context_(context),
      config_(config),
      manager_(context, {}, config.stop_timeout_ms),
      http_(config.max_body_bytes),
      api_(&manager_, config.store_uri(), config.api_token, context) {
  api_.register_routes(&http_);
}

ServerApp::~ServerApp() {
  shutdown();
}

bool ServerApp::load_pipelines(std::string* error) {
  if (config_.pipelines_file.empty()) return true;
  std::vector<PipelineDefinition> defs;
  std::vector<std::string> entry_errors;
  if (!load_definitions_file(config_.pipelines_file, &defs, &entry_errors, error)) return false;
  for (const auto& e : entry_errors) log_error("%s: %s", config_.pipelines_file.c_str(), e.c_str());
#if RELAIS_HAVE_REDIS
  if (cluster_ && cluster_->leases) {
    // Cluster pipelines: the file's definitions go to Redis, leases decide
    // which node runs each.
    log_info("%zu cluster pipeline definition(s) from %s", defs.size(),
             config_.pipelines_file.c_str());
    cluster_->leases->upsert(std::move(defs));
    return true;
  }
#endif
  for (const auto& def : defs) {
    std::string why;
    manager_.add(def, true, &why);
  }
  log_info("%zu pipeline(s) from %s", defs.size(), config_.pipelines_file.c_str());
  return true;
}

bool ServerApp::listen(std::string* error) {
  if (!http_.listen(config_.host, config_.port, error)) return false;
  log_info("listening on http://%s:%d/ (store %s, admin API %s)", config_.host.c_str(), port(),
           redact_credentials(config_.store_uri()).c_str(),
           config_.api_token.empty() ? "loopback only" : "with bearer token");
  return true;
}

bool ServerApp::join_cluster(std::string* error) {
  if (config_.storage_type != "redis") return true;
#if RELAIS_HAVE_REDIS
  store::RedisEndpoint endpoint;
  store::Status st = store::parse_redis_uri(config_.store_uri(), &endpoint);
  if (!st.is_ok()) {
    *error = "RELAIS_STORAGE_REDIS_URL: " + st.message();
    return false;
  }
  const std::string hostname = g_get_host_name();
  cluster::NodeRecord self;
  self.id = config_.node_id.empty() ? cluster::default_node_id(hostname, port()) : config_.node_id;
  self.public_url = config_.public_url.empty()
                        ? cluster::default_public_url(config_.host, port(), hostname)
                        : config_.public_url;
  self.version = VERSION;
  self.started_unix_ms = g_get_real_time() / 1000;
  // The stream meta's `writer` field names this node.
  g_setenv("RELAIS_NODE_NAME", self.id.c_str(), TRUE);
  self.max_viewers = config_.max_viewers;
  cluster_ = std::make_unique<Cluster>();
  cluster_->self_id = self.id;
  cluster_->context = context_;
  cluster_->registry =
      std::make_unique<cluster::NodeRegistry>(endpoint, self, config_.heartbeat_ms);
  cluster::NodeRegistry* registry = cluster_->registry.get();
  cluster_->runner = std::make_unique<cluster::LeaseRunner>(&manager_, context_);
  cluster::LeaseRunner* runner = cluster_->runner.get();
  cluster::LeaseManager::Options lease_options;
  lease_options.endpoint = endpoint;
  lease_options.node_id = self.id;
  lease_options.ttl_ms = config_.lease_ttl_ms;
  lease_options.live_nodes = [registry] { return registry->nodes(); };
  lease_options.changed = [runner] { runner->notify(); };
  cluster_->leases = std::make_unique<cluster::LeaseManager>(lease_options);
  runner->attach(cluster_->leases.get());
  cluster_->api = std::make_unique<cluster::ClusterApi>(cluster_->leases.get(), endpoint,
                                                        config_.api_token, context_);
  cluster_->api->register_routes(&http_);
  api_.set_nodes_provider([registry] { return registry->nodes(); });
  api_.add_metrics_provider([registry] {
    return "# HELP relais_cluster_nodes Live nodes of the cluster, as this node last saw them.\n"
           "# TYPE relais_cluster_nodes gauge\nrelais_cluster_nodes " +
           std::to_string(registry->nodes().size()) + "\n";
  });
  auto update_load = [](gpointer data) -> gboolean {
    auto* app = static_cast<ServerApp*>(data);
    int64_t running = 0;
    for (const auto& p : app->manager_.list()) running += p.state == PipelineState::kPlaying;
    app->cluster_->registry->set_load(app->viewer_count_ ? app->viewer_count_() : 0, running);
    return G_SOURCE_CONTINUE;
  };
  update_load(this);
  GSource* timer = g_timeout_source_new(static_cast<guint>(std::max<int64_t>(
      10, config_.heartbeat_ms / 2)));  // twice per heartbeat: the record is at most half stale
  g_source_set_callback(timer, update_load, this, nullptr);
  cluster_->load_timer = g_source_attach(timer, context_);
  g_source_unref(timer);
  if (cluster::node_ttl_ms(config_.heartbeat_ms) > config_.lease_ttl_ms) {
    log_warn(
        "RELAIS_HEARTBEAT_MS x 3 (%lld ms) exceeds RELAIS_LEASE_TTL_MS (%lld ms): a dead "
        "node stays in the registry longer than its leases and delays failover",
        static_cast<long long>(cluster::node_ttl_ms(config_.heartbeat_ms)),
        static_cast<long long>(config_.lease_ttl_ms));
  }
  log_info("cluster node %s (%s), heartbeat every %lld ms, pipeline leases of %lld ms",
           self.id.c_str(), self.public_url.c_str(), static_cast<long long>(config_.heartbeat_ms),
           static_cast<long long>(config_.lease_ttl_ms));
#else
  *error = "this build has no Redis support";
  return false;
#endif
  return true;
}

void ServerApp::stop_pipelines(std::function<void()> done) {
  manager_.stop_all(std::move(done));
}

std::string ServerApp::viewer_redirect_base() const {
#if RELAIS_HAVE_REDIS
  if (cluster_) return cluster::redirect_base(cluster_->registry->nodes(), cluster_->self_id);
#endif
  return "";
}

void ServerApp::shutdown() {
  http_.close();
  // Pipelines stop before their leases are released: the next owner may start at once.
  manager_.clear();
  cluster_.reset();  // releases the leases, leaves the registry
}

}  // namespace relais::server
