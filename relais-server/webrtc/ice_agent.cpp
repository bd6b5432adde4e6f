#include "ice_agent.h"

#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <nice/agent.h>

#include <charconv>
#include <sstream>

namespace relais::webrtc {
namespace {

// webrtcbin's "ice-agent" is a GstWebRTCNice; its "agent" is the NiceAgent.
GObject* ice_of(GstElement* webrtcbin) {
  GObject* ice = nullptr;
  g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
  return ice;  // owned by the caller
}

NiceAgent* nice_agent_of(GObject* ice) {
  if (!ice || !g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) return nullptr;
  GObject* agent = nullptr;
  g_object_get(ice, "agent", &agent, nullptr);
  if (agent && !NICE_IS_AGENT(agent)) g_clear_object(&agent);
  return reinterpret_cast<NiceAgent*>(agent);  // owned by the caller
}

bool parse_unsigned(const std::string& text, unsigned* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool is_ip(const std::string& text) {
  GInetAddress* a = g_inet_address_new_from_string(text.c_str());
  if (!a) return false;
  g_object_unref(a);
  return true;
}

std::string address_text(const sockaddr* sa) {
  GSocketAddress* address = g_socket_address_new_from_native(
      const_cast<sockaddr*>(sa),
      sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  if (!address) return "";
  gchar* text =
      g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
  std::string out = text ? text : "";
  g_free(text);
  g_object_unref(address);
  return out;
}

}  // namespace

bool parse_port_range(const std::string& text, unsigned* min_port, unsigned* max_port,
                      std::string* error) {
  size_t dash = text.find('-');
  unsigned lo = 0, hi = 0;
  if (dash == std::string::npos || !parse_unsigned(text.substr(0, dash), &lo) ||
      !parse_unsigned(text.substr(dash + 1), &hi) || lo < 1 || hi > 65535 || lo > hi) {
    if (error) *error = "'" + text + "' is not a port range min-max (1-65535, min <= max)";
    return false;
  }
  *min_port = lo;
  *max_port = hi;
  return true;
}

bool parse_switch(const std::string& text, bool* on) {
  if (text == "on" || text == "true" || text == "1" || text == "yes") {
    *on = true;
  } else if (text == "off" || text == "false" || text == "0" || text == "no") {
    *on = false;
  } else {
    return false;
  }
  return true;
}

bool valid_ip_list(const std::vector<std::string>& ips, std::string* error) {
  for (const auto& ip : ips) {
    if (!is_ip(ip)) {
      if (error) *error = "'" + ip + "' is not an IP address";
      return false;
    }
  }
  return true;
}

bool resolve_interfaces(const std::vector<std::string>& interfaces,
                        std::vector<std::string>* addresses, std::string* error) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) list = nullptr;
  bool ok = true;
  for (const auto& name : interfaces) {
    if (is_ip(name)) {
      addresses->push_back(name);
      continue;
    }
    size_t before = addresses->size();
    bool exists = if_nametoindex(name.c_str()) != 0;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || name != i->ifa_name) continue;
      if (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6) continue;
      std::string text = address_text(i->ifa_addr);
      // IPv6 link-local addresses need a scope that candidates cannot carry.
      if (text.empty() || text.rfind("fe80:", 0) == 0) continue;
      addresses->push_back(text);
    }
    if (!exists || addresses->size() == before) {
      if (error)
        *error = exists ? "interface '" + name + "' has no usable address"
                        : "'" + name + "' is neither an interface of this machine nor an address";
      ok = false;
      break;
    }
  }
  if (list) freeifaddrs(list);
  return ok;
}

bool configure_ice_agent(GstElement* webrtcbin, const IceSettings& settings, std::string* error) {
  GObject* ice = ice_of(webrtcbin);
  NiceAgent* agent = nice_agent_of(ice);
  if (!agent) {
    if (ice) g_object_unref(ice);
    if (error) *error = "webrtcbin has no libnice ICE agent";
    return false;
  }
  g_object_set(agent, "upnp", FALSE, nullptr);
  bool ok = true;
  if (settings.min_port != 0) {
    g_object_set(ice, "min-rtp-port", settings.min_port, "max-rtp-port", settings.max_port,
                 nullptr);
  }
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "ice-tcp"))
    g_object_set(ice, "ice-tcp", settings.tcp ? TRUE : FALSE, nullptr);
  if (!settings.interfaces.empty()) {
    std::vector<std::string> addresses;
    ok = resolve_interfaces(settings.interfaces, &addresses, error);
    for (size_t i = 0; ok && i < addresses.size(); ++i) {
      NiceAddress address;
      nice_address_init(&address);
      if (!nice_address_set_from_string(&address, addresses[i].c_str()) ||
          !nice_agent_add_local_address(agent, &address)) {
        if (error) *error = "libnice cannot gather on " + addresses[i];
        ok = false;
      }
    }
  }
  g_object_unref(agent);
  g_object_unref(ice);
  return ok;
}

bool ice_agent_upnp_enabled(GstElement* webrtcbin) {
  GObject* ice = ice_of(webrtcbin);
  NiceAgent* agent = nice_agent_of(ice);
  gboolean upnp = FALSE;
  if (agent) {
    g_object_get(agent, "upnp", &upnp, nullptr);
    g_object_unref(agent);
  }
  if (ice) g_object_unref(ice);
  return upnp;
}

std::vector<std::string> public_copies_of_candidate(const std::string& candidate,
                                                    const std::vector<std::string>& public_ips) {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ host ...
  std::vector<std::string> fields;
  std::stringstream in(candidate);
  for (std::string f; in >> f;) fields.push_back(f);
  std::vector<std::string> out;
  if (fields.size() < 8 || fields[6] != "typ" || fields[7] != "host" ||
      fields[0].rfind("candidate:", 0) != 0)
    return out;
  unsigned long long priority = 0;
  auto [end, ec] = std::from_chars(fields[3].data(), fields[3].data() + fields[3].size(), priority);
  if (ec != std::errc() || priority == 0) return out;
  // An active ICE-TCP candidate is never connected to; nothing to advertise.
  for (size_t i = 8; i + 1 < fields.size(); ++i)
    if (fields[i] == "tcptype" && fields[i + 1] == "active") return out;
  bool v6 = fields[4].find(':') != std::string::npos;
  for (size_t i = 0; i < public_ips.size(); ++i) {
    // The NAT maps an address of the same family.
    if (public_ips[i] == fields[4] || (public_ips[i].find(':') != std::string::npos) != v6)
      continue;
    std::vector<std::string> copy = fields;
    copy[0] += "p" + std::to_string(i);  // a foundation of its own: another address
    // Just below the private candidate, so a viewer that can reach both picks it.
    copy[3] = std::to_string(priority > i + 1 ? priority - i - 1 : 1);
    copy[4] = public_ips[i];
    std::string line;
    for (const auto& f : copy) line += (line.empty() ? "" : " ") + f;
    out.push_back(line);
  }
  return out;
}

}  // namespace relais::webrtc
