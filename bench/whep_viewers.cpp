// Concurrent WebRTC viewers per core. Measures the server process's CPU time
// per connected viewer (writer's cost subtracted) for Relais's shared egress
// (the stream read, parsed and payloaded once, tee to every webrtcbin) and, as
// the anchor, one pipeline per viewer (reader, parser, payloader and webrtcbin
// for each viewer, as one gst-launch pipeline per viewer would be). The
// viewers are real webrtcbin peers in a child process, talking WHEP over HTTP
// on loopback.
//
// Usage: relais-bench-whep-viewers [--viewers N] [--seconds S]
//        relais-bench-whep-viewers --client URL N     (the viewers; internal)
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>
#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gst_handles.h"
#include "registry.h"
#include "whep_service.h"

namespace {

using relais::server::HttpRequest;
using relais::server::HttpResponse;
using relais::webrtc::WhepService;

void iterate_for(int ms) {
  gint64 end = g_get_monotonic_time() + gint64(ms) * 1000;
  while (g_get_monotonic_time() < end) {
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(2000);
  }
}

bool iterate_until(const std::function<bool()>& done, int ms) {
  gint64 end = g_get_monotonic_time() + gint64(ms) * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > end) return false;
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(2000);
  }
  return true;
}

double cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- the viewers (child process) -------------------------------------------

struct Peer {
  relais::ElementRef pipeline;
  GstElement* webrtc = nullptr;
  std::mutex mutex;  // guards candidates
  std::vector<std::string> candidates;
  std::string location, ufrag;
};

std::string post(SoupSession* session, const std::string& method, const std::string& url,
                 const char* type, const std::string& body, guint* status, std::string* location) {
  SoupMessage* msg = soup_message_new(method.c_str(), url.c_str());
  GBytes* bytes = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(msg, type, bytes);
  g_bytes_unref(bytes);
  GBytes* reply = soup_session_send_and_read(session, msg, nullptr, nullptr);
  *status = soup_message_get_status(msg);
  if (location) {
    const char* loc =
        soup_message_headers_get_one(soup_message_get_response_headers(msg), "Location");
    *location = loc ? loc : "";
  }
  std::string out;
  if (reply) {
    gsize size = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(reply, &size));
    out.assign(p ? p : "", size);
    g_bytes_unref(reply);
  }
  g_object_unref(msg);
  return out;
}

int run_viewers(const std::string& base, int count) {
  SoupSession* session = soup_session_new();
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < count; i++) {
    auto peer = std::make_unique<Peer>();
    peer->pipeline = relais::ElementRef::adopt(gst_pipeline_new(nullptr));
    peer->webrtc = gst_element_factory_make("webrtcbin", nullptr);
    gst_util_set_object_arg(G_OBJECT(peer->webrtc), "bundle-policy", "max-bundle");
    gst_bin_add(GST_BIN(peer->pipeline.get()), peer->webrtc);
    relais::CapsPtr caps(gst_caps_from_string(
        "application/x-rtp, media=video, encoding-name=H264, clock-rate=90000, payload=102, "
        "packetization-mode=(string)1, profile-level-id=(string)42e01f"));
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_signal_emit_by_name(peer->webrtc, "add-transceiver",
                          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(), &trans);
    if (trans) gst_object_unref(trans);
    g_signal_connect(peer->webrtc, "on-ice-candidate",
                     G_CALLBACK(+[](GstElement*, guint, gchar* c, Peer* p) {
                       std::lock_guard lock(p->mutex);
                       p->candidates.push_back(c);
                     }),
                     peer.get());
    g_signal_connect(peer->webrtc, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, Peer* p) {
                       GstElement* sink = gst_element_factory_make("fakesink", nullptr);
                       g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
                       gst_bin_add(GST_BIN(p->pipeline.get()), sink);
                       gst_element_sync_state_with_parent(sink);
                       relais::PadRef sinkpad =
                           relais::PadRef::adopt(gst_element_get_static_pad(sink, "sink"));
                       gst_pad_link(pad, sinkpad.get());
                     }),
                     peer.get());
    gst_element_set_state(peer->pipeline.get(), GST_STATE_PLAYING);
    GstPromise* promise = gst_promise_new();
    g_signal_emit_by_name(peer->webrtc, "create-offer", nullptr, promise);
    gst_promise_wait(promise);
    GstWebRTCSessionDescription* offer = nullptr;
    gst_structure_get(gst_promise_get_reply(promise), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                      &offer, nullptr);
    gst_promise_unref(promise);
    promise = gst_promise_new();
    g_signal_emit_by_name(peer->webrtc, "set-local-description", offer, promise);
    gst_promise_wait(promise);
    gst_promise_unref(promise);
    gchar* text = gst_sdp_message_as_text(offer->sdp);
    const char* ufrag =
        gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(offer->sdp, 0), "ice-ufrag");
    peer->ufrag = ufrag ? ufrag : "";
    guint status = 0;
    std::string answer = post(session, "POST", base + "/whep/bench", "application/sdp", text,
                              &status, &peer->location);
    g_free(text);
    gst_webrtc_session_description_free(offer);
    if (status != 201) {
      std::fprintf(stderr, "viewer %d: POST answered %u: %s\n", i, status, answer.c_str());
      return 1;
    }
    GstSDPMessage* sdp = nullptr;
    gst_sdp_message_new_from_text(answer.c_str(), &sdp);
    GstWebRTCSessionDescription* desc =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    promise = gst_promise_new();
    g_signal_emit_by_name(peer->webrtc, "set-remote-description", desc, promise);
    gst_promise_wait(promise);
    gst_promise_unref(promise);
    gst_webrtc_session_description_free(desc);
    peers.push_back(std::move(peer));
  }
  for (;;) {  // trickle until the parent stops us
    for (auto& p : peers) {
      std::vector<std::string> pending;
      {
        std::lock_guard lock(p->mutex);
        pending.swap(p->candidates);
      }
      if (pending.empty()) continue;
      std::string frag = "a=ice-ufrag:" + p->ufrag + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n";
      for (const auto& c : pending) frag += "a=" + c + "\r\n";
      guint status = 0;
      post(session, "PATCH", base + p->location, "application/trickle-ice-sdpfrag", frag, &status,
           nullptr);
    }
    iterate_for(200);
  }
}

// ---- the server (this process) ---------------------------------------------

// Routes WHEP requests to the services: all to one (shared egress), or each
// new viewer to a service of its own (one pipeline per viewer).
struct Router {
  std::vector<std::unique_ptr<WhepService>> services;
  size_t next = 0;
  std::map<std::string, size_t> owner;  // session path -> service

  void handle(SoupServerMessage* msg, const char* path) {
    HttpRequest req;
    req.method = soup_server_message_get_method(msg);
    req.path = path;
    const char* type = soup_message_headers_get_content_type(
        soup_server_message_get_request_headers(msg), nullptr);
    if (type) req.headers["content-type"] = type;
    if (GBytes* body = soup_message_body_flatten(soup_server_message_get_request_body(msg))) {
      gsize size = 0;
      const char* p = static_cast<const char*>(g_bytes_get_data(body, &size));
      req.body.assign(p ? p : "", size);
      g_bytes_unref(body);
    }
    size_t index = 0;
    if (req.method == "POST") {
      index = std::min(next++, services.size() - 1);
    } else {
      auto it = owner.find(req.path);
      index = it == owner.end() ? 0 : it->second;
    }
    auto state = std::make_shared<int>(0);
    g_object_ref(msg);
    services[index]->handle(req, [this, msg, state, index](HttpResponse r) {
      soup_server_message_set_status(msg, static_cast<guint>(r.status), nullptr);
      for (const auto& [k, v] : r.headers) {
        soup_message_headers_append(soup_server_message_get_response_headers(msg), k.c_str(),
                                    v.c_str());
        if (k == "Location") owner[v] = index;
      }
      if (!r.content_type.empty())
        soup_server_message_set_response(msg, r.content_type.c_str(), SOUP_MEMORY_COPY,
                                         r.body.data(), r.body.size());
      if (*state == 1) soup_server_message_unpause(msg);
      *state = 2;
      g_object_unref(msg);
    });
    if (*state == 0) {
      *state = 1;
      soup_server_message_pause(msg);
    }
  }
};

// RTP bytes handed to viewers so far, from the services' metrics.
double bytes_sent(const std::vector<std::unique_ptr<WhepService>>& services) {
  double total = 0;
  for (const auto& s : services) {
    std::string text = s->prometheus_metrics();
    const std::string key = "relais_whep_bytes_sent_total{";
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 1)) {
      auto space = text.find(' ', pos);
      total += std::atof(text.c_str() + space + 1);
    }
  }
  return total;
}

// The writer's bitrate as the store measures it (bit/s).
double stream_bitrate() {
  std::shared_ptr<relais::store::Store> store;
  std::vector<relais::store::StreamInfo> streams;
  if (relais::store::open_store("memory://", &store).is_ok()) store->list_streams(&streams);
  for (const auto& s : streams)
    if (s.name == "bench") return s.bitrate;
  return 0;
}

struct Result {
  bool ok = false;
  double viewers_per_core = 0;
};

Result measure(bool shared, int viewers, int seconds, const std::string& self_exe) {
  Result result;
  Router router;
  relais::webrtc::WhepOptions options;
  options.max_sessions = static_cast<size_t>(viewers) + 1;
  for (int i = 0; i < (shared ? 1 : viewers); i++)
    router.services.push_back(std::make_unique<WhepService>(
        "memory://", std::vector<relais::webrtc::IceServer>{}, "", 64 * 1024, options));
  SoupServer* server = soup_server_new(nullptr, nullptr);
  soup_server_add_handler(
      server, "/whep/",
      [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) {
        static_cast<Router*>(data)->handle(msg, path);
      },
      &router, nullptr);
  if (!soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr)) return result;
  GSList* uris = soup_server_get_uris(server);
  gchar* base = g_uri_to_string(static_cast<GUri*>(uris->data));
  std::string url = base;
  if (!url.empty() && url.back() == '/') url.pop_back();
  g_free(base);
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));

  iterate_for(500);
  double t0 = cpu_seconds();
  iterate_for(seconds * 1000);
  double idle = cpu_seconds() - t0;

  std::string count = std::to_string(viewers);
  GSubprocess* client = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, nullptr, self_exe.c_str(),
                                         "--client", url.c_str(), count.c_str(), nullptr);
  auto connected = [&] {
    size_t n = 0;
    for (auto& s : router.services) n += s->connected_count();
    return n;
  };
  if (client && iterate_until([&] { return connected() == size_t(viewers); }, 60000)) {
    iterate_for(2000);
    double t1 = cpu_seconds();
    double b1 = bytes_sent(router.services);
    iterate_for(seconds * 1000);
    double busy = cpu_seconds() - t1;
    double kbps_per_viewer = (bytes_sent(router.services) - b1) * 8 / 1000 / seconds / viewers;
    std::fprintf(stderr, "  %.0f kbit/s sent to each viewer\n", kbps_per_viewer);
    // Every viewer must really get the stream.
    double stream_kbps = stream_bitrate() / 1000;
    std::fprintf(stderr, "  the stream itself: %.0f kbit/s\n", stream_kbps);
    if (connected() == size_t(viewers) && busy > idle && kbps_per_viewer > 0.8 * stream_kbps) {
      double per_viewer = (busy - idle) / seconds / viewers;  // cores per viewer
      result.viewers_per_core = 1.0 / per_viewer;
      result.ok = true;
    }
    std::fprintf(stderr, "%s: %d viewers, server CPU %.2f s (idle %.2f s) over %d s\n",
                 shared ? "relais shared egress" : "one pipeline per viewer", viewers, busy, idle,
                 seconds);
  } else {
    std::fprintf(stderr, "%s: viewers did not connect (%zu of %d)\n",
                 shared ? "shared" : "per-viewer", connected(), viewers);
  }
  if (client) {
    g_subprocess_force_exit(client);
    g_subprocess_wait(client, nullptr, nullptr);
    g_object_unref(client);
  }
  router.services.clear();
  soup_server_disconnect(server);
  g_object_unref(server);
  iterate_for(300);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc == 4 && std::string(argv[1]) == "--client")
    return run_viewers(argv[2], std::atoi(argv[3]));
  int viewers = 8, seconds = 6;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--viewers") viewers = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--seconds") seconds = std::max(1, std::atoi(argv[i + 1]));
  }
  gchar* exe = g_file_read_link("/proc/self/exe", nullptr);
  std::string self_exe = exe ? exe : argv[0];
  g_free(exe);

  GError* err = nullptr;
  relais::ElementRef writer = relais::ElementRef::adopt(gst_parse_launch(
      "videotestsrc is-live=true pattern=snow ! video/x-raw,width=640,height=360,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=1500 ! "
      "video/x-h264,profile=constrained-baseline ! h264parse ! relaisstoresink store=memory:// "
      "stream=bench",
      &err));
  if (!writer) {
    std::fprintf(stderr, "writer: %s\n", err ? err->message : "?");
    return 1;
  }
  gst_element_set_state(writer.get(), GST_STATE_PLAYING);
  iterate_for(1500);

  Result shared = measure(true, viewers, seconds, self_exe);
  Result per_viewer = measure(false, viewers, seconds, self_exe);
  gst_element_set_state(writer.get(), GST_STATE_NULL);
  if (!shared.ok || !per_viewer.ok) return 1;
  std::printf("BENCH whep_viewers_per_core viewers %.1f one_pipeline_per_viewer %.1f 1\n",
              shared.viewers_per_core, per_viewer.viewers_per_core);
  return 0;
}
