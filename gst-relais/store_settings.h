// Properties shared by relaisstoresink and relaisstoresrc: where the store is
// and which stream to use.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

#include "registry.h"

namespace relais {

// Opens the store and checks the stream name, posting a GST_ELEMENT_ERROR that
// says what to fix when either is wrong. Returns false after posting.
bool open_store_for_element(GstElement* element, const std::string& uri, const std::string& stream,
                            std::shared_ptr<store::Store>* out);

// The "store" and "stream" properties, the same on both elements.
GParamSpec* store_uri_param_spec();
GParamSpec* stream_name_param_spec();

// Settings are read when the element starts: refuses (and logs) a change past
// READY that would not apply, logging in the element's category. Call with
// the object lock held.
bool refuse_change_while_running(GstElement* element, const GParamSpec* pspec,
                                 GstDebugCategory* category);

// A string property's value, empty for NULL.
inline std::string string_value(const GValue* value) {
  const char* s = g_value_get_string(value);
  return s ? s : "";
}

// Posts an element message "relais-store" with status, stream, store and reason.
void post_store_status(GstElement* element, const char* status, const std::string& stream,
                       const std::string& uri, const std::string& reason);

}  // namespace relais
