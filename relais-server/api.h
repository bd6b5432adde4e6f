// The HTTP API of DESIGN.md: health, readiness, metrics, pipelines and
// streams, as handlers over HttpRequest/HttpResponse (no sockets here).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "blocking_work.h"
#include "cluster/node_record.h"
#include "http_exchange.h"
#include "metrics.h"
#include "pipeline_manager.h"
#include "store.h"

namespace relais::server {

class Api {
 public:
  // `store_uri` is the frame store the server uses; it is opened on demand.
  // Answers that need the store are computed on worker threads and given on
  // `context` (nullptr: the default main context), where the routes run.
  Api(PipelineManager* manager, std::string store_uri, std::string api_token,
      GMainContext* context = nullptr);

  // Text appended to /metrics (e.g. the WHEP module's figures).
  void add_metrics_provider(MetricsProvider provider);

  // The cluster's live nodes for GET /api/v1/nodes (read on the main
  // context; must not block). Unset: the route answers 404.
  using NodesProvider = std::function<std::vector<cluster::NodeRecord>()>;
  void set_nodes_provider(NodesProvider provider) { nodes_provider_ = std::move(provider); }

  // Registers /healthz, /readyz, /metrics, /api/v1/ and / (index page and
  // the JSON 404 for every path nobody else claims).
  void register_routes(RouteTable* routes);

  // Answers one request synchronously, store round trips included (the
  // registered routes do the same without blocking the main context);
  // iterates the context while an answer waits on it (a pipeline's drain).
  HttpResponse handle(const HttpRequest& request);

 private:
  // An answer now, or work (store round trips, thread-safe, no access to the
  // manager) whose result is the answer, or an answer the main context gives
  // later through the responder (e.g. once a pipeline has drained).
  struct Reply {
    HttpResponse response;
    std::function<HttpResponse()> work;
    std::function<void(Responder)> deferred;
    static Reply now(HttpResponse r) { return {std::move(r), {}, {}}; }
    static Reply later(std::function<HttpResponse()> w) { return {{}, std::move(w), {}}; }
    static Reply on(std::function<void(Responder)> d) { return {{}, {}, std::move(d)}; }
  };
  Reply plan(const HttpRequest& r);
  HttpResponse healthz(const HttpRequest& r);
  Reply readyz(const HttpRequest& r);
  Reply metrics(const HttpRequest& r);
  HttpResponse pipelines(const HttpRequest& r);
  Reply pipeline(const HttpRequest& r, const std::string& name);
  Reply streams(const HttpRequest& r);
  HttpResponse nodes(const HttpRequest& r);
  Reply index(const HttpRequest& r);

  PipelineManager* manager_;
  GMainContext* context_;
  std::string store_uri_;
  std::string api_token_;
  std::vector<MetricsProvider> metrics_providers_;
  NodesProvider nodes_provider_;
  BlockingWork workers_;
};

// Helpers shared by handlers.
HttpResponse json_response(int status, std::string body);
HttpResponse error_response(int status, const std::string& message);
HttpResponse method_not_allowed(const std::string& allow);

}  // namespace relais::server
