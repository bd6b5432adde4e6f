// The WHEP service against the real memory store and real webrtcbin peers in
// the test process: offer → answer, trickle ICE over PATCH, decoded frames,
// viewers joining and leaving, and every error status.
#include "whep_service.h"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "ice_agent.h"
#include "offers.h"
#include "registry.h"
#include "ssdp_listener.h"
#include "whep_peer.h"

namespace relais::webrtc {
namespace {

using test::call;
using test::header_of;
using test::make_request;
using test::run_until;
using test::SsdpListener;
using test::WhepPeer;

constexpr size_t kMaxBody = 64 * 1024;

// A pipeline that writes a test pattern into the memory store.
class Writer {
 public:
  explicit Writer(const std::string& description) {
    GError* err = nullptr;
    pipeline_ = ElementRef::adopt(gst_parse_launch(description.c_str(), &err));
    if (err) {
      ADD_FAILURE() << err->message;
      g_error_free(err);
    }
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
  }
  ~Writer() { stop(); }
  void stop() {
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }

 private:
  ElementRef pipeline_;
};

std::string h264_writer(const std::string& stream, int key_int = 30, int frames = -1) {
  return "videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string(frames) +
         " ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency "
         "speed-preset=ultrafast key-int-max=" +
         std::to_string(key_int) +
         " ! video/x-h264,profile=constrained-baseline ! h264parse ! relaisstoresink "
         "store=memory:// stream=" +
         stream;
}

std::string vp8_writer(const std::string& stream) {
  return "videotestsrc is-live=true pattern=smpte ! "
         "video/x-raw,width=320,height=240,framerate=30/1 "
         "! vp8enc deadline=1 keyframe-max-dist=30 ! relaisstoresink store=memory:// stream=" +
         stream;
}

std::string raw_writer(const std::string& stream) {
  return "videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 "
         "! relaisstoresink store=memory:// stream=" +
         stream;
}

bool stream_has_media(const std::string& stream) {
  std::shared_ptr<store::Store> s;
  if (!store::open_store("memory://", &s).is_ok()) return false;
  std::vector<store::StreamInfo> streams;
  s->list_streams(&streams);
  for (const auto& info : streams)
    if (info.name == stream && !info.caps.empty() && info.frames_retained > 2) return true;
  return false;
}

// Trickles both ways until the peer has decoded `frames` frames.
bool receive(WhepService& service, WhepPeer& peer, int frames, int timeout_ms = 15000) {
  return run_until(
      [&] {
        for (int status : peer.trickle(service)) EXPECT_EQ(status, 204);
        return peer.frames() >= frames;
      },
      timeout_ms);
}

WhepOptions quick_options() {
  WhepOptions o;
  o.connect_timeout_ms = 10000;
  o.liveness_timeout_ms = 12000;
  o.reap_interval_ms = 200;
  return o;
}

TEST(WhepService, H264ViewersShareOneStreamAndLeaveIndependently) {
  Writer writer(h264_writer("e2e-h264"));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-h264"); }, 5000));
  WhepService service("memory://", {}, "", kMaxBody, quick_options());

  WhepPeer first;
  HttpResponse r = first.connect(service, "e2e-h264");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/sdp");
  EXPECT_EQ(first.session_url().rfind("/whep/e2e-h264/", 0), 0u) << first.session_url();
  EXPECT_FALSE(header_of(r, "ETag").empty());
  // Answered after caps reached webrtcbin, with the offer's H.264 payload
  // type and every server candidate.
  EXPECT_NE(r.body.find("a=ssrc:"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("a=rtpmap:102 H264/90000"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("a=candidate:"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("a=end-of-candidates"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("a=sendonly"), std::string::npos) << r.body;
  // Loss recovery: NACK feedback and RTX, its SSRC grouped with the video's.
  EXPECT_NE(r.body.find("a=rtcp-fb:102 nack"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(" rtx/90000"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("apt=102"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("a=ssrc-group:FID "), std::string::npos) << r.body;
  ASSERT_TRUE(receive(service, first, 30)) << "frames: " << first.frames();
  EXPECT_EQ(first.width(), 320);

  // Another client numbers H.264 differently: its branch carries its own pt.
  WhepPeer second(108, 96);
  HttpResponse r2 = second.connect(service, "e2e-h264");
  ASSERT_EQ(r2.status, 201);
  EXPECT_NE(r2.body.find("a=rtpmap:108 H264/90000"), std::string::npos) << r2.body;
  ASSERT_TRUE(receive(service, second, 30)) << "frames: " << second.frames();
  EXPECT_EQ(service.viewer_count("e2e-h264"), 2u);
  EXPECT_NE(service.prometheus_metrics().find("relais_whep_viewers{stream=\"e2e-h264\"} 2"),
            std::string::npos);

  EXPECT_EQ(first.disconnect(service).status, 200);
  EXPECT_EQ(service.viewer_count("e2e-h264"), 1u);
  int before = second.frames();
  ASSERT_TRUE(receive(service, second, before + 30)) << "frames: " << second.frames();
  EXPECT_TRUE(service.has_egress("e2e-h264"));

  EXPECT_EQ(second.disconnect(service).status, 200);
  EXPECT_EQ(service.session_count(), 0u);
  EXPECT_FALSE(service.has_egress("e2e-h264"));
  std::string metrics = service.prometheus_metrics();
  EXPECT_NE(metrics.find("relais_whep_sessions_created_total 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relais_whep_sessions_ended_total 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relais_whep_sessions_failed_total 0"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("relais_whep_bytes_sent_total{stream=\"e2e-h264\"} 0\n"),
            std::string::npos)
      << metrics;
  // Deleting twice, or patching a deleted session, finds nothing.
  EXPECT_EQ(second.disconnect(service).status, 404);
}

// libnice turns UPnP-IGD on by default: every ICE agent would then send SSDP
// M-SEARCH multicast out of the machine's interface. Neither the server's
// viewers nor the test's peers may do that.
TEST(WhepService, ViewerSessionsSendNoUpnpDiscovery) {
  SsdpListener ssdp;
  ASSERT_TRUE(ssdp.listening()) << ssdp.error();
  Writer writer(h264_writer("no-upnp"));
  ASSERT_TRUE(run_until([] { return stream_has_media("no-upnp"); }, 5000));
  WhepService service("memory://", {}, "", kMaxBody, quick_options());
  WhepPeer peer;
  EXPECT_FALSE(ice_agent_upnp_enabled(peer.webrtcbin()));
  ASSERT_EQ(peer.connect(service, "no-upnp").status, 201);
  ASSERT_TRUE(receive(service, peer, 15)) << "frames: " << peer.frames();
  run_until([] { return false; }, 1500);  // gupnp-igd searches right after gathering
  EXPECT_EQ(ssdp.m_searches_seen(), 0);
  EXPECT_EQ(peer.disconnect(service).status, 200);
}

// The candidates ("a=candidate:..." lines or bare) of an SDP text.
std::vector<std::string> candidates_in(const std::string& sdp) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = sdp.find("candidate:", at)) != std::string::npos) {
    size_t end = sdp.find_first_of("\r\n", at);
    out.push_back(sdp.substr(at, end - at));
    at = end;
  }
  return out;
}

std::vector<std::string> fields_of(const std::string& candidate) {
  std::vector<std::string> f;
  gchar** parts = g_strsplit(candidate.c_str(), " ", -1);
  for (gchar** p = parts; *p; ++p) f.push_back(*p);
  g_strfreev(parts);
  return f;
}

// RELAIS_ICE_PORT_RANGE and _PUBLIC_IPS reach the viewers' agents: every UDP
// and passive TCP candidate of the answer is in range (active ICE-TCP ones
// carry the placeholder port 9), the public address is advertised once per
// local IPv4 host candidate, and the viewer still connects.
TEST(WhepService, IceSettingsShapeTheAnswersCandidates) {
  Writer writer(h264_writer("ice-settings"));
  ASSERT_TRUE(run_until([] { return stream_has_media("ice-settings"); }, 5000));
  WhepOptions options = quick_options();
  options.ice.min_port = 40000;
  options.ice.max_port = 40100;
  options.ice.public_ips = {"203.0.113.7"};
  options.ice.tcp = true;
  WhepService service("memory://", {}, "", kMaxBody, options);
  WhepPeer peer;
  HttpResponse r = peer.connect(service, "ice-settings");
  ASSERT_EQ(r.status, 201) << r.body;
  auto candidates = candidates_in(r.body);
  ASSERT_FALSE(candidates.empty()) << r.body;
  int public_hosts = 0, private_v4_hosts = 0;
  for (const auto& c : candidates) {
    auto f = fields_of(c);
    ASSERT_GE(f.size(), 8u) << c;
    int port = atoi(f[5].c_str());
    if (c.find("tcptype active") != std::string::npos) {
      EXPECT_EQ(port, 9) << c;
      EXPECT_NE(f[4], "203.0.113.7") << "an active TCP candidate is not advertised: " << c;
      continue;
    }
    EXPECT_GE(port, 40000) << c;
    EXPECT_LE(port, 40100) << c;
    if (f[4] == "203.0.113.7" && f[7] == "host")
      ++public_hosts;
    else if (f[4].find(':') == std::string::npos && f[7] == "host")
      ++private_v4_hosts;
  }
  EXPECT_GT(public_hosts, 0) << r.body;
  EXPECT_EQ(public_hosts, private_v4_hosts) << r.body;
  ASSERT_TRUE(receive(service, peer, 15)) << "frames: " << peer.frames();
  EXPECT_EQ(peer.disconnect(service).status, 200);
}

// libnice never gathers on loopback by itself; with RELAIS_ICE_INTERFACES=lo a
// viewer on the same host whose only candidates are 127.0.0.1 connects.
TEST(WhepService, LoopbackViewerConnectsWhenLoIsAnIceInterface) {
  Writer writer(h264_writer("ice-lo"));
  ASSERT_TRUE(run_until([] { return stream_has_media("ice-lo"); }, 5000));
  WhepOptions options = quick_options();
  options.ice.interfaces = {"lo"};
  WhepService service("memory://", {}, "", kMaxBody, options);
  WhepPeer peer;
  IceSettings viewer_side;
  viewer_side.interfaces = {"127.0.0.1"};
  viewer_side.tcp = false;
  std::string error;
  ASSERT_TRUE(peer.use_ice(viewer_side, &error)) << error;
  HttpResponse r = peer.connect(service, "ice-lo");
  ASSERT_EQ(r.status, 201) << r.body;
  for (const auto& c : candidates_in(r.body)) {
    std::string address = fields_of(c).at(4);
    EXPECT_TRUE(address == "127.0.0.1" || address == "::1") << "not loopback: " << c;
  }
  ASSERT_TRUE(receive(service, peer, 15)) << "frames: " << peer.frames();
  auto mine = peer.local_candidates();
  ASSERT_FALSE(mine.empty());
  for (const auto& c : mine) EXPECT_NE(c.find(" 127.0.0.1 "), std::string::npos) << c;
  EXPECT_EQ(peer.disconnect(service).status, 200);
}

TEST(WhepService, Vp8PassesThroughWithTheViewersPayloadType) {
  Writer writer(vp8_writer("e2e-vp8"));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-vp8"); }, 5000));
  WhepService service("memory://", {}, "", kMaxBody, quick_options());
  WhepPeer peer;
  HttpResponse r = peer.connect(service, "e2e-vp8");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find("a=rtpmap:100 VP8/90000"), std::string::npos) << r.body;
  ASSERT_TRUE(receive(service, peer, 30)) << "frames: " << peer.frames();
  EXPECT_EQ(peer.width(), 320);
  WhepPeer other(102, 120);
  r = other.connect(service, "e2e-vp8");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find("a=rtpmap:120 VP8/90000"), std::string::npos) << r.body;
  ASSERT_TRUE(receive(service, other, 30)) << "frames: " << other.frames();
}

TEST(WhepService, RawVideoIsEncodedOnceForAllViewers) {
  Writer writer(raw_writer("e2e-raw"));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-raw"); }, 5000));
  WhepService service("memory://", {}, "", kMaxBody, quick_options());
  WhepPeer a, b;
  ASSERT_EQ(a.connect(service, "e2e-raw").status, 201);
  ASSERT_EQ(b.connect(service, "e2e-raw").status, 201);
  ASSERT_TRUE(receive(service, a, 20)) << a.frames();
  ASSERT_TRUE(receive(service, b, 20)) << b.frames();
  EXPECT_NE(service.prometheus_metrics().find("relais_whep_egress_pipelines 1"), std::string::npos);
}

TEST(WhepService, NewViewerStartsAtTheNewestKeyframeWithoutWaitingForTheNext) {
  // One keyframe, then delta frames only, then the writer stops: a viewer can
  // only decode if it is given the stream from its newest keyframe.
  Writer writer(h264_writer("e2e-gop", 100000, 60));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-gop"); }, 5000));
  run_until([] { return false; }, 2500);  // all 60 frames written
  WhepService service("memory://", {}, "", kMaxBody, quick_options());
  WhepPeer first;
  ASSERT_EQ(first.connect(service, "e2e-gop").status, 201);
  ASSERT_TRUE(receive(service, first, 10)) << first.frames();
  WhepPeer second;
  ASSERT_EQ(second.connect(service, "e2e-gop").status, 201);
  ASSERT_TRUE(receive(service, second, 10)) << second.frames();
}

TEST(WhepService, AbandonedSessionsAreReaped) {
  Writer writer(h264_writer("e2e-abandon"));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-abandon"); }, 5000));
  WhepOptions options = quick_options();
  options.reap_interval_ms = 600000;  // reaped below, when the test says so
  options.connect_timeout_ms = 1500;
  WhepService service("memory://", {}, "", kMaxBody, options);
  constexpr int kSessions = 8;
  std::vector<std::unique_ptr<WhepPeer>> peers;
  for (int i = 0; i < kSessions; i++) {
    peers.push_back(std::make_unique<WhepPeer>());
    // The offer is posted but the viewer never applies the answer.
    std::string offer = peers.back()->create_offer();
    HttpResponse r =
        call(service, make_request("POST", "/whep/e2e-abandon", "application/sdp", offer));
    EXPECT_EQ(r.status, 201) << r.body;
  }
  EXPECT_EQ(service.session_count(), size_t(kSessions));
  run_until([] { return false; }, 1600);  // the newest is now past connect_timeout_ms
  EXPECT_EQ(service.reap_expired(), size_t(kSessions));
  EXPECT_EQ(service.session_count(), 0u);
  EXPECT_FALSE(service.has_egress("e2e-abandon"));
  std::string metrics = service.prometheus_metrics();
  EXPECT_NE(metrics.find("relais_whep_sessions_failed_total 8"), std::string::npos) << metrics;
}

TEST(WhepService, ViewerThatStopsAnsweringIsRemovedWithoutDisturbingOthers) {
  Writer writer(h264_writer("e2e-vanish"));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-vanish"); }, 5000));
  WhepService service("memory://", {}, "", kMaxBody, quick_options());
  WhepPeer stays, leaves;
  ASSERT_EQ(stays.connect(service, "e2e-vanish").status, 201);
  ASSERT_EQ(leaves.connect(service, "e2e-vanish").status, 201);
  ASSERT_TRUE(receive(service, stays, 20));
  ASSERT_TRUE(receive(service, leaves, 20));
  leaves.vanish();
  ASSERT_TRUE(run_until(
      [&] {
        stays.trickle(service);
        return service.viewer_count("e2e-vanish") == 1;
      },
      30000));
  int before = stays.frames();
  ASSERT_TRUE(receive(service, stays, before + 30));
}

TEST(WhepService, ViewersComingAndGoingDoNotDisturbOneWhoStays) {
  Writer writer(h264_writer("e2e-churn"));
  ASSERT_TRUE(run_until([] { return stream_has_media("e2e-churn"); }, 5000));
  WhepService service("memory://", {}, "", kMaxBody, quick_options());
  WhepPeer stays;
  ASSERT_EQ(stays.connect(service, "e2e-churn").status, 201);
  ASSERT_TRUE(receive(service, stays, 10));
  for (int round = 0; round < 3; round++) {
    // One leaves before it connects, one after it has seen pictures.
    WhepPeer quick, watcher(round % 2 ? 108 : 102, 96);
    ASSERT_EQ(quick.connect(service, "e2e-churn").status, 201);
    ASSERT_EQ(watcher.connect(service, "e2e-churn").status, 201);
    EXPECT_EQ(quick.disconnect(service).status, 200);
    ASSERT_TRUE(receive(service, watcher, 10)) << "round " << round;
    EXPECT_EQ(watcher.disconnect(service).status, 200);
    int before = stays.frames();
    ASSERT_TRUE(receive(service, stays, before + 10)) << "round " << round;
  }
  EXPECT_EQ(service.session_count(), 1u);
  std::string metrics = service.prometheus_metrics();
  EXPECT_NE(metrics.find("relais_whep_sessions_created_total 7"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relais_whep_sessions_ended_total 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relais_whep_sessions_failed_total 0"), std::string::npos) << metrics;
}

class WhepServiceErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(run_until([] { return stream_has_media("errors"); }, 5000));
  }
  Writer writer_{h264_writer("errors")};
  WhepService service_{"memory://", {}, "", 4096, quick_options()};
};

TEST_F(WhepServiceErrors, UnknownStreamIs404) {
  HttpResponse r = call(service_, make_request("POST", "/whep/nosuchstream", "application/sdp",
                                               test::chromium_offer()));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("nosuchstream"), std::string::npos);
}

TEST_F(WhepServiceErrors, StreamWithoutMediaIs409WithRetryAfter) {
  std::shared_ptr<store::Store> s;
  ASSERT_TRUE(store::open_store("memory://", &s).is_ok());
  std::unique_ptr<store::Writer> w;
  ASSERT_TRUE(s->open_writer("nomedia", {}, &w).is_ok());
  store::Frame header;
  header.flags = store::kFlagHeader;
  w->write(header);
  HttpResponse r = call(
      service_, make_request("POST", "/whep/nomedia", "application/sdp", test::chromium_offer()));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_FALSE(header_of(r, "Retry-After").empty());
}

TEST_F(WhepServiceErrors, MalformedOrUnusableOffersAre400) {
  for (const std::string& body :
       {std::string("v=0\r\nnot really"), std::string("garbage"), std::string(4000, 'v'),
        test::replaced(test::chromium_offer(), "m=video", "m=audio"),
        test::replaced(test::replaced_all(test::chromium_offer(), "H264/90000", "H265/90000"),
                       "a=rtpmap:96 VP8", "a=rtpmap:96 AV1")}) {
    HttpResponse r = call(service_, make_request("POST", "/whep/errors", "application/sdp", body));
    EXPECT_EQ(r.status, 400) << body.substr(0, 40) << ": " << r.body;
    EXPECT_NE(r.body.find("\"message\""), std::string::npos);
  }
  EXPECT_EQ(service_.session_count(), 0u);
}

TEST_F(WhepServiceErrors, WrongContentTypeAndOversizeBody) {
  EXPECT_EQ(
      call(service_, make_request("POST", "/whep/errors", "text/plain", test::chromium_offer()))
          .status,
      415);
  EXPECT_EQ(call(service_, make_request("POST", "/whep/errors", "application/sdp",
                                        test::chromium_offer() + std::string(5000, 'a')))
                .status,
            413);
}

TEST_F(WhepServiceErrors, PatchAndDeleteOfUnknownSessionsAre404) {
  const std::string frag = "a=candidate:1 1 UDP 2122260223 192.0.2.7 54321 typ host\r\n";
  EXPECT_EQ(call(service_, make_request("PATCH", "/whep/errors/0123456789abcdef",
                                        "application/trickle-ice-sdpfrag", frag))
                .status,
            404);
  EXPECT_EQ(call(service_, make_request("DELETE", "/whep/errors/0123456789abcdef", "", "")).status,
            404);
  EXPECT_EQ(call(service_, make_request("DELETE", "/whep/errors/..", "", "")).status, 404);
}

TEST_F(WhepServiceErrors, PatchChecksEtagFragmentAndIceRestart) {
  WhepPeer peer;
  HttpResponse r = peer.connect(service_, "errors");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string url = peer.session_url();
  auto patch = [&](const std::string& body, const std::string& if_match) {
    HttpRequest req = make_request("PATCH", url, "application/trickle-ice-sdpfrag", body);
    if (!if_match.empty()) req.headers["if-match"] = if_match;
    return call(service_, req);
  };
  EXPECT_EQ(patch("a=end-of-candidates\r\n", "\"not-the-etag\"").status, 412);
  EXPECT_EQ(patch("a=candidate:broken\r\n", "").status, 400);
  EXPECT_EQ(patch("a=ice-ufrag:another\r\na=ice-pwd:anotheranotheranother\r\n", "").status, 422);
  EXPECT_EQ(patch("a=end-of-candidates\r\n", header_of(r, "ETag")).status, 204);
  // The session's URL under another stream is not the session.
  std::string other = url;
  other.replace(0, std::string("/whep/errors").size(), "/whep/other");
  EXPECT_EQ(call(service_, make_request("DELETE", other, "", "")).status, 404);
  EXPECT_EQ(peer.disconnect(service_).status, 200);
}

TEST_F(WhepServiceErrors, SessionLimitIs503) {
  WhepOptions o = quick_options();
  o.max_sessions = 1;
  WhepService limited("memory://", {}, "", kMaxBody, o);
  WhepPeer a, b;
  ASSERT_EQ(a.connect(limited, "errors").status, 201);
  HttpResponse r = b.connect(limited, "errors");
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(header_of(r, "Retry-After").empty());
}

TEST_F(WhepServiceErrors, FullNodeRedirectsToAnotherWhenItKnowsOne) {
  WhepOptions o = quick_options();
  o.max_sessions = 1;
  std::string other = "http://192.0.2.7:8080";
  o.redirect_when_full = [&](const std::string&) { return other; };
  WhepService limited("memory://", {}, "", kMaxBody, o);
  WhepPeer a, b, c;
  ASSERT_EQ(a.connect(limited, "errors").status, 201);
  HttpResponse r = b.connect(limited, "errors");
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(header_of(r, "Location"), "http://192.0.2.7:8080/whep/errors");
  other.clear();
  EXPECT_EQ(c.connect(limited, "errors").status, 503);
}

// RELAIS_MAX_VIEWERS: the viewer budget makes the node full before max_sessions.
TEST_F(WhepServiceErrors, ViewerBudgetRedirectsThen503WithRetryAfter) {
  WhepOptions o = quick_options();
  o.max_viewers = 1;
  std::string other = "http://192.0.2.8:8080";
  o.redirect_when_full = [&](const std::string&) { return other; };
  WhepService limited("memory://", {}, "", kMaxBody, o);
  WhepPeer a, b, c;
  ASSERT_EQ(a.connect(limited, "errors").status, 201);
  HttpResponse r = b.connect(limited, "errors");
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(header_of(r, "Location"), "http://192.0.2.8:8080/whep/errors");
  other.clear();
  r = c.connect(limited, "errors");
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(header_of(r, "Retry-After").empty());
  EXPECT_NE(r.body.find("limit of 1 viewer sessions"), std::string::npos) << r.body;
}

TEST_F(WhepServiceErrors, BrokenStreamFailsItsViewersWith502) {
  // H.264 in avc form without codec_data cannot be parsed: the stream's
  // pipeline fails, and the viewer waiting for its answer is told so.
  std::shared_ptr<store::Store> s;
  ASSERT_TRUE(store::open_store("memory://", &s).is_ok());
  std::unique_ptr<store::Writer> w;
  ASSERT_TRUE(s->open_writer("broken", {}, &w).is_ok());
  store::Frame frame;
  frame.flags = store::kFlagKeyframe;
  frame.caps = store::make_caps(
      "video/x-h264, stream-format=(string)avc, alignment=(string)au, "
      "profile=(string)constrained-baseline, width=(int)320, height=(int)240");
  frame.payload = Bytes::copy_of("\0\0\0\x02\x65\x88", 6);
  for (int i = 0; i < 5; i++) w->write(frame);
  WhepPeer peer;
  HttpResponse r = peer.connect(service_, "broken");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("pipeline failed"), std::string::npos) << r.body;
  EXPECT_EQ(service_.session_count(), 0u);
  EXPECT_FALSE(service_.has_egress("broken"));
  EXPECT_NE(service_.prometheus_metrics().find("relais_whep_sessions_failed_total 1"),
            std::string::npos);
}

// The routes a server gets from add_routes().
class Routes : public server::RouteTable {
 public:
  void add_prefix(const std::string& prefix, server::HttpHandler handler) override {
    handlers[prefix] = std::move(handler);
  }
  std::map<std::string, server::HttpHandler> handlers;
};

TEST_F(WhepServiceErrors, AddRoutesRegistersWhepAndTheViewerPage) {
  Routes routes;
  service_.add_routes(routes);
  ASSERT_EQ(routes.handlers.size(), 2u);
  ASSERT_TRUE(routes.handlers.count("/whep/"));
  ASSERT_TRUE(routes.handlers.count("/watch/"));
  HttpResponse r;
  routes.handlers["/whep/"](make_request("OPTIONS", "/whep/errors", "", ""),
                            [&](HttpResponse x) { r = x; });
  EXPECT_EQ(r.status, 204);
  routes.handlers["/watch/"](make_request("GET", "/watch/errors", "", ""),
                             [&](HttpResponse x) { r = x; });
  EXPECT_EQ(r.status, 200);
}

TEST_F(WhepServiceErrors, PendingOffersAreAnsweredWhenTheServiceStops) {
  WhepPeer peer;
  std::string offer = peer.create_offer();
  std::vector<int> statuses;
  {
    WhepService service("memory://", {}, "", kMaxBody, quick_options());
    service.handle(make_request("POST", "/whep/errors", "application/sdp", offer),
                   [&](HttpResponse r) { statuses.push_back(r.status); });
    EXPECT_TRUE(statuses.empty());  // negotiating
  }
  EXPECT_EQ(statuses, std::vector<int>{503});
  run_until([] { return false; }, 200);  // late webrtcbin events find no service
  EXPECT_EQ(statuses.size(), 1u);
}

TEST_F(WhepServiceErrors, ViewerTokenIsRequiredWhenSet) {
  WhepService guarded("memory://", {}, "letmein", kMaxBody, quick_options());
  WhepPeer peer;
  std::string offer = peer.create_offer();
  HttpRequest req = make_request("POST", "/whep/errors", "application/sdp", offer);
  EXPECT_EQ(call(guarded, req).status, 401);
  req.headers["authorization"] = "Bearer letmein";
  HttpResponse r = call(guarded, req);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(WhepServiceErrors, IceServersAreAdvertisedInLinkHeaders) {
  std::vector<IceServer> servers;
  std::string error;
  ASSERT_TRUE(parse_ice_servers("stun:192.0.2.1:3478", &servers, &error));
  WhepService with_stun("memory://", servers, "", kMaxBody, quick_options());
  WhepPeer peer;
  HttpResponse r = peer.connect(with_stun, "errors");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(header_of(r, "Link"), "<stun:192.0.2.1:3478>; rel=\"ice-server\"");
}

TEST_F(WhepServiceErrors, HostilePathsGetTheRightStatus) {
  struct Case {
    const char* method;
    std::string path;
    const char* type;
    int status;
  };
  const std::string frag = "a=end-of-candidates\r\n";
  const Case cases[] = {
      {"POST", "/whep/errors/extra", "application/sdp", 405},
      {"POST", "/whep/a/b/c", "application/sdp", 404},
      {"POST", "/whep/..", "application/sdp", 400},
      {"POST", "/whep/../errors", "application/sdp", 400},
      {"POST", "/whep/err%00ors", "application/sdp", 400},
      {"POST", std::string("/whep/err\x1bors"), "application/sdp", 400},
      {"POST", std::string("/whep/err\x7fors"), "application/sdp", 400},
      {"POST", "/whep/ERRORS", "application/sdp", 400},
      {"PATCH", "/whep/errors/../../etc", "application/trickle-ice-sdpfrag", 404},
      {"PATCH",
       std::string("/whep/errors/ab\x01"
                   "cd"),
       "application/trickle-ice-sdpfrag", 404},
      {"PATCH", "/whep/errors/" + std::string(500, 'a'), "application/trickle-ice-sdpfrag", 404},
      {"DELETE", "/whep/errors/", "", 405},
      {"DELETE", "/whep/errors/nosuchsession", "", 404},
      {"GET", "/whep/errors", "", 405},
      {"PUT", "/whep/errors", "application/sdp", 405},
      {"OPTIONS", "/whep/errors", "", 204},
  };
  for (const Case& c : cases) {
    HttpResponse r = call(
        service_, make_request(c.method, c.path, c.type,
                               c.method == std::string("PATCH") ? frag : test::chromium_offer()));
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path.substr(0, 40) << ": " << r.body;
  }
  EXPECT_EQ(service_.session_count(), 0u);
}

TEST_F(WhepServiceErrors, StreamThatIsNotVideoIs400) {
  std::shared_ptr<store::Store> s;
  ASSERT_TRUE(store::open_store("memory://", &s).is_ok());
  std::unique_ptr<store::Writer> w;
  ASSERT_TRUE(s->open_writer("audioonly", {}, &w).is_ok());
  store::Frame frame;
  frame.flags = store::kFlagKeyframe;
  frame.caps = store::make_caps("audio/x-opus, channels=(int)2, rate=(int)48000");
  frame.payload = Bytes::copy_of("abc", 3);
  w->write(frame);
  HttpResponse r = call(
      service_, make_request("POST", "/whep/audioonly", "application/sdp", test::chromium_offer()));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("audio/x-opus"), std::string::npos) << r.body;
}

TEST_F(WhepServiceErrors, ViewerPageIsServedForValidStreamNames) {
  HttpResponse page;
  service_.handle_page(make_request("GET", "/watch/errors", "", ""),
                       [&](HttpResponse r) { page = r; });
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type.rfind("text/html", 0), 0u);
  EXPECT_NE(page.body.find("/whep/"), std::string::npos);
  EXPECT_EQ(page.body.find("http://"), std::string::npos);  // nothing from a CDN
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  service_.handle_page(make_request("GET", "/watch/../secret", "", ""),
                       [&](HttpResponse r) { page = r; });
  EXPECT_EQ(page.status, 404);
}

}  // namespace
}  // namespace relais::webrtc
