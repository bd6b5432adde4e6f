#include "store_settings.h"

#include "redact.h"

namespace relais {
namespace {
constexpr auto kReadyOnly =
    static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
}

GParamSpec* store_uri_param_spec() {
  return g_param_spec_string("store", "Store",
                             "Frame store URI: memory:// or redis://[:password@]host:port[/db]. "
                             "Unset: taken from RELAIS_STORAGE_TYPE/RELAIS_STORAGE_REDIS_URL, "
                             "else memory://",
                             nullptr, kReadyOnly);
}

GParamSpec* stream_name_param_spec() {
  return g_param_spec_string(
      "stream", "Stream", "Stream name: 1-64 characters of a-z, 0-9, _ and -", nullptr, kReadyOnly);
}

bool refuse_change_while_running(GstElement* element, const GParamSpec* pspec,
                                 GstDebugCategory* category) {
  if (GST_STATE(element) <= GST_STATE_READY) return false;
  GST_CAT_WARNING_OBJECT(category, element,
                         "property '%s' can only be changed in NULL or READY state", pspec->name);
  return true;
}

bool open_store_for_element(GstElement* element, const std::string& uri, const std::string& stream,
                            std::shared_ptr<store::Store>* out) {
  if (!store::is_valid_stream_name(stream)) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Invalid stream name '%s'.", stream.c_str()),
                      ("Set the 'stream' property to 1-64 characters of a-z, 0-9, _ and -."));
    return false;
  }
  store::Status st = store::open_store(uri, out);
  if (st.is_ok()) return true;
  const std::string shown = redact_credentials(uri);
  switch (st.code()) {
    case store::StatusCode::kUnavailable:
      GST_ELEMENT_ERROR(element, RESOURCE, OPEN_READ_WRITE,
                        ("Could not reach the frame store at '%s'.", shown.c_str()),
                        ("%s", st.message().c_str()));
      break;
    default:
      GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS,
                        ("Invalid frame store URI '%s'.", shown.c_str()),
                        ("%s", st.message().c_str()));
      break;
  }
  return false;
}

void post_store_status(GstElement* element, const char* status, const std::string& stream,
                       const std::string& uri, const std::string& reason) {
  GstStructure* s =
      gst_structure_new("relais-store", "status", G_TYPE_STRING, status, "stream", G_TYPE_STRING,
                        stream.c_str(), "store", G_TYPE_STRING, redact_credentials(uri).c_str(),
                        "reason", G_TYPE_STRING, redact_credentials(reason).c_str(), nullptr);
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
}

}  // namespace relais
