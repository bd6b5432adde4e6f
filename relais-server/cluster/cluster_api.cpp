#include "cluster/cluster_api.h"

#include <gst/gst.h>

#include "api.h"
#include "auth.h"
#include "cluster/listing_json.h"
#include "glib_handles.h"
#include "json_handles.h"
#include "server_log.h"

namespace relais::cluster {

using server::error_response;
using server::HttpRequest;
using server::HttpResponse;
using server::json_response;
using server::Responder;

namespace {

constexpr const char kPath[] = "/api/v1/pipelines";
constexpr auto kRedisTimeout = std::chrono::milliseconds(2000);

// GStreamer's reason when the description does not parse, empty when it does.
std::string launch_error(const std::string& launch) {
  GError* raw = nullptr;
  GstElement* element =
      gst_parse_launch_full(launch.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw);
  GErrorPtr err(raw);
  if (element) gst_object_unref(gst_object_ref_sink(element));
  if (!err && element) return {};
  return std::string("the launch description does not parse: ") +
         (err ? err->message : "unknown error");
}

HttpResponse unreachable(const store::Status& st) {
  return error_response(503, "the cluster's Redis is not reachable: " + st.message());
}

}  // namespace

ClusterApi::ClusterApi(LeaseManager* leases, store::RedisEndpoint endpoint, std::string api_token,
                       GMainContext* context)
    : leases_(leases),
      endpoint_(std::move(endpoint)),
      api_token_(std::move(api_token)),
      workers_(context) {}

void ClusterApi::register_routes(server::RouteTable* routes) {
  routes->add_prefix(
      kPath, [this](const HttpRequest& request, Responder respond) { handle(request, respond); });
}

void ClusterApi::handle(const HttpRequest& r, const Responder& respond) {
  const bool get = r.method == "GET" || r.method == "HEAD";
  const std::string prefix = std::string(kPath) + "/";
  if (r.path == kPath) {
    if (get) return respond(list(r));
    if (r.method != "POST") return respond(server::method_not_allowed("GET, HEAD, POST"));
    return add(r, respond);
  }
  if (r.path.compare(0, prefix.size(), prefix) != 0) {
    return respond(error_response(404, "no such route; see /api/v1/pipelines"));
  }
  const std::string name = r.path.substr(prefix.size());
  if (!get && r.method != "DELETE") {
    return respond(server::method_not_allowed("GET, HEAD, DELETE"));
  }
  if (!server::is_valid_name(name)) {
    return respond(error_response(400, "pipeline names are 1-64 characters of a-z, 0-9, _ and -"));
  }
  if (get) return respond(one(name));
  remove(r, name, respond);
}

HttpResponse ClusterApi::list(const HttpRequest& /*r*/) {
  std::vector<ClusterPipeline> pipelines;
  if (!leases_->listing(&pipelines)) {
    return error_response(503, "the cluster's pipelines are not known yet: Redis has not answered");
  }
  server::JsonBuilderPtr b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "pipelines");
  json_builder_begin_array(b.get());
  for (const auto& p : pipelines) add_cluster_pipeline(b.get(), p);
  json_builder_end_array(b.get());
  // A node cut off from Redis keeps answering with what it saw last: say how old.
  server::add_int_member(b.get(), "as_of_ms_ago", leases_->listing_age_ms());
  json_builder_end_object(b.get());
  return json_response(200, server::to_json(b.get()));
}

HttpResponse ClusterApi::one(const std::string& name) {
  std::vector<ClusterPipeline> pipelines;
  leases_->listing(&pipelines);
  for (const auto& p : pipelines) {
    if (p.definition.name == name) return json_response(200, cluster_pipeline_json(p));
  }
  return error_response(404, "no pipeline named '" + name + "'");
}

void ClusterApi::add(const HttpRequest& r, const Responder& respond) {
  if (auto refused = server::check_admin(r, api_token_)) return respond(*refused);
  server::PipelineDefinition def;
  std::string error;
  if (!server::parse_definition(r.body, &def, &error)) return respond(error_response(400, error));
  if (std::string why = launch_error(def.launch); !why.empty()) {
    return respond(error_response(400, why));
  }
  const std::string client = r.remote_address;
  workers_.run(
      [endpoint = endpoint_, def, client, leases = leases_] {
        store::RedisConnection c(endpoint);
        bool added = false;
        store::Status st = c.connect(kRedisTimeout);
        if (st.is_ok()) st = add_definition(&c, def, &added);
        if (!st.is_ok()) return unreachable(st);
        if (!added)
          return error_response(409, "a pipeline named '" + def.name + "' already exists");
        server::log_info("pipeline %s added to the cluster through the API by %s", def.name.c_str(),
                         client.c_str());
        leases->wake();
        ClusterPipeline p;
        p.definition = def;
        p.state = "unowned";
        HttpResponse resp = json_response(201, cluster_pipeline_json(p));
        resp.headers.emplace_back("Location", std::string(kPath) + "/" + def.name);
        return resp;
      },
      respond);
}

void ClusterApi::remove(const HttpRequest& r, const std::string& name, const Responder& respond) {
  if (auto refused = server::check_admin(r, api_token_)) return respond(*refused);
  const std::string client = r.remote_address;
  workers_.run(
      [endpoint = endpoint_, name, client, leases = leases_] {
        store::RedisConnection c(endpoint);
        bool removed = false;
        store::Status st = c.connect(kRedisTimeout);
        if (st.is_ok()) st = remove_definition(&c, name, &removed);
        if (!st.is_ok()) return unreachable(st);
        if (!removed) return error_response(404, "no pipeline named '" + name + "'");
        server::log_info("pipeline %s deleted from the cluster through the API by %s", name.c_str(),
                         client.c_str());
        leases->wake();
        HttpResponse resp;
        resp.status = 204;
        resp.content_type.clear();
        return resp;
      },
      respond);
}

}  // namespace relais::cluster
