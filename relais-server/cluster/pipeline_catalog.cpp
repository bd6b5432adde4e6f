#include "cluster/pipeline_catalog.h"

#include "cluster/lease_scripts.h"
#include "json_handles.h"

namespace relais::cluster {

using store::RedisReplyPtr;
using store::Status;
using store::StatusCode;

namespace {

std::string text_of(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

Status unexpected(const char* what, const redisReply* r) {
  std::string detail = r && r->type == REDIS_REPLY_ERROR ? ": " + std::string(r->str, r->len) : "";
  return Status(StatusCode::kInternal, std::string("unexpected ") + what + " reply" + detail);
}

Status integer_command(store::RedisConnection* c, const std::vector<std::string_view>& args,
                       int64_t* out) {
  RedisReplyPtr reply;
  Status st = c->command(args, &reply);
  if (!st.is_ok()) return st;
  if (!reply || reply->type != REDIS_REPLY_INTEGER) return unexpected(args[0].data(), reply.get());
  *out = reply->integer;
  return Status::ok();
}

Status hash_pairs(store::RedisConnection* c, const char* key,
                  std::vector<std::pair<std::string, std::string>>* out) {
  RedisReplyPtr reply;
  Status st = c->command({"HGETALL", key}, &reply);
  if (!st.is_ok()) return st;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return unexpected("HGETALL", reply.get());
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    out->emplace_back(text_of(reply->element[i]), text_of(reply->element[i + 1]));
  }
  return Status::ok();
}

std::string string_member(JsonObject* o, const char* name) {
  JsonNode* n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : std::string();
}

int64_t int_member(JsonObject* o, const char* name) {
  JsonNode* n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
             ? json_node_get_int(n)
             : 0;
}

}  // namespace

Catalog decode_catalog(const std::vector<std::pair<std::string, std::string>>& fields) {
  Catalog catalog;
  for (const auto& [name, json] : fields) {
    server::PipelineDefinition def;
    std::string error;
    if (!server::parse_definition(json, &def, &error)) {
      catalog.errors.push_back(name + ": " + error);
    } else if (def.name != name) {
      catalog.errors.push_back(name + ": the definition is named '" + def.name + "'");
    } else {
      catalog.definitions[name] = std::move(def);
    }
  }
  return catalog;
}

std::string encode_status(const PublishedStatus& s) {
  server::JsonBuilderPtr b(json_builder_new());
  JsonBuilder* j = b.get();
  json_builder_begin_object(j);
  server::add_string_member(j, "node", s.node);
  server::add_int_member(j, "epoch", s.epoch);
  server::add_string_member(j, "state", s.state);
  server::add_int_member(j, "uptime_seconds", s.uptime_seconds);
  server::add_int_member(j, "restarts", s.restarts);
  server::add_string_member(j, "last_error", s.last_error);
  json_builder_end_object(j);
  return server::to_json(j);
}

std::optional<PublishedStatus> decode_status(const std::string& json) {
  server::JsonParserPtr parser(json_parser_new());
  if (!json_parser_load_from_data(parser.get(), json.data(), static_cast<gssize>(json.size()),
                                  nullptr)) {
    return std::nullopt;
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return std::nullopt;
  JsonObject* o = json_node_get_object(root);
  PublishedStatus s;
  s.node = string_member(o, "node");
  s.epoch = int_member(o, "epoch");
  s.state = string_member(o, "state");
  s.uptime_seconds = int_member(o, "uptime_seconds");
  s.restarts = int_member(o, "restarts");
  s.last_error = string_member(o, "last_error");
  if (s.node.empty() || s.epoch <= 0 || s.state.empty()) return std::nullopt;
  return s;
}

std::vector<ClusterPipeline> cluster_listing(
    const Catalog& catalog, const std::map<std::string, LeaseOwner>& owners,
    const std::map<std::string, PublishedStatus>& statuses) {
  std::vector<ClusterPipeline> out;
  for (const auto& [name, def] : catalog.definitions) {
    ClusterPipeline p;
    p.definition = def;
    p.state = "unowned";
    auto owner = owners.find(name);
    if (owner != owners.end()) {
      p.node = owner->second.node;
      p.epoch = owner->second.epoch;
      p.state = "starting";
      auto s = statuses.find(name);
      if (s != statuses.end() && s->second.node == p.node && s->second.epoch == p.epoch) {
        p.state = s->second.state;
        p.uptime_seconds = s->second.uptime_seconds;
        p.restarts = s->second.restarts;
        p.last_error = s->second.last_error;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

Status read_catalog(store::RedisConnection* c, Catalog* out) {
  std::vector<std::pair<std::string, std::string>> fields;
  Status st = hash_pairs(c, kPipelinesKey, &fields);
  if (st.is_ok()) *out = decode_catalog(fields);
  return st;
}

Status upsert_definitions(store::RedisConnection* c,
                          const std::vector<server::PipelineDefinition>& defs) {
  if (defs.empty()) return Status::ok();
  std::vector<std::string> values;
  values.reserve(defs.size());
  std::vector<std::string_view> args{"HSET", kPipelinesKey};
  for (const auto& def : defs) values.push_back(server::definition_to_json(def));
  for (size_t i = 0; i < defs.size(); ++i) {
    args.emplace_back(defs[i].name);
    args.emplace_back(values[i]);
  }
  int64_t ignored = 0;
  return integer_command(c, args, &ignored);
}

Status add_definition(store::RedisConnection* c, const server::PipelineDefinition& def,
                      bool* added) {
  int64_t r = 0;
  const std::string json = server::definition_to_json(def);
  Status st = integer_command(c, {"HSETNX", kPipelinesKey, def.name, json}, &r);
  *added = st.is_ok() && r == 1;
  return st;
}

Status remove_definition(store::RedisConnection* c, const std::string& name, bool* removed) {
  int64_t r = 0;
  Status st = integer_command(c, {"HDEL", kPipelinesKey, name}, &r);
  *removed = st.is_ok() && r == 1;
  int64_t ignored = 0;
  if (st.is_ok()) st = integer_command(c, {"HDEL", kPipelineStatusKey, name}, &ignored);
  return st;
}

Status read_owners(store::RedisConnection* c, const std::vector<std::string>& names,
                   std::map<std::string, LeaseOwner>* out) {
  std::vector<std::string> keys;
  keys.reserve(names.size());
  for (const auto& name : names) {
    keys.push_back(lease_owner_key(name));
    c->append({"GET", keys.back()});
  }
  for (const auto& name : names) {
    RedisReplyPtr reply;
    Status st = c->read_reply(&reply);
    if (!st.is_ok()) return st;  // the connection is closed: the rest are dropped with it
    if (auto owner = parse_lease_owner(text_of(reply.get()))) (*out)[name] = *owner;
  }
  return Status::ok();
}

Status read_statuses(store::RedisConnection* c, std::map<std::string, PublishedStatus>* out) {
  std::vector<std::pair<std::string, std::string>> fields;
  Status st = hash_pairs(c, kPipelineStatusKey, &fields);
  for (const auto& [name, json] : fields) {
    if (auto s = decode_status(json)) (*out)[name] = *s;
  }
  return st;
}

Status publish_statuses(store::RedisConnection* c,
                        const std::map<std::string, PublishedStatus>& statuses) {
  if (statuses.empty()) return Status::ok();
  std::vector<std::string> values;
  std::vector<std::string_view> args{"HSET", kPipelineStatusKey};
  values.reserve(statuses.size());
  for (const auto& [name, s] : statuses) values.push_back(encode_status(s));
  size_t i = 0;
  for (const auto& [name, s] : statuses) {
    args.emplace_back(name);
    args.emplace_back(values[i++]);
  }
  int64_t ignored = 0;
  return integer_command(c, args, &ignored);
}

}  // namespace relais::cluster
