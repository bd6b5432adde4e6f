// The HTTP API of DESIGN.md: health, readiness, metrics, pipelines and
// streams, as handlers over HttpRequest/HttpResponse (no sockets here).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http_exchange.h"
#include "metrics.h"
#include "pipeline_manager.h"
#include "store.h"

namespace relais::server {

class Api {
 public:
  // `store_uri` is the frame store the server uses; it is opened on demand.
  Api(PipelineManager* manager, std::string store_uri, std::string api_token);

  // Text appended to /metrics (e.g. the WHEP module's figures).
  void add_metrics_provider(MetricsProvider provider);

  // Registers /healthz, /readyz, /metrics, /api/v1/ and / (index page and
  // the JSON 404 for every path nobody else claims).
  void register_routes(RouteTable* routes);

  // Answers one request (what the registered routes call).
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse healthz(const HttpRequest& r);
  HttpResponse readyz(const HttpRequest& r);
  HttpResponse metrics(const HttpRequest& r);
  HttpResponse pipelines(const HttpRequest& r);
  HttpResponse pipeline(const HttpRequest& r, const std::string& name);
  HttpResponse streams(const HttpRequest& r);
  HttpResponse index(const HttpRequest& r);
  store::Status store(std::shared_ptr<store::Store>* out);

  PipelineManager* manager_;
  std::string store_uri_;
  std::string api_token_;
  std::vector<MetricsProvider> metrics_providers_;
};

// Helpers shared by handlers.
HttpResponse json_response(int status, std::string body);
HttpResponse error_response(int status, const std::string& message);
HttpResponse method_not_allowed(const std::string& allow);

}  // namespace relais::server
