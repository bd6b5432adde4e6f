#include "json_message.h"

#include <json-glib/json-glib.h>

namespace relais::test {

std::string json_message(const std::string& body) {
  JsonParser* p = json_parser_new();
  std::string msg;
  if (json_parser_load_from_data(p, body.c_str(), -1, nullptr)) {
    JsonNode* root = json_parser_get_root(p);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
      JsonObject* o = json_node_get_object(root);
      if (json_object_has_member(o, "message")) msg = json_object_get_string_member(o, "message");
    }
  }
  g_object_unref(p);
  return msg;
}

}  // namespace relais::test
