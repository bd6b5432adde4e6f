#include "whep_peer.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include "ice_agent.h"

namespace relais::webrtc::test {
namespace {

StructurePtr wait_reply(GstPromise* promise) {
  gst_promise_wait(promise);
  const GstStructure* reply = gst_promise_get_reply(promise);
  StructurePtr copy(reply ? gst_structure_copy(reply) : nullptr);
  gst_promise_unref(promise);
  return copy;
}

GstPadProbeReturn count_frame(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* counters = static_cast<std::pair<std::atomic<int>*, std::atomic<int>*>*>(data);
  counters->first->fetch_add(1);
  if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
    int width = 0;
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "width", &width);
    counters->second->store(width);
    gst_caps_unref(caps);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

bool run_until(const std::function<bool()>& done, int timeout_ms) {
  gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(2000);
  }
  return true;
}

HttpRequest make_request(const std::string& method, const std::string& path,
                         const std::string& content_type, const std::string& body) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  if (!content_type.empty()) r.headers["content-type"] = content_type;
  r.body = body;
  r.remote_address = "192.0.2.10";
  return r;
}

HttpResponse call(WhepService& service, HttpRequest request, int timeout_ms) {
  HttpResponse out;
  bool answered = false;
  int calls = 0;
  service.handle(request, [&](HttpResponse r) {
    out = std::move(r);
    answered = true;
    calls++;
  });
  if (!run_until([&] { return answered; }, timeout_ms)) {
    out.status = 0;
    out.body = "no answer within " + std::to_string(timeout_ms) + " ms";
  }
  if (calls > 1) out.status = -1;
  return out;
}

std::string header_of(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (g_ascii_strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

WhepPeer::WhepPeer(int h264_pt, int vp8_pt, bool nack) {
  pipeline_ = ElementRef::adopt(gst_pipeline_new(nullptr));
  webrtc_ = gst_element_factory_make("webrtcbin", nullptr);
  relais::webrtc::configure_ice_agent(webrtc_);
  gst_util_set_object_arg(G_OBJECT(webrtc_), "bundle-policy", "max-bundle");
  gst_bin_add(GST_BIN(pipeline_.get()), webrtc_);
  std::string caps_text =
      "application/x-rtp, media=video, encoding-name=H264, clock-rate=90000, payload=" +
      std::to_string(h264_pt) +
      ", packetization-mode=(string)1, profile-level-id=(string)42e01f; "
      "application/x-rtp, media=video, encoding-name=VP8, clock-rate=90000, payload=" +
      std::to_string(vp8_pt);
  CapsPtr caps(gst_caps_from_string(caps_text.c_str()));
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        caps.get(), &trans);
  if (trans) {
    // Like a browser: the offer has NACK feedback and an RTX payload type, and
    // the jitter buffer asks for lost packets.
    g_object_set(trans, "do-nack", nack ? TRUE : FALSE, nullptr);
    gst_object_unref(trans);
  }
  g_signal_connect(webrtc_, "on-ice-candidate",
                   G_CALLBACK(+[](GstElement*, guint, gchar* candidate, WhepPeer* self) {
                     std::lock_guard lock(self->mutex_);
                     self->candidates_.push_back(candidate);
                     self->gathered_.push_back(candidate);
                   }),
                   this);
  g_signal_connect(webrtc_, "pad-added", G_CALLBACK(on_pad_added), this);
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

WhepPeer::~WhepPeer() {
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

void WhepPeer::on_pad_added(GstElement*, GstPad* pad, WhepPeer* self) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  GstElement* decodebin = gst_element_factory_make("decodebin", nullptr);
  g_signal_connect(
      decodebin, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* out, WhepPeer* peer) {
        GstElement* sink = gst_element_factory_make("fakesink", nullptr);
        g_object_set(sink, "sync", FALSE, nullptr);
        gst_bin_add(GST_BIN(peer->pipeline_.get()), sink);
        gst_element_sync_state_with_parent(sink);
        PadRef sinkpad = PadRef::adopt(gst_element_get_static_pad(sink, "sink"));
        gst_pad_link(out, sinkpad.get());
        gst_pad_add_probe(
            sinkpad.get(), GST_PAD_PROBE_TYPE_BUFFER, count_frame,
            new std::pair<std::atomic<int>*, std::atomic<int>*>(&peer->frames_, &peer->width_),
            [](gpointer p) {
              delete static_cast<std::pair<std::atomic<int>*, std::atomic<int>*>*>(p);
            });
      }),
      self);
  gst_bin_add(GST_BIN(self->pipeline_.get()), decodebin);
  gst_element_sync_state_with_parent(decodebin);
  PadRef sink = PadRef::adopt(gst_element_get_static_pad(decodebin, "sink"));
  gst_pad_link(pad, sink.get());
}

std::string WhepPeer::create_offer() {
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
  StructurePtr reply = wait_reply(promise);
  GstWebRTCSessionDescription* offer = nullptr;
  if (reply)
    gst_structure_get(reply.get(), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  if (!offer) return "";
  promise = gst_promise_new();
  g_signal_emit_by_name(webrtc_, "set-local-description", offer, promise);
  wait_reply(promise);
  gchar* text = gst_sdp_message_as_text(offer->sdp);
  std::string sdp = text;
  g_free(text);
  const GstSDPMedia* media = gst_sdp_message_get_media(offer->sdp, 0);
  const char* ufrag = media ? gst_sdp_media_get_attribute_val(media, "ice-ufrag") : nullptr;
  ufrag_ = ufrag ? ufrag : "";
  gst_webrtc_session_description_free(offer);
  return sdp;
}

namespace {
WhepTransport in_process(WhepService& service) {
  return [&service](const HttpRequest& r) { return call(service, r); };
}
}  // namespace

HttpResponse WhepPeer::connect(WhepService& service, const std::string& stream) {
  return connect(in_process(service), stream);
}

std::vector<int> WhepPeer::trickle(WhepService& service) {
  return trickle(in_process(service));
}

HttpResponse WhepPeer::disconnect(WhepService& service) {
  return disconnect(in_process(service));
}

HttpResponse WhepPeer::connect(const WhepTransport& transport, const std::string& stream) {
  std::string offer = create_offer();
  HttpResponse r = transport(make_request("POST", "/whep/" + stream, "application/sdp", offer));
  if (r.status != 201) return r;
  location_ = header_of(r, "Location");
  etag_ = header_of(r, "ETag");
  answer_ = r.body;
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(r.body.c_str(), &sdp) != GST_SDP_OK) {
    r.status = -2;
    return r;
  }
  GstWebRTCSessionDescription* answer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc_, "set-remote-description", answer, promise);
  wait_reply(promise);
  gst_webrtc_session_description_free(answer);
  return r;
}

std::vector<int> WhepPeer::trickle(const WhepTransport& transport) {
  std::vector<std::string> pending;
  {
    std::lock_guard lock(mutex_);
    pending.swap(candidates_);
  }
  std::vector<int> statuses;
  if (pending.empty() || location_.empty()) {
    std::lock_guard lock(mutex_);
    candidates_.insert(candidates_.begin(), pending.begin(), pending.end());
    return statuses;
  }
  std::string frag =
      "a=ice-ufrag:" + ufrag_ + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:video0\r\n";
  for (const auto& c : pending) frag += "a=" + c + "\r\n";
  HttpRequest req = make_request("PATCH", location_, "application/trickle-ice-sdpfrag", frag);
  req.headers["if-match"] = etag_;
  statuses.push_back(transport(req).status);
  return statuses;
}

HttpResponse WhepPeer::disconnect(const WhepTransport& transport) {
  return transport(make_request("DELETE", location_, "", ""));
}

GstStructure* WhepPeer::jitterbuffer_stats() {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(webrtc_));
  GValue item = G_VALUE_INIT;
  // One jitter buffer per SSRC: the video's is the one that pushed the most.
  GstStructure* stats = nullptr;
  guint64 most = 0;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(element);
    GstStructure* s = nullptr;
    if (f && g_strcmp0(GST_OBJECT_NAME(f), "rtpjitterbuffer") == 0)
      g_object_get(element, "stats", &s, nullptr);
    guint64 pushed = 0;
    if (s && gst_structure_get_uint64(s, "num-pushed", &pushed) && (!stats || pushed > most)) {
      if (stats) gst_structure_free(stats);
      stats = s;
      most = pushed;
    } else if (s) {
      gst_structure_free(s);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return stats;
}

void WhepPeer::vanish() {
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

std::vector<std::string> WhepPeer::local_candidates() {
  std::lock_guard<std::mutex> lock(mutex_);
  return gathered_;
}

}  // namespace relais::webrtc::test
