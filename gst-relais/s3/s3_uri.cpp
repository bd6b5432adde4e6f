#include "s3_uri.h"

namespace relais::s3 {

bool parse_s3_uri(std::string_view uri, std::string* bucket, std::string* key, std::string* error) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.size() < kScheme.size() || uri.substr(0, kScheme.size()) != kScheme) {
    *error = "'" + std::string(uri) + "' is not an S3 URI: expected s3://bucket/key";
    return false;
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == 0 || rest.empty()) {
    *error = "'" + std::string(uri) + "' has no bucket: expected s3://bucket/key";
    return false;
  }
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    *error = "'" + std::string(uri) + "' has no object key: expected s3://bucket/key";
    return false;
  }
  *bucket = rest.substr(0, slash);
  *key = rest.substr(slash + 1);
  return true;
}

std::string make_s3_uri(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

}  // namespace relais::s3
