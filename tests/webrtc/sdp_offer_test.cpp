// Offer parsing, codec choice and trickle fragments, without sockets.
#include "sdp_offer.h"

#include <gtest/gtest.h>

#include "offers.h"

namespace relais::webrtc {
namespace {

using test::chromium_offer;
using test::replaced;

TEST(SdpOffer, ChromiumOfferListsItsH264AndVp8PayloadTypes) {
  OfferResult r = parse_offer(chromium_offer());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.summary.video_mline, 0);
  EXPECT_EQ(r.summary.video_mid, "0");
  ASSERT_EQ(r.summary.vp8.size(), 1u);
  EXPECT_EQ(r.summary.vp8[0].payload_type, 96);
  // packetization-mode=0 (pt 125) is left out.
  ASSERT_EQ(r.summary.h264.size(), 3u);
  EXPECT_EQ(r.summary.h264[0].payload_type, 102);
  EXPECT_EQ(r.summary.h264[1].payload_type, 108);
  EXPECT_EQ(r.summary.h264[2].payload_type, 127);
}

TEST(SdpOffer, PicksTheOffersPayloadTypeForTheStreamsCodec) {
  OfferSummary offer = parse_offer(chromium_offer()).summary;
  std::string why;
  auto cb = choose_codec(
      offer,
      stream_format_from_caps("video/x-h264, stream-format=(string)avc, "
                              "alignment=(string)au, profile=(string)constrained-baseline"),
      std::nullopt, &why);
  ASSERT_TRUE(cb) << why;
  EXPECT_EQ(cb->codec, VideoCodec::kH264);
  EXPECT_EQ(cb->payload_type, 108);  // 42e01f is constrained baseline itself
  EXPECT_EQ(cb->profile_level_id, "42e01f");

  auto main = choose_codec(offer, stream_format_from_caps("video/x-h264, profile=(string)main"),
                           std::nullopt, &why);
  ASSERT_TRUE(main) << why;
  EXPECT_EQ(main->payload_type, 127);

  auto vp8 = choose_codec(offer, stream_format_from_caps("video/x-vp8, width=(int)320"),
                          std::nullopt, &why);
  ASSERT_TRUE(vp8) << why;
  EXPECT_EQ(vp8->codec, VideoCodec::kVp8);
  EXPECT_EQ(vp8->payload_type, 96);
}

TEST(SdpOffer, HighProfileNeedsAnOfferThatDecodesIt) {
  OfferSummary offer = parse_offer(chromium_offer()).summary;
  std::string why;
  EXPECT_FALSE(choose_codec(offer, stream_format_from_caps("video/x-h264, profile=(string)high"),
                            std::nullopt, &why));
  EXPECT_NE(why.find("high"), std::string::npos) << why;
  OfferSummary with_high =
      parse_offer(replaced(chromium_offer(), "profile-level-id=4d001f", "profile-level-id=64001f"))
          .summary;
  auto c = choose_codec(with_high, stream_format_from_caps("video/x-h264, profile=(string)high"),
                        std::nullopt, &why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(c->payload_type, 127);
}

TEST(SdpOffer, RawVideoIsEncodedOnceInTheCodecTheFirstViewerChose) {
  OfferSummary offer = parse_offer(chromium_offer()).summary;
  StreamFormat raw = stream_format_from_caps("video/x-raw, format=(string)I420, width=(int)320");
  std::string why;
  auto first = choose_codec(offer, raw, std::nullopt, &why);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->codec, VideoCodec::kH264);
  auto vp8 = choose_codec(offer, raw, VideoCodec::kVp8, &why);
  ASSERT_TRUE(vp8);
  EXPECT_EQ(vp8->payload_type, 96);
  OfferSummary h264_only = offer;
  h264_only.vp8.clear();
  EXPECT_FALSE(choose_codec(h264_only, raw, VideoCodec::kVp8, &why));
}

TEST(SdpOffer, UnsupportedStreamMediaIsExplained) {
  OfferSummary offer = parse_offer(chromium_offer()).summary;
  std::string why;
  EXPECT_FALSE(choose_codec(offer, stream_format_from_caps("audio/x-opus"), std::nullopt, &why));
  EXPECT_NE(why.find("audio/x-opus"), std::string::npos) << why;
}

TEST(SdpOffer, Vp8StreamAndAnOfferWithoutVp8) {
  std::string offer = replaced(chromium_offer(), "a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP9/90000");
  OfferResult r = parse_offer(offer);
  ASSERT_TRUE(r.ok);
  std::string why;
  EXPECT_FALSE(choose_codec(r.summary, stream_format_from_caps("video/x-vp8"), std::nullopt, &why));
  EXPECT_NE(why.find("VP8"), std::string::npos);
}

struct BadOffer {
  const char* name;
  std::string sdp;
  const char* expect;  // part of the error message
};

TEST(SdpOffer, MalformedOrHostileOffersAreRejectedWithAReason) {
  std::string many_media = chromium_offer();
  for (int i = 0; i < 20; i++)
    many_media += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
  std::string many_formats = "m=video 9 UDP/TLS/RTP/SAVPF";
  for (int i = 0; i < 100; i++) many_formats += " " + std::to_string(i);
  const BadOffer cases[] = {
      {"empty", "", "v=0"},
      {"not sdp", "hello world", "v=0"},
      {"json", "{\"sdp\": \"v=0\"}", "v=0"},
      {"no media", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "no media"},
      {"audio only", replaced(chromium_offer(), "m=video", "m=audio"), "no video"},
      {"sendonly", replaced(chromium_offer(), "a=recvonly", "a=sendonly"), "does not receive"},
      {"port 0", replaced(chromium_offer(), "m=video 9", "m=video 0"), "disabled"},
      {"plain RTP", replaced(chromium_offer(), "UDP/TLS/RTP/SAVPF", "RTP/AVP"), "SAVPF"},
      {"no ice",
       replaced(replaced(chromium_offer(), "a=ice-ufrag:Xy7q\r\n", ""), "a=ice-pwd", "a=x-pwd"),
       "ICE"},
      {"no fingerprint", replaced(chromium_offer(), "a=fingerprint", "a=x-fingerprint"),
       "fingerprint"},
      {"only pm=0 h264",
       replaced(replaced(replaced(replaced(chromium_offer(), "VP8/90000", "VP9/90000"),
                                  "packetization-mode=1;profile-level-id=42001f",
                                  "packetization-mode=0"),
                         "packetization-mode=1;profile-level-id=42e01f", "packetization-mode=0"),
                "packetization-mode=1;profile-level-id=4d001f", "packetization-mode=0"),
       "no usable codec"},
      {"garbage profile",
       replaced(replaced(replaced(replaced(chromium_offer(), "VP8/90000", "VP9/90000"), "42001f",
                                  "zzzzzz"),
                         "42e01f", "4"),
                "4d001f", "4d001f00"),
       "no usable codec"},
      {"nul byte", std::string("v=0\r\n\0m=video", 14), "NUL"},
      {"too many media", many_media, "media sections"},
      {"too many formats",
       replaced(chromium_offer(), "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 108 109 127 125",
                many_formats),
       "too many"},
      {"control char in mid", replaced(chromium_offer(), "a=mid:0", "a=mid:0\x01"), "control"},
  };
  for (const BadOffer& c : cases) {
    OfferResult r = parse_offer(c.sdp);
    EXPECT_FALSE(r.ok) << c.name;
    EXPECT_NE(r.error.find(c.expect), std::string::npos) << c.name << ": " << r.error;
  }
}

TEST(SdpOffer, H264ProfileCompatibility) {
  EXPECT_TRUE(h264_profile_decodable("constrained-baseline", "42e01f"));
  EXPECT_TRUE(h264_profile_decodable("constrained-baseline", "4d001f"));
  EXPECT_TRUE(h264_profile_decodable("main", "640c1f"));
  EXPECT_FALSE(h264_profile_decodable("main", "42e01f"));
  EXPECT_FALSE(h264_profile_decodable("high", "4d001f"));
  EXPECT_FALSE(h264_profile_decodable("baseline", "42e01f"));
  EXPECT_TRUE(h264_profile_decodable("baseline", "42001f"));
  EXPECT_TRUE(h264_profile_decodable("", "42e01f"));
  EXPECT_FALSE(h264_profile_decodable("main", "nothex"));
}

TEST(TrickleFragment, ReadsCandidatesCredentialsAndEnd) {
  TrickleFragment f = parse_trickle_fragment(
      "a=ice-ufrag:Xy7q\r\na=ice-pwd:0123456789abcdefghijklmn\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n"
      "a=mid:0\r\na=candidate:1 1 UDP 2122260223 192.0.2.7 54321 typ host\r\n"
      "a=candidate:2 1 UDP 1686052607 198.51.100.1 54321 typ srflx raddr 192.0.2.7 rport 54321\r\n"
      "a=end-of-candidates\r\n");
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.ice_ufrag, "Xy7q");
  EXPECT_EQ(f.ice_pwd, "0123456789abcdefghijklmn");
  EXPECT_TRUE(f.end_of_candidates);
  ASSERT_EQ(f.candidates.size(), 2u);
  EXPECT_EQ(f.candidates[0].candidate, "candidate:1 1 UDP 2122260223 192.0.2.7 54321 typ host");
  EXPECT_EQ(f.candidates[0].mid, "0");
  EXPECT_EQ(f.candidates[0].mline, 0);
}

TEST(TrickleFragment, MdnsCandidatesAreRecognised) {
  EXPECT_TRUE(is_mdns_candidate(
      "candidate:3 1 udp 2113937151 82ae5051-82da-48a5-8fe2-51a5eac485a3.local 51234 typ host"));
  EXPECT_TRUE(is_mdns_candidate("candidate:3 1 udp 2113937151 Host.LOCAL 51234 typ host"));
  EXPECT_FALSE(is_mdns_candidate("candidate:1 1 UDP 2122260223 192.0.2.7 54321 typ host"));
  EXPECT_FALSE(is_mdns_candidate("candidate:1 1 UDP 2122260223 fd00::2 54321 typ host"));
  EXPECT_FALSE(is_mdns_candidate("candidate:1"));
}

TEST(TrickleFragment, MalformedFragmentsAreRejected) {
  EXPECT_FALSE(parse_trickle_fragment("").ok);
  EXPECT_FALSE(parse_trickle_fragment("\r\n\r\n").ok);
  EXPECT_FALSE(parse_trickle_fragment("a=candidate:1 1 UDP\r\n").ok);
  EXPECT_FALSE(parse_trickle_fragment("a=candidate:1 1 UDP 1 192.0.2.7 5 notyp host\r\n").ok);
  EXPECT_FALSE(
      parse_trickle_fragment(std::string("a=candidate:1 1 UDP 1 1.2.3.4 5 typ host\x07\r\n")).ok);
  std::string flood;
  for (int i = 0; i < 300; i++) flood += "a=candidate:1 1 UDP 1 192.0.2.7 5 typ host\r\n";
  TrickleFragment f = parse_trickle_fragment(flood);
  EXPECT_FALSE(f.ok);
  EXPECT_NE(f.error.find("too many"), std::string::npos);
}

TEST(AnswerCandidates, AddsMissingCandidatesToTheVideoSection) {
  std::string sdp =
      "v=0\r\ns=-\r\nm=audio 9 X 0\r\na=mid:a\r\nm=video 9 X 96\r\na=mid:v\r\n"
      "a=candidate:1 1 UDP 5 192.0.2.2 1000 typ host\r\n";
  std::string out =
      add_candidates_to_sdp(sdp, 1,
                            {"candidate:1 1 UDP 5 192.0.2.2 1000 typ host",
                             "candidate:2 1 TCP 3 192.0.2.2 9 typ host tcptype active"});
  EXPECT_EQ(out,
            "v=0\r\ns=-\r\nm=audio 9 X 0\r\na=mid:a\r\nm=video 9 X 96\r\na=mid:v\r\n"
            "a=candidate:1 1 UDP 5 192.0.2.2 1000 typ host\r\n"
            "a=candidate:2 1 TCP 3 192.0.2.2 9 typ host tcptype active\r\na=end-of-candidates\r\n");
  std::string first = add_candidates_to_sdp(sdp, 0, {"candidate:3 1 UDP 1 192.0.2.2 7 typ host"});
  EXPECT_NE(first.find("a=mid:a\r\na=candidate:3 1 UDP 1 192.0.2.2 7 typ "
                       "host\r\na=end-of-candidates\r\nm=video"),
            std::string::npos)
      << first;
}

}  // namespace
}  // namespace relais::webrtc
