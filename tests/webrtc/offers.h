// SDP offers as browsers send them, for tests.
#pragma once

#include <string>

namespace relais::webrtc::test {

// The shape of a Chromium recvonly video offer: VP8 at 96, several H.264
// profiles, one with packetization-mode=0.
inline std::string chromium_offer() {
  return "v=0\r\n"
         "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0\r\n"
         "a=extmap-allow-mixed\r\n"
         "a=msid-semantic: WMS\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 108 109 127 125\r\n"
         "c=IN IP4 0.0.0.0\r\n"
         "a=rtcp:9 IN IP4 0.0.0.0\r\n"
         "a=ice-ufrag:Xy7q\r\n"
         "a=ice-pwd:0123456789abcdefghijklmn\r\n"
         "a=ice-options:trickle\r\n"
         "a=fingerprint:sha-256 "
         "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:"
         "2C:19:08\r\n"
         "a=setup:actpass\r\n"
         "a=mid:0\r\n"
         "a=recvonly\r\n"
         "a=rtcp-mux\r\n"
         "a=rtcp-rsize\r\n"
         "a=rtpmap:96 VP8/90000\r\n"
         "a=rtcp-fb:96 nack\r\n"
         "a=rtcp-fb:96 nack pli\r\n"
         "a=rtpmap:97 rtx/90000\r\n"
         "a=fmtp:97 apt=96\r\n"
         "a=rtpmap:102 H264/90000\r\n"
         "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
         "a=rtpmap:103 rtx/90000\r\n"
         "a=fmtp:103 apt=102\r\n"
         "a=rtpmap:108 H264/90000\r\n"
         "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
         "a=rtpmap:109 rtx/90000\r\n"
         "a=fmtp:109 apt=108\r\n"
         "a=rtpmap:127 H264/90000\r\n"
         "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
         "a=rtpmap:125 H264/90000\r\n"
         "a=fmtp:125 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n";
}

// Replaces the first occurrence of `from` in `text`.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

// Replaces every occurrence of `from` in `text`.
inline std::string replaced_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

}  // namespace relais::webrtc::test
