#include "viewer_session.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include "ice_agent.h"
#include "main_context.h"

GST_DEBUG_CATEGORY_STATIC(relais_whep_session_debug);
#define GST_CAT_DEFAULT relais_whep_session_debug

namespace relais::webrtc {
namespace {

void init_debug() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(relais_whep_session_debug, "relaiswhepsession", 0,
                            "Relais WHEP viewer session");
    g_once_init_leave(&once, 1);
  }
}

// What a handler on webrtcbin's threads may use: it posts, nothing else.
struct Thunk {
  std::weak_ptr<ViewerSession> session;
  GMainContext* ctx;
  Thunk(std::weak_ptr<ViewerSession> s, GMainContext* c)
      : session(std::move(s)), ctx(g_main_context_ref(c)) {}
  ~Thunk() { g_main_context_unref(ctx); }
  Thunk(const Thunk&) = delete;
  Thunk& operator=(const Thunk&) = delete;
};

void free_thunk(gpointer data, GClosure*) {
  delete static_cast<Thunk*>(data);
}

std::string reply_error(const GstStructure* reply) {
  if (!reply || !gst_structure_has_field(reply, "error")) return "";
  GError* err = nullptr;
  gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
  std::string message = err ? err->message : "unknown error";
  if (err) g_error_free(err);
  return message;
}

int enum_property(GObject* obj, const char* name) {
  gint value = 0;
  g_object_get(obj, name, &value, nullptr);
  return value;
}

// webrtcbin keeps 500 sent packets for retransmission whatever the bitrate;
// keep about one second instead: enough for a viewer's NACK round trip, and
// bounded in memory at any bitrate.
void size_retransmission_buffer(GstBin*, GstBin*, GstElement* element, gpointer) {
  GstElementFactory* f = gst_element_get_factory(element);
  if (f && g_strcmp0(GST_OBJECT_NAME(f), "rtprtxsend") == 0)
    g_object_set(element, "max-size-time", 1000u, "max-size-packets", 0u, nullptr);
}

}  // namespace

ViewerSession::ViewerSession(std::string id, std::string stream, std::string offer, int video_mline,
                             CodecChoice choice, GMainContext* ctx, Settings settings,
                             Events events)
    : id_(std::move(id)),
      stream_(std::move(stream)),
      offer_(std::move(offer)),
      video_mline_(video_mline),
      choice_(std::move(choice)),
      ctx_(ctx),
      settings_(std::move(settings)),
      events_(std::move(events)),
      created_us_(g_get_monotonic_time()),
      last_rtcp_us_(std::make_shared<std::atomic<int64_t>>(0)) {
  init_debug();
}

ViewerSession::~ViewerSession() {
  for (auto& [obj, handler] : handlers_) {
    if (g_signal_handler_is_connected(obj, handler)) g_signal_handler_disconnect(obj, handler);
    g_object_unref(obj);
  }
}

int64_t ViewerSession::last_seen_us() const {
  int64_t rtcp = last_rtcp_us_->load();
  return rtcp > created_us_ ? rtcp : created_us_;
}

bool ViewerSession::start(StreamEgress* egress, std::string* error) {
  GstElement* webrtc = gst_element_factory_make("webrtcbin", ("viewer-" + id_).c_str());
  if (!webrtc) {
    *error = "GStreamer element 'webrtcbin' is not installed";
    return false;
  }
  webrtcbin_ = ElementRef::adopt(webrtc);
  if (!configure_ice_agent(webrtc, settings_.ice, error)) {
    *error = "cannot configure the viewer's ICE agent: " + *error;
    return false;
  }
  gst_util_set_object_arg(G_OBJECT(webrtc), "bundle-policy", "max-bundle");
  for (const IceServer& s : settings_.ice_servers) {
    if (s.scheme == "stun") {
      g_object_set(webrtc, "stun-server", s.webrtcbin_uri().c_str(), nullptr);
    } else {
      gboolean added = FALSE;
      g_signal_emit_by_name(webrtc, "add-turn-server", s.webrtcbin_uri().c_str(), &added);
    }
  }
  g_signal_connect(webrtc, "deep-element-added", G_CALLBACK(size_retransmission_buffer), nullptr);
  branch_ = egress->add_branch(webrtc, "sink_%u", choice_, error);
  if (!branch_) return false;
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_object_get(branch_->sink_pad.get(), "transceiver", &transceiver, nullptr);
  if (transceiver) {
    // do-nack: the answer accepts the offer's NACK feedback and RTX payload type
    // (with an a=ssrc-group:FID for the RTX SSRC); webrtcbin then keeps sent
    // packets for retransmission.
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "do-nack",
                 settings_.nack ? TRUE : FALSE, nullptr);
    gst_object_unref(transceiver);
  }
  connect_signals();
  if (gst_pad_has_current_caps(branch_->sink_pad.get()))
    post_to_context(ctx_, [weak = weak_from_this()] {
      if (auto s = weak.lock()) s->on_caps();
    });
  return true;
}

void ViewerSession::connect_signals() {
  auto connect = [this](gpointer obj, const char* signal, GCallback cb) {
    gulong id = g_signal_connect_data(obj, signal, cb, new Thunk(weak_from_this(), ctx_),
                                      free_thunk, static_cast<GConnectFlags>(0));
    handlers_.emplace_back(G_OBJECT(g_object_ref(obj)), id);
  };
  GstElement* webrtc = webrtcbin_.get();
  connect(branch_->sink_pad.get(), "notify::caps", G_CALLBACK(+[](GObject*, GParamSpec*, Thunk* t) {
            post_to_context(t->ctx, [weak = t->session] {
              if (auto s = weak.lock()) s->on_caps();
            });
          }));
  connect(webrtc, "on-ice-candidate",
          G_CALLBACK(+[](GstElement*, guint mline, gchar* candidate, Thunk* t) {
            post_to_context(t->ctx, [weak = t->session, mline, c = std::string(candidate)] {
              auto s = weak.lock();
              if (s && static_cast<int>(mline) == s->video_mline_)
                s->local_candidates_.push_back(c);
            });
          }));
  connect(webrtc, "notify::ice-gathering-state",
          G_CALLBACK(+[](GObject* obj, GParamSpec*, Thunk* t) {
            int state = enum_property(obj, "ice-gathering-state");
            post_to_context(t->ctx, [weak = t->session, state] {
              if (auto s = weak.lock()) s->on_gathering_state(state);
            });
          }));
  connect(webrtc, "notify::connection-state", G_CALLBACK(+[](GObject* obj, GParamSpec*, Thunk* t) {
            int state = enum_property(obj, "connection-state");
            post_to_context(t->ctx, [weak = t->session, state] {
              if (auto s = weak.lock()) s->on_connection_state(state);
            });
          }));
  connect(webrtc, "notify::ice-connection-state",
          G_CALLBACK(+[](GObject* obj, GParamSpec*, Thunk* t) {
            int state = enum_property(obj, "ice-connection-state");
            post_to_context(t->ctx, [weak = t->session, state] {
              if (auto s = weak.lock()) s->on_ice_state(state);
            });
          }));
  // RTCP from the viewer is its sign of life (rtpbin reports the sender's SSRC as active).
  if (GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin")) {
    auto* counter = new std::shared_ptr<std::atomic<int64_t>>(last_rtcp_us_);
    gulong id = g_signal_connect_data(
        rtpbin, "on-ssrc-active",
        G_CALLBACK(+[](GstElement*, guint, guint, std::shared_ptr<std::atomic<int64_t>>* c) {
          (*c)->store(g_get_monotonic_time());
        }),
        counter,
        [](gpointer data, GClosure*) {
          delete static_cast<std::shared_ptr<std::atomic<int64_t>>*>(data);
        },
        static_cast<GConnectFlags>(0));
    handlers_.emplace_back(G_OBJECT(rtpbin), id);  // keeps the ref from get_by_name
  }
}

void ViewerSession::emit_with_promise(const char* signal, gpointer arg, Step next) {
  struct PromiseData {
    std::weak_ptr<ViewerSession> session;
    GMainContext* ctx;
    Step next;
  };
  auto* data = new PromiseData{weak_from_this(), g_main_context_ref(ctx_), next};
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer user) {
        // On webrtcbin's thread: copy the reply and hop. The promise is no
        // longer pending here, so gst_promise_wait() returns at once; no other
        // promise is ever waited on from this thread.
        auto* d = static_cast<PromiseData*>(user);
        const GstStructure* reply =
            gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED ? gst_promise_get_reply(p) : nullptr;
        auto copy = std::make_shared<StructurePtr>(reply ? gst_structure_copy(reply)
                                                         : gst_structure_new_empty("no-reply"));
        post_to_context(d->ctx, [weak = d->session, next = d->next, copy] {
          if (auto s = weak.lock()) ((*s).*next)(std::move(*copy));
        });
      },
      data,
      [](gpointer user) {
        auto* d = static_cast<PromiseData*>(user);
        g_main_context_unref(d->ctx);
        delete d;
      });
  if (arg)
    g_signal_emit_by_name(webrtcbin_.get(), signal, arg, promise);
  else
    g_signal_emit_by_name(webrtcbin_.get(), signal, nullptr, promise);
  gst_promise_unref(promise);
}

void ViewerSession::on_caps() {
  if (negotiation_started_ || state_ == State::kClosed) return;
  negotiation_started_ = true;
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer_.c_str(), &sdp) != GST_SDP_OK) {
    fail_negotiation(400, "the SDP offer does not parse");
    return;
  }
  GstWebRTCSessionDescription* offer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  emit_with_promise("set-remote-description", offer, &ViewerSession::on_remote_set);
  gst_webrtc_session_description_free(offer);
}

void ViewerSession::on_remote_set(StructurePtr reply) {
  if (state_ == State::kClosed) return;
  std::string err = reply_error(reply.get());
  if (!err.empty()) {
    fail_negotiation(400, "the offer was rejected: " + err);
    return;
  }
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new_from_text(offer_.c_str(), &sdp);
  const char* ufrag = nullptr;
  if (sdp) {
    if (const GstSDPMedia* m = gst_sdp_message_get_media(sdp, static_cast<guint>(video_mline_)))
      ufrag = gst_sdp_media_get_attribute_val(m, "ice-ufrag");
    if (!ufrag) ufrag = gst_sdp_message_get_attribute_val(sdp, "ice-ufrag");
    remote_ufrag_ = ufrag ? ufrag : "";
    gst_sdp_message_free(sdp);
  }
  emit_with_promise("create-answer", nullptr, &ViewerSession::on_answer_created);
}

void ViewerSession::on_answer_created(StructurePtr reply) {
  if (state_ == State::kClosed) return;
  GstWebRTCSessionDescription* answer = nullptr;
  std::string err = reply_error(reply.get());
  if (err.empty() && gst_structure_has_field(reply.get(), "answer"))
    gst_structure_get(reply.get(), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  if (!answer) {
    fail_negotiation(400,
                     "no answer could be made for this offer" + (err.empty() ? "" : ": " + err));
    return;
  }
  const GstSDPMedia* media =
      gst_sdp_message_get_media(answer->sdp, static_cast<guint>(video_mline_));
  if (!media || gst_sdp_media_get_port(media) == 0 || gst_sdp_media_formats_len(media) == 0) {
    gst_webrtc_session_description_free(answer);
    fail_negotiation(400, std::string("the offer's video section cannot receive this stream's ") +
                              codec_name(choice_.codec));
    return;
  }
  emit_with_promise("set-local-description", answer, &ViewerSession::on_local_set);
  gst_webrtc_session_description_free(answer);
}

void ViewerSession::on_local_set(StructurePtr reply) {
  if (state_ == State::kClosed) return;
  std::string err = reply_error(reply.get());
  if (!err.empty()) {
    fail_negotiation(500, "the answer could not be applied: " + err);
    return;
  }
  local_set_ = true;
  if (gathering_state_ == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
    send_answer();
    return;
  }
  gather_timer_ = start_timer(ctx_, settings_.ice_gather_timeout_ms, [weak = weak_from_this()] {
    if (auto s = weak.lock()) s->send_answer();
  });
}

void ViewerSession::on_gathering_state(int state) {
  gathering_state_ = state;
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE && local_set_) send_answer();
}

void ViewerSession::send_answer() {
  if (answered_ || state_ == State::kClosed) return;
  answered_ = true;
  gather_timer_.reset();
  GstWebRTCSessionDescription* local = nullptr;
  g_object_get(webrtcbin_.get(), "local-description", &local, nullptr);
  if (!local) {
    fail_negotiation(500, "webrtcbin has no local description after answering");
    return;
  }
  gchar* text = gst_sdp_message_as_text(local->sdp);
  std::vector<std::string> candidates = local_candidates_;
  for (const auto& c : local_candidates_)
    for (auto& copy : public_copies_of_candidate(c, settings_.ice.public_ips))
      candidates.push_back(std::move(copy));
  std::string sdp = add_candidates_to_sdp(text, video_mline_, candidates);
  g_free(text);
  gst_webrtc_session_description_free(local);
  state_ = State::kAnswered;
  GST_INFO("session %s answered with %zu candidates", id_.c_str(), candidates.size());
  auto cb = events_.on_negotiated;
  cb(201, sdp);
}

void ViewerSession::fail_negotiation(int status, const std::string& message) {
  if (answered_) return;
  answered_ = true;
  state_ = State::kClosed;
  GST_INFO("session %s: %s", id_.c_str(), message.c_str());
  auto cb = events_.on_negotiated;
  cb(status, message);
}

void ViewerSession::fail(const std::string& reason) {
  if (state_ == State::kClosed) return;
  if (!answered_) {
    fail_negotiation(502, reason);
    return;
  }
  state_ = State::kClosed;
  auto cb = events_.on_failed;
  cb(reason);
}

void ViewerSession::on_connection_state(int state) {
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && state_ == State::kAnswered) {
    state_ = State::kConnected;
    last_rtcp_us_->store(g_get_monotonic_time());
    auto cb = events_.on_connected;
    cb();
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    fail("the connection to the viewer failed");
  }
}

void ViewerSession::on_ice_state(int state) {
  if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
    fail("ICE failed: the viewer is unreachable");
}

bool ViewerSession::add_remote_candidates(const TrickleFragment& fragment, std::string* error) {
  if (!fragment.ice_ufrag.empty() && fragment.ice_ufrag != remote_ufrag_) {
    *error = "ICE restarts are not supported: start a new session with a new offer";
    return false;
  }
  for (const TrickleCandidate& c : fragment.candidates) {
    if (is_mdns_candidate(c.candidate)) {
      GST_DEBUG("session %s: skipping mDNS candidate %s", id_.c_str(), c.candidate.c_str());
      continue;
    }
    guint mline = static_cast<guint>(video_mline_);
    g_signal_emit_by_name(webrtcbin_.get(), "add-ice-candidate", mline, c.candidate.c_str());
  }
  return true;
}

void ViewerSession::close(StreamEgress* egress) {
  state_ = State::kClosed;
  gather_timer_.reset();
  if (branch_ && egress) egress->remove_branch(branch_);
}

}  // namespace relais::webrtc
