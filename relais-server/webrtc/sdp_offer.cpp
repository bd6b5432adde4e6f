#include "sdp_offer.h"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>

namespace relais::webrtc {
namespace {

struct SdpMessageDeleter {
  void operator()(GstSDPMessage* m) const { gst_sdp_message_free(m); }
};
using SdpMessagePtr = std::unique_ptr<GstSDPMessage, SdpMessageDeleter>;

bool has_control_chars(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return g_ascii_tolower(c); });
  return s;
}

bool media_has_attribute(const GstSDPMedia* media, const char* key) {
  return gst_sdp_media_get_attribute_val(media, key) != nullptr;
}

bool has_attribute(const GstSDPMessage* msg, const GstSDPMedia* media, const char* key) {
  return media_has_attribute(media, key) || gst_sdp_message_get_attribute_val(msg, key) != nullptr;
}

// Reads "<pt> <rest>" as found in rtpmap and fmtp values.
bool split_pt(const char* value, int* pt, std::string* rest) {
  if (!value) return false;
  char* end = nullptr;
  long n = std::strtol(value, &end, 10);
  if (end == value || n < 0 || n > 127) return false;
  *pt = static_cast<int>(n);
  while (*end == ' ') end++;
  *rest = end;
  return true;
}

// fmtp parameters "a=1;b=2" (keys lower-cased).
std::vector<std::pair<std::string, std::string>> fmtp_params(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ';')) {
    auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    std::string key = item.substr(0, eq);
    key.erase(0, key.find_first_not_of(' '));
    out.emplace_back(lower(key), item.substr(eq + 1));
  }
  return out;
}

// The profiles a decoder of `profile_idc`/`constraints` handles, its own first.
std::vector<std::string> decodable_profiles(unsigned profile_idc, unsigned constraints) {
  switch (profile_idc) {
    case 0x42:
      if (constraints & 0x40) return {"constrained-baseline"};
      return {"baseline", "constrained-baseline"};
    case 0x4d:
      return {"main", "constrained-baseline"};
    case 0x64:
      return {"high", "main", "constrained-baseline", "progressive-high", "constrained-high"};
    case 0xf4:
      return {"high-4:4:4", "high-4:2:2",           "high-10",          "high",
              "main",       "constrained-baseline", "progressive-high", "constrained-high"};
    default:
      return {};
  }
}

bool parse_plid(const std::string& plid, unsigned* profile_idc, unsigned* constraints) {
  if (plid.size() != 6 ||
      !std::all_of(plid.begin(), plid.end(), [](char c) { return g_ascii_isxdigit(c); }))
    return false;
  unsigned long v = std::strtoul(plid.c_str(), nullptr, 16);
  *profile_idc = (v >> 16) & 0xff;
  *constraints = (v >> 8) & 0xff;
  return true;
}

// 0 = the decoder's own profile is the stream's, 1 = decodable, -1 = not.
int h264_match(const std::string& profile, const std::string& plid) {
  unsigned idc = 0, constraints = 0;
  if (!parse_plid(plid, &idc, &constraints)) return -1;
  auto profiles = decodable_profiles(idc, constraints);
  if (profiles.empty()) return -1;
  if (profile.empty()) return 1;
  auto it = std::find(profiles.begin(), profiles.end(), profile);
  if (it == profiles.end()) return -1;
  return it == profiles.begin() ? 0 : 1;
}

}  // namespace

const char* codec_name(VideoCodec codec) {
  return codec == VideoCodec::kVp8 ? "VP8" : "H264";
}

bool h264_profile_decodable(const std::string& profile, const std::string& profile_level_id) {
  return h264_match(profile, profile_level_id) >= 0;
}

StreamFormat stream_format_from_caps(const std::string& caps) {
  StreamFormat f;
  GstCaps* parsed = caps.empty() ? nullptr : gst_caps_from_string(caps.c_str());
  if (!parsed || gst_caps_is_empty(parsed) || gst_caps_is_any(parsed)) {
    if (parsed) gst_caps_unref(parsed);
    f.media_type = caps;
    return f;
  }
  const GstStructure* s = gst_caps_get_structure(parsed, 0);
  f.media_type = gst_structure_get_name(s);
  if (f.media_type == "video/x-h264") {
    f.kind = StreamFormat::Kind::kH264;
    if (const char* p = gst_structure_get_string(s, "profile")) f.profile = p;
  } else if (f.media_type == "video/x-vp8") {
    f.kind = StreamFormat::Kind::kVp8;
  } else if (f.media_type == "video/x-raw") {
    f.kind = StreamFormat::Kind::kRaw;
  }
  gst_caps_unref(parsed);
  return f;
}

OfferResult parse_offer(const std::string& sdp) {
  OfferResult r;
  if (sdp.compare(0, 4, "v=0\n") != 0 && sdp.compare(0, 5, "v=0\r\n") != 0) {
    r.error = "the body is not an SDP offer (it must start with \"v=0\")";
    return r;
  }
  if (sdp.find('\0') != std::string::npos) {
    r.error = "the SDP offer contains a NUL byte";
    return r;
  }
  GstSDPMessage* raw = nullptr;
  gst_sdp_message_new(&raw);
  SdpMessagePtr msg(raw);
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(sdp.data()),
                                   static_cast<guint>(sdp.size()), msg.get()) != GST_SDP_OK) {
    r.error = "the SDP offer does not parse";
    return r;
  }
  guint n_media = gst_sdp_message_medias_len(msg.get());
  r.summary.media_count = static_cast<int>(n_media);
  if (n_media == 0) {
    r.error = "the SDP offer has no media section (m=video)";
    return r;
  }
  if (n_media > kMaxMediaSections) {
    r.error = "the SDP offer has " + std::to_string(n_media) + " media sections; at most " +
              std::to_string(kMaxMediaSections) + " are accepted";
    return r;
  }
  std::string video_problem = "the SDP offer has no video section (m=video)";
  for (guint i = 0; i < n_media; i++) {
    const GstSDPMedia* media = gst_sdp_message_get_media(msg.get(), i);
    const char* kind = gst_sdp_media_get_media(media);
    if (!kind || std::string(kind) != "video") continue;
    if (gst_sdp_media_get_port(media) == 0) {
      video_problem = "the offer's video section is disabled (port 0)";
      continue;
    }
    if (media_has_attribute(media, "sendonly") || media_has_attribute(media, "inactive")) {
      video_problem =
          "the offer's video section does not receive (it must be recvonly or sendrecv)";
      continue;
    }
    const char* proto = gst_sdp_media_get_proto(media);
    if (!proto || std::string(proto).find("SAVPF") == std::string::npos) {
      video_problem = std::string("the offer's video section uses transport '") +
                      (proto ? proto : "") + "'; WebRTC needs UDP/TLS/RTP/SAVPF";
      continue;
    }
    if (gst_sdp_media_formats_len(media) > kMaxFormatsPerMedia) {
      video_problem = "the offer's video section lists too many payload types";
      continue;
    }
    OfferSummary summary = r.summary;
    std::vector<std::pair<int, std::string>> rtpmaps;
    std::vector<std::pair<int, std::string>> fmtps;
    for (guint a = 0; a < gst_sdp_media_attributes_len(media); a++) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
      if (!attr->key || !attr->value) continue;
      std::string key = attr->key;
      int pt = -1;
      std::string rest;
      if (key == "rtpmap" && split_pt(attr->value, &pt, &rest)) rtpmaps.emplace_back(pt, rest);
      if (key == "fmtp" && split_pt(attr->value, &pt, &rest)) fmtps.emplace_back(pt, rest);
    }
    std::set<int> listed;
    for (guint f = 0; f < gst_sdp_media_formats_len(media); f++) {
      const char* fmt = gst_sdp_media_get_format(media, f);
      int pt = -1;
      std::string rest;
      if (split_pt(fmt, &pt, &rest) && rest.empty()) listed.insert(pt);
    }
    for (const auto& [pt, map] : rtpmaps) {
      if (!listed.count(pt)) continue;
      std::string name = lower(map.substr(0, map.find('/')));
      std::string rate = map.find('/') == std::string::npos ? "" : map.substr(map.find('/') + 1);
      if (rate.compare(0, 5, "90000") != 0) continue;
      std::vector<std::pair<std::string, std::string>> params;
      for (const auto& [fpt, text] : fmtps)
        if (fpt == pt) params = fmtp_params(text);
      if (name == "vp8") {
        summary.vp8.push_back({VideoCodec::kVp8, pt, ""});
      } else if (name == "h264") {
        std::string mode = "0", plid = "42001f";  // RFC 6184 defaults
        for (const auto& [k, v] : params) {
          if (k == "packetization-mode") mode = v;
          if (k == "profile-level-id") plid = lower(v);
        }
        unsigned idc = 0, constraints = 0;
        if (mode == "1" && parse_plid(plid, &idc, &constraints))
          summary.h264.push_back({VideoCodec::kH264, pt, plid});
      }
    }
    if (summary.h264.empty() && summary.vp8.empty()) {
      video_problem =
          "the offer's video section has no usable codec (H.264 with packetization-mode=1, or "
          "VP8)";
      continue;
    }
    if (!has_attribute(msg.get(), media, "ice-ufrag") ||
        !has_attribute(msg.get(), media, "ice-pwd")) {
      video_problem = "the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)";
      continue;
    }
    if (!has_attribute(msg.get(), media, "fingerprint")) {
      video_problem = "the offer has no DTLS fingerprint (a=fingerprint)";
      continue;
    }
    const char* mid = gst_sdp_media_get_attribute_val(media, "mid");
    summary.video_mid = mid ? mid : "";
    if (has_control_chars(summary.video_mid)) {
      video_problem = "the offer's a=mid contains control characters";
      continue;
    }
    summary.video_mline = static_cast<int>(i);
    r.summary = std::move(summary);
    r.ok = true;
    return r;
  }
  r.error = video_problem;
  return r;
}

std::optional<CodecChoice> choose_codec(const OfferSummary& offer, const StreamFormat& format,
                                        std::optional<VideoCodec> raw_encode, std::string* why) {
  auto pick_h264 = [&](const std::string& profile) -> std::optional<CodecChoice> {
    std::optional<CodecChoice> decodable;
    for (const CodecChoice& c : offer.h264) {
      int m = h264_match(profile, c.profile_level_id);
      if (m == 0) return c;
      if (m == 1 && !decodable) decodable = c;
    }
    return decodable;
  };
  switch (format.kind) {
    case StreamFormat::Kind::kH264: {
      if (auto c = pick_h264(format.profile)) return c;
      *why = "the stream is H.264" +
             (format.profile.empty() ? std::string() : " (" + format.profile + " profile)") +
             " and the offer has no H.264 (packetization-mode=1) that decodes it";
      return std::nullopt;
    }
    case StreamFormat::Kind::kVp8:
      if (!offer.vp8.empty()) return offer.vp8.front();
      *why = "the stream is VP8 and the offer has no VP8";
      return std::nullopt;
    case StreamFormat::Kind::kRaw: {
      bool want_vp8 = raw_encode == VideoCodec::kVp8;
      bool want_h264 = raw_encode == VideoCodec::kH264;
      if (!want_vp8)
        if (auto c = pick_h264("constrained-baseline")) return c;
      if (!want_h264 && !offer.vp8.empty()) return offer.vp8.front();
      *why = raw_encode ? std::string("this stream is sent as ") + codec_name(*raw_encode) +
                              " and the offer does not have it"
                        : "the offer has neither constrained-baseline H.264 nor VP8";
      return std::nullopt;
    }
    case StreamFormat::Kind::kUnsupported:
      break;
  }
  *why = "the stream's media (" + (format.media_type.empty() ? "unknown" : format.media_type) +
         ") cannot be sent over WebRTC";
  return std::nullopt;
}

bool is_mdns_candidate(const std::string& candidate) {
  std::istringstream fields(candidate);
  std::string address;
  for (int i = 0; i < 5 && fields >> address; i++) {
  }
  return address.size() > 6 && lower(address.substr(address.size() - 6)) == ".local";
}

TrickleFragment parse_trickle_fragment(const std::string& body) {
  constexpr size_t kMaxCandidates = 256;
  TrickleFragment f;
  int mline = -1;
  std::string mid;
  bool any = false;
  for (const std::string& line : split_lines(body)) {
    if (line.empty()) continue;
    if (has_control_chars(line)) {
      f.error = "the fragment contains control characters";
      return f;
    }
    any = true;
    if (line.compare(0, 2, "m=") == 0) {
      mline++;
      mid.clear();
    } else if (line.compare(0, 6, "a=mid:") == 0) {
      mid = line.substr(6);
    } else if (line.compare(0, 12, "a=ice-ufrag:") == 0) {
      f.ice_ufrag = line.substr(12);
    } else if (line.compare(0, 10, "a=ice-pwd:") == 0) {
      f.ice_pwd = line.substr(10);
    } else if (line == "a=end-of-candidates") {
      f.end_of_candidates = true;
    } else if (line.compare(0, 12, "a=candidate:") == 0) {
      std::string value = line.substr(2);
      std::istringstream fields(value);
      std::vector<std::string> parts;
      for (std::string p; fields >> p;) parts.push_back(p);
      if (parts.size() < 8 || parts[6] != "typ") {
        f.error = "malformed candidate line: " + line.substr(0, 200);
        return f;
      }
      if (f.candidates.size() >= kMaxCandidates) {
        f.error = "too many candidates in one fragment";
        return f;
      }
      f.candidates.push_back({std::max(mline, 0), mid, value});
    }
  }
  if (!any) f.error = "the trickle-ICE fragment is empty";
  f.ok = f.error.empty();
  return f;
}

std::string add_candidates_to_sdp(const std::string& sdp, int mline,
                                  const std::vector<std::string>& candidates) {
  std::vector<std::string> lines = split_lines(sdp);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::set<std::string> present;
  for (const auto& l : lines)
    if (l.compare(0, 2, "a=") == 0) present.insert(l.substr(2));
  int seen = -1;
  size_t insert_at = lines.size();
  for (size_t i = 0; i < lines.size(); i++) {
    if (lines[i].compare(0, 2, "m=") != 0) continue;
    seen++;
    if (seen == mline + 1) {
      insert_at = i;
      break;
    }
  }
  if (seen < mline) return sdp;
  std::vector<std::string> added;
  for (const auto& c : candidates)
    if (!present.count(c)) {
      added.push_back("a=" + c);
      present.insert(c);
    }
  if (!present.count("end-of-candidates")) added.push_back("a=end-of-candidates");
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(insert_at), added.begin(), added.end());
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  return out;
}

}  // namespace relais::webrtc
