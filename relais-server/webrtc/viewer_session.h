// One WHEP viewer: a webrtcbin on a branch of its stream's egress pipeline,
// negotiated from the viewer's offer. The answer is created once RTP caps are
// on webrtcbin's sink pad (so it carries a=ssrc and the codec's details) and
// sent once ICE gathering is complete or a bounded wait has passed.
// webrtcbin's signals and promises arrive on its own threads; every handler
// only posts to the main context, where all session state lives.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gst_handles.h"
#include "ice_agent.h"
#include "ice_servers.h"
#include "sdp_offer.h"
#include "stream_egress.h"

namespace relais::webrtc {

class ViewerSession : public std::enable_shared_from_this<ViewerSession> {
 public:
  enum class State { kNegotiating, kAnswered, kConnected, kClosed };

  struct Settings {
    std::vector<IceServer> ice_servers;
    unsigned ice_gather_timeout_ms = 1500;
    IceSettings ice;
    bool nack = true;  // NACK/RTX when the viewer's offer allows it
  };
  // All called on the main context.
  struct Events {
    // Exactly once: status 201 with the answer SDP, or an error status with a message.
    std::function<void(int status, const std::string& text)> on_negotiated;
    std::function<void()> on_connected;
    // The connection failed or closed after the answer.
    std::function<void(const std::string& reason)> on_failed;
  };

  ViewerSession(std::string id, std::string stream, std::string offer, int video_mline,
                CodecChoice choice, GMainContext* ctx, Settings settings, Events events);
  ~ViewerSession();
  ViewerSession(const ViewerSession&) = delete;
  ViewerSession& operator=(const ViewerSession&) = delete;

  // Creates the webrtcbin, links it to `egress` and starts negotiating.
  bool start(StreamEgress* egress, std::string* error);
  // Adds a viewer's trickled candidates; false (and why) if it cannot.
  bool add_remote_candidates(const TrickleFragment& fragment, std::string* error);
  // Detaches from the egress (idle probe); the session is then closed.
  void close(StreamEgress* egress);

  const std::string& id() const { return id_; }
  const std::string& stream() const { return stream_; }
  State state() const { return state_; }
  const std::string& ice_ufrag() const { return remote_ufrag_; }
  uint64_t bytes_sent() const { return branch_ ? branch_->bytes.load() : 0; }
  GstElement* webrtcbin() const { return webrtcbin_.get(); }
  const std::shared_ptr<EgressBranch>& branch() const { return branch_; }
  // Monotonic times (µs): creation, and the last sign of life from the viewer.
  int64_t created_us() const { return created_us_; }
  int64_t last_seen_us() const;

 private:
  using Step = void (ViewerSession::*)(StructurePtr reply);
  void emit_with_promise(const char* signal, gpointer arg, Step next);
  void on_caps();
  void on_remote_set(StructurePtr reply);
  void on_answer_created(StructurePtr reply);
  void on_local_set(StructurePtr reply);
  void on_gathering_state(int state);
  void on_connection_state(int state);
  void on_ice_state(int state);
  void send_answer();
  void fail_negotiation(int status, const std::string& message);
  void fail(const std::string& reason);
  void connect_signals();

  const std::string id_;
  const std::string stream_;
  const std::string offer_;
  const int video_mline_;
  const CodecChoice choice_;
  GMainContext* const ctx_;
  const Settings settings_;
  Events events_;
  std::string remote_ufrag_;

  // Main context only.
  State state_ = State::kNegotiating;
  ElementRef webrtcbin_;
  std::shared_ptr<EgressBranch> branch_;
  bool negotiation_started_ = false;
  bool local_set_ = false;
  bool answered_ = false;
  int gathering_state_ = 0;
  std::vector<std::string> local_candidates_;
  GSourcePtr gather_timer_;
  const int64_t created_us_;
  // Written by webrtcbin's threads.
  std::shared_ptr<std::atomic<int64_t>> last_rtcp_us_;
  std::vector<std::pair<GObject*, gulong>> handlers_;
};

}  // namespace relais::webrtc
