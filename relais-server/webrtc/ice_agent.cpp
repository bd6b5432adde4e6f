#include "ice_agent.h"

namespace relais::webrtc {
namespace {

// webrtcbin's "ice-agent" is a GstWebRTCNice whose "agent" is the NiceAgent.
GObject* nice_agent_of(GstElement* webrtcbin) {
  GObject* ice = nullptr;
  g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
  if (!ice) return nullptr;
  GObject* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
    g_object_get(ice, "agent", &agent, nullptr);
  g_object_unref(ice);
  if (agent && !g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp")) {
    g_object_unref(agent);
    return nullptr;
  }
  return agent;  // owned by the caller
}

}  // namespace

bool configure_ice_agent(GstElement* webrtcbin) {
  GObject* agent = nice_agent_of(webrtcbin);
  if (!agent) return false;
  g_object_set(agent, "upnp", FALSE, nullptr);
  g_object_unref(agent);
  return true;
}

bool ice_agent_upnp_enabled(GstElement* webrtcbin) {
  GObject* agent = nice_agent_of(webrtcbin);
  if (!agent) return false;
  gboolean upnp = FALSE;
  g_object_get(agent, "upnp", &upnp, nullptr);
  g_object_unref(agent);
  return upnp;
}

}  // namespace relais::webrtc
