#include "store_settings.h"

namespace relais {

bool open_store_for_element(GstElement* element, const std::string& uri, const std::string& stream,
                            std::shared_ptr<store::Store>* out) {
  if (!store::is_valid_stream_name(stream)) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Invalid stream name '%s'.", stream.c_str()),
                      ("Set the 'stream' property to 1-64 characters of a-z, 0-9, _ and -."));
    return false;
  }
  store::Status st = store::open_store(uri, out);
  if (st.is_ok()) return true;
  switch (st.code()) {
    case store::StatusCode::kUnavailable:
      GST_ELEMENT_ERROR(element, RESOURCE, OPEN_READ_WRITE,
                        ("Could not reach the frame store at '%s'.", uri.c_str()),
                        ("%s", st.message().c_str()));
      break;
    default:
      GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Invalid frame store URI '%s'.", uri.c_str()),
                        ("%s", st.message().c_str()));
      break;
  }
  return false;
}

void post_store_status(GstElement* element, const char* status, const std::string& stream,
                       const std::string& uri, const std::string& reason) {
  GstStructure* s = gst_structure_new(
      "relais-store", "status", G_TYPE_STRING, status, "stream", G_TYPE_STRING, stream.c_str(),
      "store", G_TYPE_STRING, uri.c_str(), "reason", G_TYPE_STRING, reason.c_str(), nullptr);
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
}

}  // namespace relais
