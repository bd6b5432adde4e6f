// The cluster's pipelines in Redis: their definitions (one hash, name ->
// definition JSON, the form POST /api/v1/pipelines takes) and the status each
// owner publishes (one hash, name -> status JSON). Encoding and the listing
// are pure logic; the Redis calls block: use them off the main context.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/lease_plan.h"
#include "pipeline_definition.h"
#include "redis_connection.h"

namespace relais::cluster {

inline constexpr const char* kPipelinesKey = "relais:cluster:pipelines";
inline constexpr const char* kPipelineStatusKey = "relais:cluster:status";

struct Catalog {
  std::map<std::string, server::PipelineDefinition> definitions;
  std::vector<std::string> errors;  // entries that do not parse, with the reason
};
// From HGETALL's field/value pairs. An entry that does not parse, or whose
// name is not its field, is skipped and reported.
Catalog decode_catalog(const std::vector<std::pair<std::string, std::string>>& fields);

// What a pipeline's owner publishes about it.
struct PublishedStatus {
  std::string node;
  int64_t epoch = 0;
  std::string state;  // the local pipeline state: starting, playing, ...
  int64_t uptime_seconds = 0;
  int64_t restarts = 0;
  std::string last_error;
};
std::string encode_status(const PublishedStatus& s);
std::optional<PublishedStatus> decode_status(const std::string& json);

// One line of the cluster's pipeline listing.
struct ClusterPipeline {
  server::PipelineDefinition definition;
  std::string node;  // empty: unowned
  int64_t epoch = 0;
  std::string state;  // "unowned", or what the owner published ("starting" until it has)
  int64_t uptime_seconds = 0;
  int64_t restarts = 0;
  std::string last_error;
};
// Every defined pipeline, by name. A status counts only when it comes from
// the current owner at the current epoch (a dead owner's is stale).
std::vector<ClusterPipeline> cluster_listing(
    const Catalog& catalog, const std::map<std::string, LeaseOwner>& owners,
    const std::map<std::string, PublishedStatus>& statuses);

// Redis I/O (blocking).
store::Status read_catalog(store::RedisConnection* c, Catalog* out);
// HSET of every definition (the definitions file is the truth for its names).
store::Status upsert_definitions(store::RedisConnection* c,
                                 const std::vector<server::PipelineDefinition>& defs);
// HSETNX: *added is false when the name is taken.
store::Status add_definition(store::RedisConnection* c, const server::PipelineDefinition& def,
                             bool* added);
// HDEL of the definition and its status: *removed is false when there was none.
store::Status remove_definition(store::RedisConnection* c, const std::string& name, bool* removed);
// The owner of each named lease (pipelined GETs: one key slot each).
store::Status read_owners(store::RedisConnection* c, const std::vector<std::string>& names,
                          std::map<std::string, LeaseOwner>* out);
store::Status read_statuses(store::RedisConnection* c, std::map<std::string, PublishedStatus>* out);
store::Status publish_statuses(store::RedisConnection* c,
                               const std::map<std::string, PublishedStatus>& statuses);

}  // namespace relais::cluster
