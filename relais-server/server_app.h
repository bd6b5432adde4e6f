// The assembled server: store settings exported, pipelines loaded, HTTP API
// listening. main() builds one, lets modules add routes, and runs the loop.
#pragma once

#include <glib.h>

#include <memory>
#include <string>

#include "api.h"
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
  // Stops every pipeline and closes every connection.
  void shutdown();

  RouteTable* routes() { return &http_; }
  Api* api() { return &api_; }
  PipelineManager* pipelines() { return &manager_; }
  int port() const { return http_.port(); }

 private:
  Config config_;
  PipelineManager manager_;
  SoupHttpServer http_;
  Api api_;
};

}  // namespace relais::server
