#include "redirect_token.h"

#include <glib.h>

#include <charconv>

#include "glib_handles.h"

namespace relais::webrtc {
namespace {

std::string signature(const std::string& key, const std::string& stream, int64_t expires) {
  const std::string data = stream + "\n" + std::to_string(expires);
  GCharPtr hex(g_compute_hmac_for_data(G_CHECKSUM_SHA256,
                                       reinterpret_cast<const guchar*>(key.data()), key.size(),
                                       reinterpret_cast<const guchar*>(data.data()), data.size()));
  return hex.get();
}

}  // namespace

std::string make_redirect_token(const std::string& key, const std::string& stream,
                                int64_t expires_unix_s) {
  return std::to_string(expires_unix_s) + "." + signature(key, stream, expires_unix_s);
}

bool check_redirect_token(const std::string& key, const std::string& stream,
                          const std::string& token, int64_t now_unix_s) {
  if (key.empty()) return false;
  const size_t dot = token.find('.');
  if (dot == std::string::npos) return false;
  int64_t expires = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + dot, expires);
  if (ec != std::errc() || end != token.data() + dot || expires < now_unix_s) return false;
  const std::string expected = signature(key, stream, expires);
  const std::string given = token.substr(dot + 1);
  if (given.size() != expected.size()) return false;
  unsigned diff = 0;  // compared in constant time
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(expected[i]);
  return diff == 0;
}

std::string redirect_token_in_query(const std::string& query) {
  const std::string prefix = std::string(kRedirectTokenParam) + "=";
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    if (query.compare(pos, prefix.size(), prefix) == 0)
      return query.substr(pos + prefix.size(), end - pos - prefix.size());
    pos = end + 1;
  }
  return "";
}

}  // namespace relais::webrtc
