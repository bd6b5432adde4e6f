// A WHEP viewer process for tests that put the viewer on another host (a
// network namespace): a webrtcbin peer that talks WHEP over real HTTP,
// decodes for a while and prints one JSON line of what it saw.
//   relais-whep-viewer BASE_URL STREAM SECONDS NACK(0|1)
// It prints "steady" 2 s after the picture starts (once the cached GOP a
// viewer starts with has arrived, faster than real time), watches SECONDS
// more, and prints the figures at the end.
#include <gst/gst.h>
#include <libsoup/soup.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "whep_peer.h"

using relais::server::HttpRequest;
using relais::server::HttpResponse;
using namespace relais::webrtc::test;

namespace {

HttpResponse http(SoupSession* session, const std::string& base, const HttpRequest& request) {
  HttpResponse out;
  SoupMessage* msg = soup_message_new(request.method.c_str(), (base + request.path).c_str());
  if (!msg) return out;
  SoupMessageHeaders* headers = soup_message_get_request_headers(msg);
  std::string type;
  for (const auto& [k, v] : request.headers) {
    if (k == "content-type")
      type = v;
    else
      soup_message_headers_append(headers, k.c_str(), v.c_str());
  }
  if (!request.body.empty() || !type.empty()) {
    GBytes* body = g_bytes_new(request.body.data(), request.body.size());
    soup_message_set_request_body_from_bytes(msg, type.empty() ? nullptr : type.c_str(), body);
    g_bytes_unref(body);
  }
  GBytes* body = soup_session_send_and_read(session, msg, nullptr, nullptr);
  out.status = static_cast<int>(soup_message_get_status(msg));
  if (body) {
    out.body.assign(static_cast<const char*>(g_bytes_get_data(body, nullptr)),
                    g_bytes_get_size(body));
    g_bytes_unref(body);
  }
  SoupMessageHeadersIter iter;
  soup_message_headers_iter_init(&iter, soup_message_get_response_headers(msg));
  const char *name, *value;
  while (soup_message_headers_iter_next(&iter, &name, &value))
    out.headers.emplace_back(name, value);
  g_object_unref(msg);
  return out;
}

guint stat_of(const GstStructure* s, const char* field) {
  guint64 v64 = 0;
  guint v = 0;
  if (s && gst_structure_get_uint64(s, field, &v64)) return static_cast<guint>(v64);
  if (s && gst_structure_get_uint(s, field, &v)) return v;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 5) {
    fprintf(stderr, "usage: %s BASE_URL STREAM SECONDS NACK(0|1)\n", argv[0]);
    return 2;
  }
  std::string base = argv[1];
  int seconds = atoi(argv[3]);
  SoupSession* session = soup_session_new();
  WhepTransport transport = [&](const HttpRequest& r) { return http(session, base, r); };
  WhepPeer peer(102, 100, std::string(argv[4]) == "1");
  HttpResponse answer = peer.connect(transport, argv[2]);
  gint64 first_frame_us = 0;
  // The steady part of the run: from 2 s after the first picture (the cached
  // GOP a viewer starts with arrives faster than real time) to the end.
  gint64 steady_from_us = 0;
  int steady_first_frames = 0;
  if (answer.status == 201) {
    gint64 end = 0;
    run_until(
        [&] {
          peer.trickle(transport);
          if (first_frame_us && !end) end = first_frame_us + gint64(seconds + 2) * G_USEC_PER_SEC;
          if (first_frame_us && !steady_from_us &&
              g_get_monotonic_time() > first_frame_us + 2 * G_USEC_PER_SEC) {
            steady_from_us = g_get_monotonic_time();
            steady_first_frames = peer.frames();
            printf("steady\n");  // the test may now change the link
            fflush(stdout);
          }
          if (!first_frame_us && peer.frames() > 0) {
            first_frame_us = g_get_monotonic_time();
          }
          return end && g_get_monotonic_time() > end;
        },
        seconds * 1000 + 15000);
  }
  // Frames and packets counted since the first frame, when the link changed.
  double watched = first_frame_us ? (g_get_monotonic_time() - first_frame_us) / 1e6 : 0;
  double steady_s = steady_from_us ? (g_get_monotonic_time() - steady_from_us) / 1e6 : 0;
  GstStructure* stats = peer.jitterbuffer_stats();
  printf(
      "{\"status\":%d,\"frames\":%d,\"watched_s\":%.3f,\"steady_frames\":%d,"
      "\"steady_s\":%.3f,\"pushed\":%u,\"lost\":%u,\"rtx_requests\":%u,\"rtx_success\":%u}\n",
      answer.status, peer.frames(), watched, peer.frames() - steady_first_frames, steady_s,
      stat_of(stats, "num-pushed"), stat_of(stats, "num-lost"), stat_of(stats, "rtx-count"),
      stat_of(stats, "rtx-success-count"));
  fflush(stdout);
  if (stats) gst_structure_free(stats);
  if (answer.status == 201) peer.disconnect(transport);
  g_object_unref(session);
  return answer.status == 201 ? 0 : 1;
}
