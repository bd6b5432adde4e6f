#include "server_app.h"

#include "server_log.h"

namespace relais::server {

ServerApp::ServerApp(const Config& config, GMainContext* context)
    : config_(config),
      manager_(context),
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
           config_.store_uri().c_str(),
           config_.api_token.empty() ? "loopback only" : "with bearer token");
  return true;
}

void ServerApp::shutdown() {
  http_.close();
  manager_.clear();
}

}  // namespace relais::server
