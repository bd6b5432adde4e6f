// s3://bucket/key, the form users give in `uri` and `location`.
#pragma once

#include <string>
#include <string_view>

namespace relais::s3 {

// Splits s3://bucket/key. The key is everything after the bucket's slash,
// taken as written (no percent-decoding), so "rec/%05d.ts" stays literal.
// Returns false with a sentence for people in `error`.
bool parse_s3_uri(std::string_view uri, std::string* bucket, std::string* key, std::string* error);
std::string make_s3_uri(const std::string& bucket, const std::string& key);

}  // namespace relais::s3
