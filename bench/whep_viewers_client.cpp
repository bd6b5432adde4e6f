#include "whep_viewers_client.h"

#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gst_handles.h"
#include "ice_agent.h"

namespace relais::bench {

namespace {

constexpr int kOffersInFlight = 8;

struct Peer {
  ElementRef pipeline;
  GstElement* webrtc = nullptr;  // owned by pipeline
  std::mutex mutex;              // guards candidates
  std::vector<std::string> candidates;
  std::string location, ufrag;
  std::atomic<uint64_t> frames{0};  // complete frames received
  // Streaming thread only.
  bool have_seq = false;
  uint16_t last_seq = 0;
  bool frame_whole = true;
};

// Counts the frames whose packets all arrived.
void count_packet(Peer* peer, GstBuffer* buffer) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return;
  uint16_t seq = gst_rtp_buffer_get_seq(&rtp);
  bool marker = gst_rtp_buffer_get_marker(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  if (peer->have_seq && seq != uint16_t(peer->last_seq + 1)) peer->frame_whole = false;
  peer->have_seq = true;
  peer->last_seq = seq;
  if (marker) {
    if (peer->frame_whole) peer->frames++;
    peer->frame_whole = true;
  }
}

GstPadProbeReturn on_rtp(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* peer = static_cast<Peer*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    count_packet(peer, GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      count_packet(peer, gst_buffer_list_get(list, i));
  }
  return GST_PAD_PROBE_OK;
}

void on_pad_added(GstElement*, GstPad* pad, Peer* peer) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      on_rtp, peer, nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(peer->pipeline.get()), sink);
  gst_element_sync_state_with_parent(sink);
  PadRef sinkpad = PadRef::adopt(gst_element_get_static_pad(sink, "sink"));
  gst_pad_link(pad, sinkpad.get());
}

void on_ice_candidate(GstElement*, guint, gchar* candidate, Peer* peer) {
  std::lock_guard lock(peer->mutex);
  peer->candidates.push_back(candidate);
}

// Everything the viewers' thread shares with the command thread.
struct Viewers {
  std::string whep_url, origin;
  GstRef<SoupSession> session;
  std::mutex mutex;  // guards peers (the vector; each peer's counter is atomic)
  std::vector<std::shared_ptr<Peer>> peers;
  int pending = 0;  // POSTs in flight (main context only)
};

std::string reply_text(GBytes* reply) {
  std::string out;
  if (reply) {
    gsize size = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(reply, &size));
    out.assign(p ? p : "", size);
    g_bytes_unref(reply);
  }
  return out;
}

// Sends a request without waiting; `done` gets the status, the Location
// header and the body on the main context.
void send_async(Viewers* v, const char* method, const std::string& url, const char* type,
                const std::string& body,
                std::function<void(guint, const std::string&, const std::string&)> done) {
  SoupMessage* msg = soup_message_new(method, url.c_str());
  if (!msg) {
    std::fprintf(stderr, "viewer: bad URL %s\n", url.c_str());
    std::_Exit(1);
  }
  GBytes* bytes = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(msg, type, bytes);
  g_bytes_unref(bytes);
  using Done = std::function<void(guint, const std::string&, const std::string&)>;
  soup_session_send_and_read_async(
      v->session.get(), msg, G_PRIORITY_DEFAULT, nullptr,
      [](GObject* session, GAsyncResult* result, gpointer data) {
        std::unique_ptr<Done> done(static_cast<Done*>(data));
        SoupMessage* msg = soup_session_get_async_result_message(SOUP_SESSION(session), result);
        GError* error = nullptr;
        std::string text =
            reply_text(soup_session_send_and_read_finish(SOUP_SESSION(session), result, &error));
        if (error) {
          text = error->message;  // transport error: the status is 0
          g_error_free(error);
        }
        const char* loc =
            soup_message_headers_get_one(soup_message_get_response_headers(msg), "Location");
        (*done)(soup_message_get_status(msg), loc ? loc : "", text);
        g_object_unref(msg);
      },
      new Done(std::move(done)));
}

// Waits for a webrtcbin promise and returns its reply (owned by the promise).
const GstStructure* wait(GstPromise* promise) {
  gst_promise_wait(promise);
  return gst_promise_get_reply(promise);
}

// Creates a receive-only viewer and posts its offer; it joins `v->peers`
// once the server's answer is applied.
void connect_peer(Viewers* v) {
  auto peer = std::make_unique<Peer>();
  peer->pipeline = ElementRef::adopt(gst_pipeline_new(nullptr));
  peer->webrtc = gst_element_factory_make("webrtcbin", nullptr);
  relais::webrtc::configure_ice_agent(peer->webrtc);
  gst_util_set_object_arg(G_OBJECT(peer->webrtc), "bundle-policy", "max-bundle");
  gst_bin_add(GST_BIN(peer->pipeline.get()), peer->webrtc);
  CapsPtr caps(gst_caps_from_string(
      "application/x-rtp, media=video, encoding-name=H264, clock-rate=90000, payload=102, "
      "packetization-mode=(string)1, profile-level-id=(string)42e01f"));
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(peer->webrtc, "add-transceiver",
                        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(), &trans);
  if (trans) gst_object_unref(trans);
  g_signal_connect(peer->webrtc, "on-ice-candidate", G_CALLBACK(on_ice_candidate), peer.get());
  g_signal_connect(peer->webrtc, "pad-added", G_CALLBACK(on_pad_added), peer.get());
  gst_element_set_state(peer->pipeline.get(), GST_STATE_PLAYING);

  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(peer->webrtc, "create-offer", nullptr, promise);
  GstWebRTCSessionDescription* offer = nullptr;
  if (const GstStructure* reply = wait(promise))
    gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  gst_promise_unref(promise);
  if (!offer) {
    std::fprintf(stderr, "viewer: webrtcbin made no offer\n");
    std::_Exit(1);
  }
  promise = gst_promise_new();
  g_signal_emit_by_name(peer->webrtc, "set-local-description", offer, promise);
  wait(promise);
  gst_promise_unref(promise);
  gchar* text = gst_sdp_message_as_text(offer->sdp);
  const char* ufrag =
      gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(offer->sdp, 0), "ice-ufrag");
  peer->ufrag = ufrag ? ufrag : "";
  std::string sdp_text = text;
  g_free(text);
  gst_webrtc_session_description_free(offer);
  v->pending++;
  send_async(v, "POST", v->whep_url, "application/sdp", sdp_text,
             [v, peer = std::shared_ptr<Peer>(std::move(peer))](
                 guint status, const std::string& location, const std::string& answer) {
               v->pending--;
               if (status != 201) {
                 std::fprintf(stderr, "viewer: POST answered %u: %s\n", status, answer.c_str());
                 std::_Exit(1);
               }
               peer->location = location[0] == '/' ? v->origin + location : location;
               GstSDPMessage* sdp = nullptr;
               gst_sdp_message_new_from_text(answer.c_str(), &sdp);
               GstWebRTCSessionDescription* desc =
                   gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
               GstPromise* promise = gst_promise_new();
               g_signal_emit_by_name(peer->webrtc, "set-remote-description", desc, promise);
               wait(promise);
               gst_promise_unref(promise);
               gst_webrtc_session_description_free(desc);
               std::lock_guard lock(v->mutex);
               v->peers.push_back(std::move(peer));
             });
}
// Sends each viewer's gathered candidates to its session (PATCH).
void trickle(Viewers* v) {
  // Only this thread changes the vector, so it may read it unlocked.
  for (const auto& p : v->peers) {
    std::vector<std::string> pending;
    {
      std::lock_guard lock(p->mutex);
      pending.swap(p->candidates);
    }
    if (pending.empty()) continue;
    std::string frag = "a=ice-ufrag:" + p->ufrag + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n";
    for (const auto& c : pending) frag += "a=" + c + "\r\n";
    send_async(v, "PATCH", p->location, "application/trickle-ice-sdpfrag", frag,
               [](guint status, const std::string&, const std::string& body) {
                 if (status != 204 && status != 200)
                   std::fprintf(stderr, "viewer: PATCH answered %u: %s\n", status, body.c_str());
               });
  }
}

}  // namespace

int run_whep_viewers(const std::string& whep_url) {
  GUri* uri = g_uri_parse(whep_url.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!uri) {
    std::fprintf(stderr, "viewers: bad URL %s\n", whep_url.c_str());
    return 2;
  }
  // The peers live until the process exits: it ends with _Exit, without
  // tearing dozens of webrtcbins down.
  auto* v = new Viewers();
  v->whep_url = whep_url;
  v->origin = std::string(g_uri_get_scheme(uri)) + "://" + g_uri_get_host(uri) + ":" +
              std::to_string(g_uri_get_port(uri));
  g_uri_unref(uri);
  // New viewers' offers go out together, not one after the other.
  v->session = GstRef<SoupSession>::adopt(
      soup_session_new_with_options("max-conns", 256, "max-conns-per-host", 256, nullptr));

  std::atomic<int> to_add{0};
  // Commands are read on a thread of their own, so a report is answered at
  // once even while viewers are being connected.
  std::thread commands([v, &to_add] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.rfind("add ", 0) == 0) {
        to_add += std::atoi(line.c_str() + 4);
      } else if (line == "report") {
        std::string out = "frames";
        {
          std::lock_guard lock(v->mutex);
          for (const auto& p : v->peers) out += " " + std::to_string(p->frames.load());
        }
        out += "\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
      }
    }
    std::_Exit(0);  // the bench is over (or died)
  });
  commands.detach();

  for (;;) {
    // A few offers at a time: the server's listen backlog is small.
    while (to_add > 0 && v->pending < kOffersInFlight) {
      connect_peer(v);
      to_add--;
    }
    trickle(v);
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(v->pending > 0 ? 1000 : 20000);
  }
}

}  // namespace relais::bench
