#include "ssdp_listener.h"

#include <cstring>

namespace relais::webrtc::test {

SsdpListener::SsdpListener() {
  GError* err = nullptr;
  socket_ = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
  GInetAddress* any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
  GSocketAddress* bind_to = g_inet_socket_address_new(any, 1900);
  GInetAddress* group = g_inet_address_new_from_string("239.255.255.250");
  bool ok = socket_ && g_socket_bind(socket_, bind_to, TRUE, &err) &&
            g_socket_join_multicast_group(socket_, group, FALSE, nullptr, &err);
  g_object_unref(group);
  g_object_unref(bind_to);
  g_object_unref(any);
  if (!ok) {
    error_ = err ? err->message : "could not open the SSDP socket";
    g_clear_error(&err);
    g_clear_object(&socket_);
    return;
  }
  g_socket_set_blocking(socket_, FALSE);
}

SsdpListener::~SsdpListener() {
  g_clear_object(&socket_);
}

int SsdpListener::m_searches_seen() {
  if (!socket_) return 0;
  char buf[2048];
  for (;;) {
    gssize n = g_socket_receive(socket_, buf, sizeof buf - 1, nullptr, nullptr);
    if (n <= 0) break;
    buf[n] = '\0';
    if (strncmp(buf, "M-SEARCH", 8) == 0) ++m_searches_;
  }
  return m_searches_;
}

}  // namespace relais::webrtc::test
