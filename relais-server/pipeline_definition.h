// A pipeline definition (name, gst-launch description, restart policy) and
// its JSON form, as in DESIGN.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <json-glib/json-glib.h>

namespace relais::server {

enum class RestartPolicy { kAlways, kOnFailure, kNever };

struct PipelineDefinition {
  std::string name;
  std::string launch;
  RestartPolicy restart = RestartPolicy::kAlways;
  bool operator==(const PipelineDefinition&) const = default;
};

const char* restart_policy_name(RestartPolicy policy);
std::optional<RestartPolicy> parse_restart_policy(const std::string& text);

// Names of pipelines and streams: 1-64 characters of a-z, 0-9, '_' and '-'.
bool is_valid_name(const std::string& name);

// Reads one definition from a JSON object node. On failure returns false and
// says what is wrong in *error.
bool definition_from_json(JsonNode* node, PipelineDefinition* out, std::string* error);

// Parses one definition from JSON text (the body of POST /api/v1/pipelines).
bool parse_definition(const std::string& json, PipelineDefinition* out, std::string* error);

// The JSON object {"name", "launch", "restart"} that parse_definition reads back.
std::string definition_to_json(const PipelineDefinition& definition);

// A definitions file: {"pipelines": [ ... ]}. Entries that are malformed are
// reported in *entry_errors and skipped; a file that is not such a document
// makes the whole call fail.
bool parse_definitions_file_text(const std::string& json, std::vector<PipelineDefinition>* out,
                                 std::vector<std::string>* entry_errors, std::string* error);
bool load_definitions_file(const std::string& path, std::vector<PipelineDefinition>* out,
                           std::vector<std::string>* entry_errors, std::string* error);

}  // namespace relais::server
