// Settings of webrtcbin's ICE agent (libnice) that every webrtcbin Relais creates
// gets: the server's viewers, the test peers and the bench clients alike.
#pragma once

#include <gst/gst.h>

namespace relais::webrtc {

// Turns off what libnice does by default that a media server must not: UPnP-IGD
// port mapping, which sends SSDP multicast out of every interface for each
// session. Call right after creating the webrtcbin, before it gathers.
// Returns false when the element has no libnice agent to configure.
bool configure_ice_agent(GstElement* webrtcbin);

// Whether UPnP is enabled on the webrtcbin's libnice agent (for tests).
bool ice_agent_upnp_enabled(GstElement* webrtcbin);

}  // namespace relais::webrtc
