// WHEP request routing without transport or media: turns an HttpRequest on
// /whep/... into either an immediate answer (CORS preflight, 4xx) or an action
// for the service (offer, trickle, delete), and builds WHEP responses.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "http_exchange.h"
#include "ice_servers.h"

namespace relais::webrtc {

using relais::server::HttpRequest;
using relais::server::HttpResponse;

inline constexpr char kWhepPrefix[] = "/whep/";
inline constexpr char kSdpType[] = "application/sdp";
inline constexpr char kTrickleType[] = "application/trickle-ice-sdpfrag";

struct RouteConfig {
  std::string viewer_token;  // empty: viewing is open
  size_t max_body_bytes = 64 * 1024;
  std::vector<IceServer> ice_servers;
};

enum class WhepAction { kRespond, kOffer, kTrickle, kDelete };

struct RouteResult {
  WhepAction action = WhepAction::kRespond;
  HttpResponse response;  // for kRespond
  std::string stream;
  std::string session;
};

RouteResult route_whep_request(const HttpRequest& request, const RouteConfig& config);

// `{"error": message}` with `status`, and CORS headers.
HttpResponse json_error(int status, const std::string& message);
// Adds the CORS headers every WHEP answer carries.
void add_cors_headers(HttpResponse* response);
// 201 Created with the answer, Location, ETag and the ICE servers as Link headers.
HttpResponse created_response(const std::string& answer_sdp, const std::string& location,
                              const std::string& etag, const std::vector<IceServer>& ice_servers);
// Location of a session: /whep/{stream}/{session}.
std::string session_location(const std::string& stream, const std::string& session);

std::string json_escape(const std::string& s);

}  // namespace relais::webrtc
