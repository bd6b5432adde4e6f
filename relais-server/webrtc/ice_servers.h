// STUN/TURN servers from RELAIS_ICE_SERVERS ("stun:host:port",
// "turn:user:pass@host:port", comma-separated): what webrtcbin is given and
// what viewers are told in WHEP `Link` headers.
#pragma once

#include <string>
#include <vector>

namespace relais::webrtc {

struct IceServer {
  std::string scheme;  // "stun", "turn" or "turns"
  std::string host_port;
  std::string query;  // e.g. "transport=tcp", without '?'
  std::string username;
  std::string credential;

  // "stun://host:port" / "turn://user:pass@host:port" for webrtcbin.
  std::string webrtcbin_uri() const;
  // `<turn:host:port>; rel="ice-server"; username=...` (RFC 8288 link value).
  std::string link_value() const;
};

// The entries of a comma-separated setting, trimmed, blank ones dropped.
std::vector<std::string> parse_list(const std::string& text);

// Parses a comma-separated list; on a bad entry returns false and says why.
bool parse_ice_servers(const std::string& list, std::vector<IceServer>* out, std::string* error);

}  // namespace relais::webrtc
