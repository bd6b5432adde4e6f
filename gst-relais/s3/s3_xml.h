// The little XML S3 speaks to Relais: reading one element's text out of a
// response (UploadId, Error/Code, ...) and escaping text for a request body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relais::s3 {

// Text of the first <tag>...</tag> (or <tag attr=...>) in `doc`, with the five
// predefined entities and numeric references decoded. nullopt when absent.
std::optional<std::string> xml_text(std::string_view doc, std::string_view tag);
// Escapes & < > " ' for element text.
std::string xml_escape(std::string_view text);

}  // namespace relais::s3
