// The WHEP egress service: POST /whep/{stream} with an SDP offer answers with
// a session on the stream's shared egress pipeline; PATCH trickles the
// viewer's candidates; DELETE ends the session. Sessions whose viewer never
// connects or stops answering are reaped, and a stream's pipeline stops after
// its last viewer leaves.
//
// Threading: construct the service, call handle(), handle_page(),
// prometheus_metrics() and reap_expired() on one thread, whose thread-default
// main context must be running; responders are called there too.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http_exchange.h"
#include "ice_agent.h"
#include "ice_servers.h"

namespace relais::webrtc {

using relais::server::HttpRequest;
using relais::server::HttpResponse;
using relais::server::Responder;

struct WhepOptions {
  size_t max_sessions = 200;               // beyond this, POST answers 503
  unsigned negotiation_timeout_ms = 8000;  // offer → answer, including the stream's first caps
  unsigned ice_gather_timeout_ms = 1500;   // the answer goes out with what was gathered by then
  unsigned connect_timeout_ms = 20000;     // an answered viewer that never connects is reaped
  unsigned liveness_timeout_ms = 15000;  // a connected viewer silent (no RTCP) this long is reaped
  unsigned reap_interval_ms = 1000;
  IceSettings ice;   // RELAIS_ICE_PORT_RANGE, _INTERFACES, _PUBLIC_IPS, _TCP
  bool nack = true;  // retransmissions (NACK/RTX) for viewers whose offer allows them
  // The viewer budget (RELAIS_MAX_VIEWERS): sessions this node takes before it
  // is full, like max_sessions (0 = only max_sessions counts).
  size_t max_viewers = 0;
  // When set and this node is full (max_sessions or max_viewers), POST answers
  // 307 Temporary Redirect to what it returns (the base URL of a less loaded
  // node, e.g. "http://10.0.0.7:8080"), or 503 when it returns "".
  std::function<std::string(const std::string& stream)> redirect_when_full;
};

class WhepService {
 public:
  // `store_uri`: the frame store to read (empty: store::default_store_uri());
  // `ice_servers`: from parse_ice_servers(RELAIS_ICE_SERVERS); `viewer_token`:
  // RELAIS_VIEWER_TOKEN (empty: viewing is open); `max_body_bytes`: larger
  // offers and fragments get 413.
  WhepService(std::string store_uri, std::vector<IceServer> ice_servers, std::string viewer_token,
              size_t max_body_bytes, WhepOptions options = {});
  ~WhepService();
  WhepService(const WhepService&) = delete;
  WhepService& operator=(const WhepService&) = delete;

  // Registers /whep/ (handle) and /watch/ (handle_page). The service must
  // outlive the table's use of these routes.
  void add_routes(relais::server::RouteTable& table);
  // Requests under /whep/ (POST, PATCH, DELETE, OPTIONS). The responder is
  // called exactly once, either before handle() returns or later.
  void handle(const HttpRequest& request, Responder respond);
  // GET /watch/{stream}: the viewer page.
  void handle_page(const HttpRequest& request, Responder respond);
  // relais_whep_* metrics in Prometheus text format.
  std::string prometheus_metrics() const;
  // Ends sessions that were abandoned or went silent; returns how many.
  // Also runs on its own every reap_interval_ms.
  size_t reap_expired();

  size_t session_count() const;
  // Sessions whose viewer is connected (for load reports).
  size_t connected_count() const;
  size_t viewer_count(const std::string& stream) const;
  // True while the stream's egress pipeline runs.
  bool has_egress(const std::string& stream) const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace relais::webrtc
