// WHEP offer checks, independent of webrtcbin and of HTTP: parse a viewer's
// SDP offer, pick the payload type that carries the stream's codec, and read
// trickle-ICE fragments. Pure functions, unit-tested without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace relais::webrtc {

enum class VideoCodec { kH264, kVp8 };

const char* codec_name(VideoCodec codec);  // "H264", "VP8" (RTP encoding names)

// What the stream in the store holds, read from its caps string.
struct StreamFormat {
  enum class Kind { kH264, kVp8, kRaw, kUnsupported };
  Kind kind = Kind::kUnsupported;
  std::string profile;  // H.264 profile from the caps ("constrained-baseline", ...), may be empty
  std::string media_type;  // e.g. "video/x-h264", for messages
};
StreamFormat stream_format_from_caps(const std::string& caps);

// The codec a viewer gets and the numbers its offer uses for it.
struct CodecChoice {
  VideoCodec codec = VideoCodec::kH264;
  int payload_type = 96;
  std::string profile_level_id;  // H.264 only: the offer's value, echoed in the caps
};

struct OfferSummary {
  int video_mline = -1;           // index of the first usable video m-line
  std::string video_mid;          // its a=mid, may be empty
  std::vector<CodecChoice> h264;  // packetization-mode=1 entries, in offer order
  std::vector<CodecChoice> vp8;
  int media_count = 0;
};

struct OfferResult {
  bool ok = false;
  std::string error;  // for a 400: what is wrong with the offer, in plain words
  OfferSummary summary;
};

// Limits that keep a hostile offer from costing much.
constexpr int kMaxMediaSections = 16;
constexpr int kMaxFormatsPerMedia = 64;

// Parses and checks an offer: SDP syntax, ICE credentials, DTLS fingerprint,
// a video section the viewer receives on, and its H.264/VP8 payload types.
OfferResult parse_offer(const std::string& sdp);

// Picks the entry of `offer` that can carry `format` without re-encoding, or
// (raw video) the codec to encode to, preferring `raw_encode` when given (a
// stream's encoder is chosen once, by its first viewer). Empty if none fits;
// `why` then says what the viewer lacks.
std::optional<CodecChoice> choose_codec(const OfferSummary& offer, const StreamFormat& format,
                                        std::optional<VideoCodec> raw_encode, std::string* why);

// True if a decoder for the H.264 `profile_level_id` (hex, 6 digits) decodes
// streams of `profile` (caps name; empty = unknown, accepted).
bool h264_profile_decodable(const std::string& profile, const std::string& profile_level_id);

// One remote candidate from a trickle-ICE fragment.
struct TrickleCandidate {
  int mline = 0;
  std::string mid;
  std::string candidate;  // "candidate:..." (the a= value)
};

struct TrickleFragment {
  bool ok = false;
  std::string error;
  std::string ice_ufrag;  // empty when the fragment has none
  std::string ice_pwd;
  bool end_of_candidates = false;
  std::vector<TrickleCandidate> candidates;
};

// True for a candidate whose address is an mDNS name ("<uuid>.local", as
// browsers send to hide local addresses). libnice cannot resolve those; the
// browser is reached through the peer-reflexive candidate its checks create.
bool is_mdns_candidate(const std::string& candidate);

// Reads an application/trickle-ice-sdpfrag body (RFC 8840 fragment).
TrickleFragment parse_trickle_fragment(const std::string& body);

// Adds `candidates` ("candidate:..." values) to the media section of `sdp`
// that has none of them yet, plus a=end-of-candidates, so an answer can carry
// every server candidate. Lines already present are not repeated.
std::string add_candidates_to_sdp(const std::string& sdp, int mline,
                                  const std::vector<std::string>& candidates);

}  // namespace relais::webrtc
