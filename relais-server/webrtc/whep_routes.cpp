#include "whep_routes.h"

#include <glib.h>

#include <algorithm>
#include <cstdio>

#include "redirect_token.h"
#include "store.h"

namespace relais::webrtc {
namespace {

std::vector<std::string> split_path(const std::string& rest) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    parts.push_back(rest.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();  // trailing slash
  return parts;
}

// The media type without parameters, lower case.
std::string media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  t.erase(std::remove_if(t.begin(), t.end(), [](unsigned char c) { return g_ascii_isspace(c); }),
          t.end());
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return g_ascii_tolower(c); });
  return t;
}

// Compares a presented token with the expected one in a time that does not
// depend on where they first differ.
bool same_secret(const std::string& given, const std::string& expected) {
  if (expected.empty()) return false;
  unsigned diff = given.size() != expected.size() ? 1 : 0;
  for (size_t i = 0; i < given.size(); i++)
    diff |= static_cast<unsigned char>(given[i]) ^
            static_cast<unsigned char>(expected[i % expected.size()]);
  return diff == 0;
}

bool printable(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::string shown(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80))
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

HttpResponse method_not_allowed(const std::string& allow, const std::string& what) {
  HttpResponse r = json_error(405, what);
  r.headers.emplace_back("Allow", allow);
  return r;
}

RouteResult respond(HttpResponse r) {
  RouteResult out;
  out.response = std::move(r);
  return out;
}

}  // namespace

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void add_cors_headers(HttpResponse* r) {
  r->headers.emplace_back("Access-Control-Allow-Origin", "*");
  r->headers.emplace_back("Access-Control-Expose-Headers",
                          "Location, ETag, Link, Accept-Post, Accept-Patch");
}

HttpResponse json_error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = "{\"message\": \"" + json_escape(message) + "\"}\n";
  add_cors_headers(&r);
  return r;
}

std::string session_location(const std::string& stream, const std::string& session) {
  return kWhepPrefix + stream + "/" + session;
}

HttpResponse created_response(const std::string& answer_sdp, const std::string& location,
                              const std::string& etag, const std::vector<IceServer>& ice_servers) {
  HttpResponse r;
  r.status = 201;
  r.content_type = kSdpType;
  r.body = answer_sdp;
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Accept-Patch", kTrickleType);
  for (const IceServer& s : ice_servers) r.headers.emplace_back("Link", s.link_value());
  add_cors_headers(&r);
  return r;
}

RouteResult route_whep_request(const HttpRequest& req, const RouteConfig& config) {
  const std::string prefix = kWhepPrefix;
  if (req.path.compare(0, prefix.size(), prefix) != 0)
    return respond(json_error(404, "WHEP endpoints are under /whep/{stream}"));
  std::vector<std::string> parts = split_path(req.path.substr(prefix.size()));
  if (parts.size() > 2 || parts[0].empty())
    return respond(json_error(
        404,
        "no WHEP endpoint at '" + shown(req.path) +
            "': use /whep/{stream}, where a stream name is 1-64 characters of a-z, 0-9, _ and -"));
  const std::string& stream = parts[0];
  if (!printable(stream) || !relais::store::is_valid_stream_name(stream))
    return respond(json_error(400, "invalid stream name '" + shown(stream) +
                                       "': use 1-64 characters of a-z, 0-9, _ and -"));
  const bool is_session = parts.size() == 2;
  if (is_session && (parts[1].empty() || parts[1].size() > 64 || !printable(parts[1])))
    return respond(json_error(404, "no such WHEP session"));

  if (req.method == "OPTIONS") {
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    add_cors_headers(&r);
    r.headers.emplace_back("Access-Control-Allow-Methods",
                           is_session ? "PATCH, DELETE, OPTIONS" : "POST, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    if (is_session)
      r.headers.emplace_back("Accept-Patch", kTrickleType);
    else
      r.headers.emplace_back("Accept-Post", kSdpType);
    for (const IceServer& s : config.ice_servers) r.headers.emplace_back("Link", s.link_value());
    return respond(std::move(r));
  }

  const bool known_method = req.method == "POST" || req.method == "PATCH" || req.method == "DELETE";
  if (!known_method || (is_session && req.method == "POST") ||
      (!is_session && req.method != "POST"))
    return respond(method_not_allowed(
        is_session ? "PATCH, DELETE, OPTIONS" : "POST, OPTIONS",
        req.method + " is not allowed on " + (is_session ? "a WHEP session" : "a WHEP endpoint")));

  if (!config.viewer_token.empty()) {
    std::string auth = req.header("authorization");
    const std::string bearer = "Bearer ";
    // A viewer redirected by a full node brings that node's token in the query
    // (its browser dropped Authorization on the cross-origin redirect).
    bool ok =
        (auth.size() > bearer.size() && g_ascii_strncasecmp(auth.c_str(), "bearer ", 7) == 0 &&
         same_secret(auth.substr(bearer.size()), config.viewer_token)) ||
        (req.method == "POST" &&
         check_redirect_token(config.viewer_token, stream, redirect_token_in_query(req.query),
                              g_get_real_time() / G_USEC_PER_SEC));
    if (!ok) {
      HttpResponse r =
          json_error(401, "this server needs a viewer token: send 'Authorization: Bearer <token>'");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"relais\"");
      return respond(std::move(r));
    }
  }

  if (req.body.size() > config.max_body_bytes)
    return respond(json_error(413, "the body has " + std::to_string(req.body.size()) +
                                       " bytes; at most " + std::to_string(config.max_body_bytes) +
                                       " are accepted"));

  RouteResult out;
  out.stream = stream;
  if (req.method == "POST") {
    if (media_type(req.header("content-type")) != kSdpType)
      return respond(json_error(415, "a WHEP offer must be sent as Content-Type: application/sdp"));
    if (req.body.empty()) return respond(json_error(400, "the SDP offer is empty"));
    out.action = WhepAction::kOffer;
    return out;
  }
  out.session = parts[1];
  if (req.method == "PATCH") {
    if (media_type(req.header("content-type")) != kTrickleType)
      return respond(json_error(
          415, "trickle ICE must be sent as Content-Type: application/trickle-ice-sdpfrag"));
    out.action = WhepAction::kTrickle;
    return out;
  }
  out.action = WhepAction::kDelete;
  return out;
}

}  // namespace relais::webrtc
