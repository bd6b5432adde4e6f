#include "auth.h"

#include <glib.h>

#include <array>

#include "json_handles.h"

namespace relais::server {
namespace {

std::array<guint8, 32> sha256(const std::string& text) {
  std::array<guint8, 32> digest{};
  GChecksum* sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, reinterpret_cast<const guchar*>(text.data()),
                    static_cast<gssize>(text.size()));
  gsize len = digest.size();
  g_checksum_get_digest(sum, digest.data(), &len);
  g_checksum_free(sum);
  return digest;
}

HttpResponse refusal(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = error_json(message);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"relais\"");
  return r;
}

}  // namespace

bool constant_time_equals(const std::string& a, const std::string& b) {
  // Comparing fixed-size digests hides the lengths as well as the contents.
  auto da = sha256(a);
  auto db = sha256(b);
  guint8 diff = 0;
  for (size_t i = 0; i < da.size(); ++i) diff |= da[i] ^ db[i];
  return diff == 0;
}

std::string bearer_token(const HttpRequest& request) {
  std::string value = request.header("authorization");
  constexpr const char kScheme[] = "bearer ";
  if (value.size() <= sizeof(kScheme) - 1 ||
      g_ascii_strncasecmp(value.c_str(), kScheme, sizeof(kScheme) - 1) != 0) {
    return {};
  }
  std::string token = value.substr(sizeof(kScheme) - 1);
  size_t first = token.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  size_t last = token.find_last_not_of(' ');
  return token.substr(first, last - first + 1);
}

std::optional<HttpResponse> check_admin(const HttpRequest& request, const std::string& api_token) {
  if (api_token.empty()) {
    if (request.from_loopback) return std::nullopt;
    return refusal(403,
                   "the admin API answers only to loopback clients while no API token is "
                   "configured; set RELAIS_API_TOKEN to allow remote administration");
  }
  std::string token = bearer_token(request);
  if (token.empty()) {
    return refusal(401, "this endpoint needs 'Authorization: Bearer <RELAIS_API_TOKEN>'");
  }
  if (!constant_time_equals(token, api_token)) return refusal(403, "the API token is wrong");
  return std::nullopt;
}

}  // namespace relais::server
