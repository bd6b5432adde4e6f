// The assembled server: store settings exported, pipelines loaded, HTTP API
// listening. main() builds one, lets modules add routes, and runs the loop.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

#include "api.h"
#include "cluster/node_record.h"
#include "pipeline_manager.h"
#include "server_config.h"
#include "soup_http_server.h"

namespace relais::server {

class ServerApp {
 public:
  ServerApp(const Config& config, GMainContext* context);
  ~ServerApp();

  // Loads the definitions file (if any) and starts its pipelines. A file that
  // cannot be read or is not a definitions document is an error; single bad
  // entries are reported and skipped.
  bool load_pipelines(std::string* error);
  // Starts listening (after every module has registered its routes).
  bool listen(std::string* error);
  // Joins the cluster (RELAIS_STORAGE_TYPE=redis): heartbeats this node's
  // record and serves GET /api/v1/nodes. Call after listen() (the default id
  // and URL take the bound port). Nothing in memory mode.
  bool join_cluster(std::string* error);
  // How many viewers are connected (the WHEP module sets it).
  void set_viewer_count(std::function<int64_t()> count) { viewer_count_ = std::move(count); }
  // Where this node, at its viewer budget, sends a new viewer: the base URL of
  // the least-loaded other live node with room, or "" (none, or no cluster).
  std::string viewer_redirect_base() const;
  // Stops every pipeline gracefully (EOS, drained, then NULL; bounded by
  // RELAIS_STOP_TIMEOUT_MS) and refuses new ones; `done` runs on the context
  // once all are gone.
  void stop_pipelines(std::function<void()> done);
  // Stops every pipeline at once and closes every connection.
  void shutdown();

  RouteTable* routes() { return &http_; }
  Api* api() { return &api_; }
  PipelineManager* pipelines() { return &manager_; }
  int port() const { return http_.port(); }

 private:
  GMainContext* context_;
  Config config_;
  PipelineManager manager_;
  SoupHttpServer http_;
  Api api_;
  std::function<int64_t()> viewer_count_;
  struct Cluster;
  std::unique_ptr<Cluster> cluster_;
};

}  // namespace relais::server
