#include "json_handles.h"

#include "glib_handles.h"

namespace relais::server {

std::string to_json(JsonBuilder* builder) {
  JsonNode* root = json_builder_get_root(builder);
  JsonGenerator* gen = json_generator_new();
  json_generator_set_root(gen, root);
  GCharPtr text(json_generator_to_data(gen, nullptr));
  g_object_unref(gen);
  json_node_unref(root);
  return text.get();
}

void add_string_member(JsonBuilder* b, const char* name, const std::string& value,
                       bool null_if_empty) {
  json_builder_set_member_name(b, name);
  if (null_if_empty && value.empty()) {
    json_builder_add_null_value(b);
    return;
  }
  GCharPtr valid(g_utf8_make_valid(value.c_str(), static_cast<gssize>(value.size())));
  json_builder_add_string_value(b, valid.get());
}

void add_int_member(JsonBuilder* b, const char* name, int64_t value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

std::string error_json(const std::string& message) {
  JsonBuilderPtr b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "message");
  // json-glib needs valid UTF-8; replace anything else.
  GCharPtr valid(g_utf8_make_valid(message.c_str(), static_cast<gssize>(message.size())));
  json_builder_add_string_value(b.get(), valid.get());
  json_builder_end_object(b.get());
  return to_json(b.get());
}

}  // namespace relais::server
