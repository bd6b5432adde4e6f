// /api/v1/pipelines in a cluster: the listing shows every cluster pipeline
// with its owner node, epoch and state (from the lease thread's last round,
// so the main context never waits on Redis); POST stores a definition in
// Redis and DELETE removes it there, on worker threads, for every node.
#pragma once

#include <glib.h>

#include <string>

#include "blocking_work.h"
#include "cluster/lease_manager.h"
#include "http_exchange.h"
#include "redis_uri.h"

namespace relais::cluster {

class ClusterApi {
 public:
  ClusterApi(LeaseManager* leases, store::RedisEndpoint endpoint, std::string api_token,
             GMainContext* context);
  // Claims /api/v1/pipelines (longer than the API's /api/v1/ prefix).
  void register_routes(server::RouteTable* routes);
  // Answers on the responder, later for POST and DELETE.
  void handle(const server::HttpRequest& request, const server::Responder& respond);

 private:
  server::HttpResponse list(const server::HttpRequest& r);
  server::HttpResponse one(const std::string& name);
  void add(const server::HttpRequest& r, const server::Responder& respond);
  void remove(const server::HttpRequest& r, const std::string& name,
              const server::Responder& respond);

  LeaseManager* leases_;
  const store::RedisEndpoint endpoint_;
  const std::string api_token_;
  server::BlockingWork workers_;
};

}  // namespace relais::cluster
