// Listens on the SSDP multicast group (239.255.255.250:1900) of this host's
// default interface, to prove that no WebRTC session of ours sends UPnP
// discovery off the machine (the host receives its own multicast).
#pragma once

#include <gio/gio.h>

#include <string>

namespace relais::webrtc::test {

class SsdpListener {
 public:
  SsdpListener();
  ~SsdpListener();
  SsdpListener(const SsdpListener&) = delete;
  SsdpListener& operator=(const SsdpListener&) = delete;

  bool listening() const { return socket_ != nullptr; }
  const std::string& error() const { return error_; }
  // Reads whatever has arrived without blocking; returns the number of
  // M-SEARCH requests seen since the listener started.
  int m_searches_seen();

 private:
  GSocket* socket_ = nullptr;
  std::string error_;
  int m_searches_ = 0;
};

}  // namespace relais::webrtc::test
