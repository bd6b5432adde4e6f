// The server side of the WHEP viewers bench: a libsoup server on loopback
// handing /whep/ requests to Relais's WhepService, either all to one service
// (Relais's shared egress: one pipeline per stream, a tee branch per viewer)
// or each new viewer to a service of its own (the anchor: one pipeline per
// viewer, each reading, parsing and payloading the stream for itself).
// Runs on the thread-default main context, which the caller iterates.
#pragma once

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gst_handles.h"
#include "whep_service.h"

namespace relais::bench {

class WhepBenchServer {
 public:
  WhepBenchServer(bool shared, size_t max_viewers);
  ~WhepBenchServer();
  WhepBenchServer(const WhepBenchServer&) = delete;
  WhepBenchServer& operator=(const WhepBenchServer&) = delete;

  // Listens on a free loopback port; false with `error` set on failure.
  bool listen(std::string* error);
  // The server's base URL, e.g. "http://127.0.0.1:40123".
  const std::string& url() const { return url_; }
  // Viewers whose connection is up, over all services.
  size_t connected() const;
  // RTP bytes handed to viewers so far, from the services' metrics.
  double bytes_sent() const;

 private:
  void handle(SoupServerMessage* msg, const char* path);
  relais::webrtc::WhepService& service_for(const std::string& method, const std::string& path);

  bool shared_;
  size_t max_viewers_;
  std::vector<std::unique_ptr<relais::webrtc::WhepService>> services_;
  std::map<std::string, size_t> owner_;  // session path -> index in services_
  GstRef<SoupServer> server_;
  std::string url_;
};

}  // namespace relais::bench
