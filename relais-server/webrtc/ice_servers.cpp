#include "ice_servers.h"

#include <glib.h>

#include <algorithm>
#include <sstream>

namespace relais::webrtc {
namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string escape_userinfo(const std::string& s) {
  char* e = g_uri_escape_string(s.c_str(), nullptr, FALSE);
  std::string out = e;
  g_free(e);
  return out;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool safe_chars(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](unsigned char c) {
    return c < 0x21 || c == 0x7f || c == '<' || c == '>' || c == ',';
  });
}

}  // namespace

std::string IceServer::webrtcbin_uri() const {
  std::string uri = scheme + "://";
  if (!username.empty() || !credential.empty())
    uri += escape_userinfo(username) + ":" + escape_userinfo(credential) + "@";
  uri += host_port;
  if (!query.empty()) uri += "?" + query;
  return uri;
}

std::string IceServer::link_value() const {
  std::string v =
      "<" + scheme + ":" + host_port + (query.empty() ? "" : "?" + query) + ">; rel=\"ice-server\"";
  if (scheme != "stun")
    v += "; username=" + quoted(username) + "; credential=" + quoted(credential) +
         "; credential-type=\"password\"";
  return v;
}

std::vector<std::string> parse_list(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool parse_ice_servers(const std::string& list, std::vector<IceServer>* out, std::string* error) {
  out->clear();
  for (const std::string& item : parse_list(list)) {
    IceServer s;
    auto colon = item.find(':');
    if (colon == std::string::npos) {
      *error = "ICE server '" + item +
               "' has no scheme (use stun:host:port or turn:user:pass@host:port)";
      return false;
    }
    s.scheme = item.substr(0, colon);
    std::transform(s.scheme.begin(), s.scheme.end(), s.scheme.begin(),
                   [](unsigned char c) { return g_ascii_tolower(c); });
    if (s.scheme != "stun" && s.scheme != "turn" && s.scheme != "turns") {
      *error = "ICE server '" + item + "': scheme must be stun, turn or turns";
      return false;
    }
    std::string rest = item.substr(colon + 1);
    if (rest.compare(0, 2, "//") == 0) rest.erase(0, 2);
    auto q = rest.find('?');
    if (q != std::string::npos) {
      s.query = rest.substr(q + 1);
      rest.erase(q);
    }
    auto at = rest.rfind('@');
    if (at != std::string::npos) {
      std::string userinfo = rest.substr(0, at);
      rest.erase(0, at + 1);
      auto c = userinfo.find(':');
      s.username = userinfo.substr(0, c);
      s.credential = c == std::string::npos ? "" : userinfo.substr(c + 1);
    }
    s.host_port = rest;
    if (s.host_port.empty() || !safe_chars(s.host_port) || !safe_chars(s.query)) {
      *error = "ICE server '" + item + "' has no valid host[:port]";
      return false;
    }
    if (s.scheme != "stun" && s.username.empty()) {
      *error = "TURN server '" + s.host_port + "' needs credentials: turn:user:pass@host:port";
      return false;
    }
    out->push_back(std::move(s));
  }
  return true;
}

}  // namespace relais::webrtc
