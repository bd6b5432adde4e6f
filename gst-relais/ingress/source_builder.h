// Creates the GStreamer elements for a parsed source URI: the source itself,
// the autoplugger that finds its video (parsebin or decodebin), and the parser
// that puts H.264/H.265 into byte-stream/au.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "gst_handles.h"
#include "source_uri.h"

namespace relais::ingress {

enum class RtspTransport { kAuto, kTcp, kUdp };

struct SourceOptions {
  bool decode = false;
  guint latency_ms = 200;
  RtspTransport transport = RtspTransport::kAuto;
  guint timeout_ms = 5000;  // connection timeout for network sources (0 = their default)
  std::string tls_ca_file;  // PEM certificate authorities to trust (rtsps, https); empty: system's
};

// A reason a source cannot be built, in the words a person can act on.
struct BuildError {
  GQuark domain = 0;
  gint code = 0;
  std::string message;
};

// Checks what can be checked before building: the file or device exists, the
// test pattern is known, the needed elements are installed.
bool check_source(const SourceDescription& desc, const SourceOptions& options, BuildError* error);

// The first part of a chain. When `src_pad` is empty, the pads of `dynamic`
// appear later ("pad-added", "no-more-pads").
struct SourcePart {
  // In upstream-to-downstream order, to be linked one to the next once they
  // are in the bin (a bin unlinks pads that lead outside it).
  std::vector<ElementRef> elements;
  PadRef src_pad;                 // the video pad when it is known now
  bool needs_autoplug = false;    // src_pad carries a container or RTP: autoplug it
  GstElement* dynamic = nullptr;  // element with sometimes pads, owned by `elements`
};

bool make_source(const SourceDescription& desc, const SourceOptions& options, SourcePart* out,
                 BuildError* error);

// parsebin (encoded out) or decodebin (raw out).
ElementRef make_autoplugger(bool decode);

// Elements to append to a video pad with `caps` so the output is what relaissrc
// promises (H.264/H.265 as byte-stream/au); empty when the pad is fine as is.
std::vector<ElementRef> make_output_normalizer(const GstCaps* caps, bool decode);

// For an RTP video pad of rtspsrc (decode=false): the depayloader for its
// encoding and, for H.264/H.265, what makes the output byte-stream/au.
bool make_rtp_video_chain(const GstCaps* rtp_caps, std::vector<ElementRef>* out, BuildError* error);

// True for caps that carry video: video/... and image/jpeg; for RTP caps,
// media=video.
bool is_video_caps(const GstCaps* caps);

}  // namespace relais::ingress
