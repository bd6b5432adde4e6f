#include "redis_uri.h"

#include <glib.h>

#include <charconv>

#include "glib_handles.h"
#include "redact.h"

namespace relais::store {
namespace {

bool parse_int(const std::string& s, int min, int max, int* out) {
  if (s.empty()) return false;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

Status invalid(const std::string& uri, const std::string& why) {
  return {StatusCode::kInvalidArgument,
          redact_credentials("invalid Redis URI '" + uri + "': " + why) +
              " (expected redis://[:password@]host:port[/db])"};
}

}  // namespace

Status parse_redis_uri(const std::string& uri, RedisEndpoint* out) {
  GError* error = nullptr;
  GUriPtr parsed(g_uri_parse(uri.c_str(), G_URI_FLAGS_HAS_PASSWORD, &error));
  if (!parsed) {
    std::string why = error ? error->message : "not a URI";
    g_clear_error(&error);
    return invalid(uri, why);
  }
  if (g_strcmp0(g_uri_get_scheme(parsed.get()), "redis") != 0)
    return invalid(uri, "scheme is not redis");
  const char* host = g_uri_get_host(parsed.get());
  if (!host || !*host) return invalid(uri, "no host");
  RedisEndpoint ep;
  ep.host = host;
  int port = g_uri_get_port(parsed.get());
  if (port > 0) ep.port = port;
  if (port == 0) return invalid(uri, "port 0");
  if (const char* user = g_uri_get_user(parsed.get())) ep.username = user;
  if (const char* pass = g_uri_get_password(parsed.get())) ep.password = pass;
  std::string path = g_uri_get_path(parsed.get());
  if (!path.empty() && path != "/") {
    if (!parse_int(path.substr(1), 0, 15, &ep.db)) return invalid(uri, "database must be 0-15");
  }
  if (g_uri_get_query(parsed.get()) || g_uri_get_fragment(parsed.get()))
    return invalid(uri, "query and fragment are not supported");
  *out = ep;
  return Status::ok();
}

}  // namespace relais::store
