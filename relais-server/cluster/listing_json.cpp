#include "cluster/listing_json.h"

#include "json_handles.h"
#include "redact.h"

namespace relais::cluster {

void add_cluster_pipeline(JsonBuilder* b, const ClusterPipeline& p) {
  using server::add_int_member;
  using server::add_string_member;
  // What people read may quote URIs with passwords or tokens in them.
  json_builder_begin_object(b);
  add_string_member(b, "name", p.definition.name);
  add_string_member(b, "launch", redact_credentials(p.definition.launch));
  add_string_member(b, "restart", server::restart_policy_name(p.definition.restart));
  add_string_member(b, "state", p.state);
  add_string_member(b, "node", p.node, true);
  add_int_member(b, "epoch", p.epoch);
  add_int_member(b, "uptime_seconds", p.uptime_seconds);
  add_int_member(b, "restarts", p.restarts);
  add_string_member(b, "last_error", redact_credentials(p.last_error), true);
  json_builder_end_object(b);
}

std::string cluster_pipeline_json(const ClusterPipeline& p) {
  server::JsonBuilderPtr b(json_builder_new());
  add_cluster_pipeline(b.get(), p);
  return server::to_json(b.get());
}

}  // namespace relais::cluster
