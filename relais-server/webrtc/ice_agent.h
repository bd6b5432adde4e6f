// Settings of webrtcbin's ICE agent (libnice) that every webrtcbin Relais creates
// gets: the server's viewers, the test peers and the bench clients alike.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "ice_servers.h"  // parse_list for the list settings

namespace relais::webrtc {

// What a deployment tells the server's ICE agents (RELAIS_ICE_*).
struct IceSettings {
  unsigned min_port = 0;  // UDP ports to gather on; 0/0: any
  unsigned max_port = 0;
  // Interfaces (names such as "lo", "eth0") or IP addresses to gather on; empty: all
  // that libnice finds (which never includes loopback).
  std::vector<std::string> interfaces;
  // Addresses advertised as extra host candidates (a server behind 1:1 NAT).
  std::vector<std::string> public_ips;
  bool tcp = true;  // ICE-TCP candidates
};

// "min-max" with 1 <= min <= max <= 65535.
bool parse_port_range(const std::string& text, unsigned* min_port, unsigned* max_port,
                      std::string* error);
// "on"/"off" (also true/false, 1/0, yes/no).
bool parse_switch(const std::string& text, bool* on);
// Every entry of `public_ips` must be an IP literal.
bool valid_ip_list(const std::vector<std::string>& ips, std::string* error);

// The IPv4/IPv6 addresses an interface list stands for: a name gives that
// interface's addresses, an IP literal itself. False (and why) when a name is
// not an interface of this machine.
bool resolve_interfaces(const std::vector<std::string>& interfaces,
                        std::vector<std::string>* addresses, std::string* error);

// Configures the webrtcbin's agent: always UPnP-IGD off (libnice's default
// would send SSDP multicast out of every interface for each session), then the
// settings. Call right after creating the webrtcbin, before it gathers.
// Returns false (and why) when a setting cannot be applied.
bool configure_ice_agent(GstElement* webrtcbin, const IceSettings& settings = {},
                         std::string* error = nullptr);

// Whether UPnP is enabled on the webrtcbin's libnice agent (for tests).
bool ice_agent_upnp_enabled(GstElement* webrtcbin);

// For a host candidate line ("candidate:..." as webrtcbin gives it), the same
// candidate at each public address of the same family (foundation and priority
// adjusted so they are distinct); other candidates and active ICE-TCP ones
// give nothing.
std::vector<std::string> public_copies_of_candidate(const std::string& candidate,
                                                    const std::vector<std::string>& public_ips);

}  // namespace relais::webrtc
