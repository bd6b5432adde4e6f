// One stream's egress pipeline on this node: the stream is read from the
// store once, payloaded once and fanned out to every viewer:
//
//   relaisstoresrc start=keyframe ! [parse | encode] ! rtp*pay ! tee
//     tee. ! queue ! (pt rewrite) ! webrtcbin     one branch per viewer
//
// Each branch carries its viewer's payload type (rewritten in a pad probe when
// it differs from the payloader's). The packets since the newest keyframe are
// kept (a probe on the tee's sink pad), so a viewer whose connection comes up
// gets them at once and decodes its first picture without waiting for the next
// keyframe, even when the stream is idle. A branch passes no packets until
// then (a gate probe on its queue). Branches are removed with an idle probe on
// their tee pad. Methods are called on the main context; probes run on the
// streaming thread.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gst_handles.h"
#include "sdp_offer.h"

namespace relais::webrtc {

// A viewer's branch: tee pad → queue → the viewer's sink pad. Set up on the
// main context; afterwards the probes only read `choice`/`base_pt` and use the
// atomics.
struct EgressBranch {
  CodecChoice choice;
  int base_pt = 96;  // the payloader's pt
  ElementRef queue;
  ElementRef sink;  // the viewer's element (webrtcbin)
  PadRef tee_pad;
  PadRef sink_pad;
  std::atomic<bool> live{false};   // buffers pass only once the viewer is connected
  std::atomic<uint64_t> bytes{0};  // RTP bytes handed to the viewer
  // The probes on the queue's pads hold the branch; removing them breaks the cycle.
  gulong gate_probe = 0;
  gulong rewrite_probe = 0;
  void detach_probes();
};

class StreamEgress {
 public:
  struct Callbacks {
    // The stream's pipeline failed; every viewer of it is gone.
    std::function<void(const std::string& reason)> on_failed;
    // An element inside one viewer's sink failed.
    std::function<void(GstElement* sink, const std::string& reason)> on_viewer_failed;
  };

  // Builds and starts the pipeline for `format`; `choice` is the first
  // viewer's codec (also the encoder's codec for raw video).
  static std::unique_ptr<StreamEgress> create(const std::string& store_uri,
                                              const std::string& stream, const StreamFormat& format,
                                              const CodecChoice& choice, GMainContext* ctx,
                                              Callbacks callbacks, std::string* error);
  ~StreamEgress();
  StreamEgress(const StreamEgress&) = delete;
  StreamEgress& operator=(const StreamEgress&) = delete;

  const std::string& stream() const { return stream_; }
  VideoCodec codec() const { return codec_; }
  // For raw video: the codec it is encoded to (fixed by the first viewer).
  std::optional<VideoCodec> raw_encode() const { return raw_encode_; }

  // Adds `sink` (not yet in a bin) to the pipeline and links a branch to its
  // request pad `sink_pad_template` (e.g. "sink_%u"). Buffers are held back
  // until go_live(); caps and events flow at once.
  std::shared_ptr<EgressBranch> add_branch(GstElement* sink, const char* sink_pad_template,
                                           const CodecChoice& choice, std::string* error);
  // Lets the branch's buffers through, starting at the newest keyframe.
  void go_live(const std::shared_ptr<EgressBranch>& branch);
  // Unlinks the branch when its tee pad is idle, then removes its elements.
  void remove_branch(const std::shared_ptr<EgressBranch>& branch);
  size_t branch_count() const { return branches_.size(); }

  // State shared with the streaming thread's probes (defined in the .cpp).
  struct Shared;

 private:
  StreamEgress() = default;
  bool build(const std::string& store_uri, const StreamFormat& format, const CodecChoice& choice,
             std::string* error);
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer data);

  std::string stream_;
  VideoCodec codec_ = VideoCodec::kH264;
  std::optional<VideoCodec> raw_encode_;
  int base_pt_ = 96;
  GMainContext* ctx_ = nullptr;
  Callbacks callbacks_;
  ElementRef pipeline_;
  ElementRef tee_;
  GSourcePtr bus_watch_;
  std::shared_ptr<Shared> shared_;                       // also held by the probes
  std::vector<std::shared_ptr<EgressBranch>> branches_;  // main context only
};

}  // namespace relais::webrtc
