// Owning handles and small helpers for json-glib.
#pragma once

#include <json-glib/json-glib.h>

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

// {"message": "..."}: the body of every error response.
std::string error_json(const std::string& message);

}  // namespace relais::server
