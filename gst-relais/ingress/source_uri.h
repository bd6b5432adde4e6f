// Turns a relaissrc `uri` into a description of the source to build. Pure
// parsing (GLib only, no GStreamer), so every malformed input is unit-tested.
#pragma once

#include <string>

namespace relais::ingress {

enum class SourceKind {
  kRtsp,  // rtsp:// and rtsps://: rtspsrc
  kFile,  // file://: a local file, any container GStreamer can demux
  kHttp,  // http:// and https://: a remote file or stream
  kV4l2,  // v4l2:///dev/videoN: a camera
  kTest,  // test://?pattern=...: a live test pattern (raw video)
};

// test:// query keys and their defaults (videotestsrc's own defaults).
struct TestPattern {
  std::string pattern = "smpte";  // a videotestsrc pattern nick; checked when building
  int width = 320;
  int height = 240;
  int fps_n = 30;
  int fps_d = 1;
};

struct SourceDescription {
  SourceKind kind = SourceKind::kTest;
  // What the source element is given: the URI without credentials (rtsp,
  // http), the local file path (file) or the device path (v4l2).
  std::string location;
  // The URI as it may be shown to people: the password and query credentials
  // are masked (relais::redact_credentials).
  std::string display_uri;
  // Credentials from the URI's user info (rtsp only), percent-decoded.
  std::string user;
  std::string password;
  TestPattern test;

  // Live sources run in real time; live network sources may be reconnected.
  bool is_live() const {
    return kind == SourceKind::kRtsp || kind == SourceKind::kV4l2 || kind == SourceKind::kTest;
  }
  bool is_live_network() const { return kind == SourceKind::kRtsp; }
};

// Parses `uri`. On failure returns false and sets `error` to a sentence that
// says what is wrong and what is accepted.
bool parse_source_uri(const std::string& uri, SourceDescription* out, std::string* error);

const char* source_kind_name(SourceKind kind);

}  // namespace relais::ingress
