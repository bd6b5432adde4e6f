#include "pipeline_definition.h"

#include <set>

#include "glib_handles.h"
#include "json_handles.h"

namespace relais::server {

const char* restart_policy_name(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return "always";
    case RestartPolicy::kOnFailure:
      return "on-failure";
    case RestartPolicy::kNever:
      return "never";
  }
  return "always";
}

std::optional<RestartPolicy> parse_restart_policy(const std::string& text) {
  if (text == "always") return RestartPolicy::kAlways;
  if (text == "on-failure") return RestartPolicy::kOnFailure;
  if (text == "never") return RestartPolicy::kNever;
  return std::nullopt;
}

bool is_valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

bool string_member(JsonObject* obj, const char* key, std::string* out, std::string* error) {
  JsonNode* node = json_object_get_member(obj, key);
  if (!node) return true;
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
    *error = std::string("'") + key + "' must be a string";
    return false;
  }
  *out = json_node_get_string(node);
  return true;
}

// json-glib hands strings out as C strings: an escaped NUL would silently cut
// a name short ("a\u0000b" would become "a"), so refuse NULs outright (this
// also refuses the rare legitimate text "\\u0000", which no definition needs).
bool has_nul(const std::string& json, std::string* error) {
  if (json.find('\0') != std::string::npos || json.find("\\u0000") != std::string::npos) {
    *error = "malformed JSON: NUL characters are not allowed";
    return true;
  }
  return false;
}

}  // namespace

bool definition_from_json(JsonNode* node, PipelineDefinition* out, std::string* error) {
  if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
    *error = "a pipeline definition must be a JSON object with name, launch and restart";
    return false;
  }
  JsonObject* obj = json_node_get_object(node);
  static const std::set<std::string> known = {"name", "launch", "restart"};
  JsonObjectIter iter;
  const gchar* member = nullptr;
  json_object_iter_init(&iter, obj);
  while (json_object_iter_next(&iter, &member, nullptr)) {
    if (!known.count(member)) {
      *error = std::string("unknown field '") + member + "' (known: name, launch, restart)";
      return false;
    }
  }
  PipelineDefinition def;
  std::string restart = "always";
  if (!string_member(obj, "name", &def.name, error) ||
      !string_member(obj, "launch", &def.launch, error) ||
      !string_member(obj, "restart", &restart, error)) {
    return false;
  }
  if (!json_object_has_member(obj, "name")) {
    *error = "'name' is missing";
    return false;
  }
  if (!is_valid_name(def.name)) {
    *error = "name '" + def.name + "' is not 1-64 characters of a-z, 0-9, _ and -";
    // Never echo control characters back.
    for (char& c : *error) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return false;
  }
  if (!json_object_has_member(obj, "launch") || def.launch.empty()) {
    *error = "'launch' (a gst-launch description) is missing or empty";
    return false;
  }
  auto policy = parse_restart_policy(restart);
  if (!policy) {
    *error = "restart '" + restart + "' is not always, on-failure or never";
    return false;
  }
  def.restart = *policy;
  *out = std::move(def);
  return true;
}

bool parse_definition(const std::string& json, PipelineDefinition* out, std::string* error) {
  if (has_nul(json, error)) return false;
  JsonParserPtr parser(json_parser_new());
  GError* raw = nullptr;
  if (!json_parser_load_from_data(parser.get(), json.data(), static_cast<gssize>(json.size()),
                                  &raw)) {
    GErrorPtr err(raw);
    *error = std::string("malformed JSON: ") + err->message;
    return false;
  }
  return definition_from_json(json_parser_get_root(parser.get()), out, error);
}

std::string definition_to_json(const PipelineDefinition& definition) {
  JsonBuilderPtr b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "name");
  json_builder_add_string_value(b.get(), definition.name.c_str());
  json_builder_set_member_name(b.get(), "launch");
  json_builder_add_string_value(b.get(), definition.launch.c_str());
  json_builder_set_member_name(b.get(), "restart");
  json_builder_add_string_value(b.get(), restart_policy_name(definition.restart));
  json_builder_end_object(b.get());
  return to_json(b.get());
}

bool parse_definitions_file_text(const std::string& json, std::vector<PipelineDefinition>* out,
                                 std::vector<std::string>* entry_errors, std::string* error) {
  if (has_nul(json, error)) return false;
  JsonParserPtr parser(json_parser_new());
  GError* raw = nullptr;
  if (!json_parser_load_from_data(parser.get(), json.data(), static_cast<gssize>(json.size()),
                                  &raw)) {
    GErrorPtr err(raw);
    *error = std::string("malformed JSON: ") + err->message;
    return false;
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    *error = "expected an object {\"pipelines\": [...]}";
    return false;
  }
  JsonNode* list = json_object_get_member(json_node_get_object(root), "pipelines");
  if (!list || !JSON_NODE_HOLDS_ARRAY(list)) {
    *error = "expected \"pipelines\" to be an array of definitions";
    return false;
  }
  JsonArray* array = json_node_get_array(list);
  std::set<std::string> seen;
  for (guint i = 0; i < json_array_get_length(array); ++i) {
    PipelineDefinition def;
    std::string why;
    if (!definition_from_json(json_array_get_element(array, i), &def, &why)) {
      entry_errors->push_back("pipelines[" + std::to_string(i) + "]: " + why);
      continue;
    }
    if (!seen.insert(def.name).second) {
      entry_errors->push_back("pipelines[" + std::to_string(i) + "]: name '" + def.name +
                              "' is used twice; the first definition is kept");
      continue;
    }
    out->push_back(std::move(def));
  }
  return true;
}

bool load_definitions_file(const std::string& path, std::vector<PipelineDefinition>* out,
                           std::vector<std::string>* entry_errors, std::string* error) {
  gchar* contents = nullptr;
  gsize length = 0;
  GError* raw = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &raw)) {
    GErrorPtr err(raw);
    *error = std::string("cannot read pipelines file: ") + err->message;
    return false;
  }
  GCharPtr owned(contents);
  if (!parse_definitions_file_text(std::string(contents, length), out, entry_errors, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

}  // namespace relais::server
