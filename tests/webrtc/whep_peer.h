// A WHEP viewer in the test process: a webrtcbin that offers to receive video,
// talks to a WhepService through HttpRequests (no sockets for HTTP), trickles
// its candidates with PATCH, decodes what it receives and counts the frames.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gst_handles.h"
#include "http_exchange.h"
#include "ice_agent.h"
#include "whep_service.h"

namespace relais::webrtc::test {

using relais::server::HttpRequest;
using relais::server::HttpResponse;

// Iterates the thread-default main context until `done` or `timeout_ms`.
bool run_until(const std::function<bool()>& done, int timeout_ms);

// Calls service.handle() and waits for its answer.
HttpResponse call(WhepService& service, HttpRequest request, int timeout_ms = 10000);

HttpRequest make_request(const std::string& method, const std::string& path,
                         const std::string& content_type, const std::string& body);

std::string header_of(const HttpResponse& r, const std::string& name);

// How a viewer's WHEP requests reach the server: the service in this process
// (call()) or real HTTP (a viewer process in another network namespace).
using WhepTransport = std::function<HttpResponse(const HttpRequest&)>;

class WhepPeer {
 public:
  // The payload types this viewer's offer gives H.264 and VP8.
  // `nack`: the offer asks for NACK feedback and RTX, as browsers do.
  explicit WhepPeer(int h264_pt = 102, int vp8_pt = 100, bool nack = true);
  ~WhepPeer();
  WhepPeer(const WhepPeer&) = delete;
  WhepPeer& operator=(const WhepPeer&) = delete;

  GstElement* webrtcbin() const { return webrtc_; }
  // Applies ICE settings to this viewer's agent (before connect()).
  bool use_ice(const IceSettings& settings, std::string* error) {
    return configure_ice_agent(webrtc_, settings, error);
  }
  // The candidates this viewer has gathered so far (its offer's, then trickled).
  std::vector<std::string> local_candidates();
  // Creates a recvonly video offer (H.264 constrained baseline and VP8).
  std::string create_offer();
  // POSTs the offer to /whep/{stream}; on 201 applies the answer.
  HttpResponse connect(WhepService& service, const std::string& stream);
  HttpResponse connect(const WhepTransport& transport, const std::string& stream);
  // PATCHes candidates gathered since the last call; returns the statuses.
  std::vector<int> trickle(WhepService& service);
  std::vector<int> trickle(const WhepTransport& transport);
  HttpResponse disconnect(WhepService& service);
  HttpResponse disconnect(const WhepTransport& transport);
  // The receiving jitter buffer's "stats" (num-pushed, num-lost, rtx-count,
  // rtx-success-count, ...), or null before media flows.
  GstStructure* jitterbuffer_stats();
  // Stops the peer without telling the server (a viewer that went away).
  void vanish();

  int frames() const { return frames_.load(); }
  int width() const { return width_.load(); }
  std::string session_url() const { return location_; }
  std::string answer() const { return answer_; }

 private:
  static void on_pad_added(GstElement* webrtc, GstPad* pad, WhepPeer* self);
  ElementRef pipeline_;
  GstElement* webrtc_ = nullptr;  // owned by pipeline_
  std::string location_;
  std::string etag_;
  std::string ufrag_;
  std::string answer_;
  std::mutex mutex_;                     // guards candidates_ and gathered_
  std::vector<std::string> candidates_;  // not yet trickled
  std::vector<std::string> gathered_;    // all
  std::atomic<int> frames_{0};
  std::atomic<int> width_{0};
};

}  // namespace relais::webrtc::test
