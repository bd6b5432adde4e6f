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

// Posts an element message "relais-store" with status, stream, store and reason.
void post_store_status(GstElement* element, const char* status, const std::string& stream,
                       const std::string& uri, const std::string& reason);

}  // namespace relais
