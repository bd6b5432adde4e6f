// An HTTP request and its answer, independent of the transport (libsoup), so
// protocol logic (API, WHEP) can be unit-tested without sockets.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace relais::server {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded path, e.g. "/whep/lobby"
  std::string query;                           // raw query string, without '?'
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote_address;
  bool from_loopback = false;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// A handler answers through the responder exactly once, possibly later, but
// always on the server's main context (hop there from other threads first).
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(const HttpRequest&, Responder)>;

// Where modules (API, WHEP, pages) register their routes.
class RouteTable {
 public:
  virtual ~RouteTable() = default;
  // Requests whose path starts with `prefix` go to `handler`; the longest
  // matching prefix wins.
  virtual void add_prefix(const std::string& prefix, HttpHandler handler) = 0;
};

}  // namespace relais::server
