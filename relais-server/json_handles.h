// Owning handles and small helpers for json-glib.
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <memory>
#include <string>

namespace relais::server {

struct GObjectDeleter {
  void operator()(gpointer p) const { g_object_unref(p); }
};
using JsonParserPtr = std::unique_ptr<JsonParser, GObjectDeleter>;
using JsonBuilderPtr = std::unique_ptr<JsonBuilder, GObjectDeleter>;

// Serialises the builder's root (compact, UTF-8).
std::string to_json(JsonBuilder* builder);

// One object member: a string (made valid UTF-8; empty with null_if_empty
// gives null) or an integer.
void add_string_member(JsonBuilder* b, const char* name, const std::string& value,
                       bool null_if_empty = false);
void add_int_member(JsonBuilder* b, const char* name, int64_t value);

// {"message": "..."}: the body of every error response.
std::string error_json(const std::string& message);

}  // namespace relais::server
