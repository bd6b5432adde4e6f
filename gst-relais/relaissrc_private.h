// relaissrc's state, shared by the element (relaissrc.cpp: properties,
// state changes, bus messages) and its source chain (relaissrc_chain.cpp:
// building, linking, reconnecting). Private to those two files.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "control_loop.h"
#include "gst_handles.h"
#include "redact.h"
#include "relaissrc.h"
#include "source_builder.h"
#include "source_uri.h"

GST_DEBUG_CATEGORY_EXTERN(relais_src_debug);

namespace relais::relaissrc {

using relais::ElementRef;
using relais::PadRef;
using relais::ingress::RtspTransport;
using relais::ingress::SourceDescription;

constexpr gboolean DEFAULT_DECODE = FALSE;
constexpr gboolean DEFAULT_RECONNECT = TRUE;
constexpr guint DEFAULT_RETRY_DELAY = 1000;       // ms
constexpr guint DEFAULT_MAX_RETRY_DELAY = 30000;  // ms
constexpr guint DEFAULT_LATENCY = 200;            // ms
constexpr guint DEFAULT_TIMEOUT = 5000;           // ms
constexpr RtspTransport DEFAULT_RTSP_TRANSPORT = RtspTransport::kAuto;
constexpr guint kMaxDelay = 3600 * 1000;  // ms

struct Settings {
  std::string uri;
  bool decode = DEFAULT_DECODE;
  bool reconnect = DEFAULT_RECONNECT;
  guint retry_delay = DEFAULT_RETRY_DELAY;
  guint max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  guint latency = DEFAULT_LATENCY;
  RtspTransport transport = DEFAULT_RTSP_TRANSPORT;
  guint timeout = DEFAULT_TIMEOUT;
  std::string tls_ca_file;
};

// Where the source is in its life; shared by streaming threads, the control
// thread and state changes.
struct RunState {
  bool running = false;
  bool playing = false;       // PLAYING: only then is a source without data lost (not when paused)
  guint64 generation = 0;     // the current chain; bumped on each rebuild
  bool source_video = false;  // the source gave its video pad (this generation)
  bool output_video = false;  // the autoplugger gave its video pad (this generation)
  bool connected = false;     // data flowed in this generation
  bool lost = false;          // a rebuild is scheduled
  bool fatal = false;         // an error went to the bus: no more reconnecting
  bool ever_connected = false;  // data flowed in an earlier generation
  bool stream_started = false;  // a stream-start went downstream in this run
  // The stream is to end: the application sent EOS, or downstream returned
  // GST_FLOW_EOS. Nothing reconnects any more; EOS goes downstream once.
  bool ending = false;
  bool eos_sent = false;                    // the EOS went downstream
  guint32 eos_seqnum = GST_SEQNUM_INVALID;  // the application's EOS event's
  guint attempt = 0;                        // reconnection attempts since data last flowed
  guint next_delay = 0;                     // ms
};

struct Private {
  Settings settings;         // guarded by the object lock
  GstPad* srcpad = nullptr;  // the ghost pad, owned by the element

  // Written in READY->PAUSED before the control loop starts, then read-only.
  SourceDescription desc;
  Settings active;

  relais::ingress::ControlLoop loop;
  // The current chain's elements; touched on the control loop thread only, or in
  // state changes while the loop is stopped.
  std::vector<ElementRef> chain;

  std::mutex mutex;  // guards run; never held across a call into GStreamer
  RunState run;
  std::atomic<gint64> last_data_us{0};  // monotonic time of the last buffer out
};

enum class Stage { kSource, kAutoplug };

struct ProbeData {
  RelaisSrc* self;
  guint64 generation;
  Stage stage = Stage::kAutoplug;  // which element's pad it is on
};

inline GQuark generation_quark() {
  static GQuark q = g_quark_from_static_string("relais-src-generation");
  return q;
}

// Chain operations (relaissrc_chain.cpp).

// Posts an error from the element with a message a person can act on.
void post_error(RelaisSrc* self, GQuark domain, gint code, const std::string& text,
                const std::string& debug);
// The generation of the chain that `object` (one of our elements, or inside one) belongs to.
guint64 generation_of_descendant(RelaisSrc* self, GstObject* object);
// Schedules a rebuild of the source after the current back-off delay.
void schedule_reconnect(RelaisSrc* self, guint64 generation, const std::string& reason);
// Posts the "no video" error once, unless the stage found video after all.
void fail_without_video(RelaisSrc* self, guint64 generation, Stage stage, const std::string& why);
// Builds the chain for `generation`: the source, and what can be linked now.
bool build_chain(RelaisSrc* self, guint64 generation, bool sync);
// Stops and removes the chain's elements (control loop thread, or a state
// change with the loop stopped).
void teardown_chain(RelaisSrc* self);
// Runs on the control loop: ends the stream the application asked to end
// (EOS sent to the element). With data flowing the EOS goes through the
// source so what it holds drains; otherwise (say, while waiting to reconnect)
// the chain is stopped and EOS pushed from the element's pad.
void end_stream(RelaisSrc* self);
// Runs on the control loop: a live network source that sends nothing for
// `timeout` ms is treated as lost.
void watchdog(RelaisSrc* self);

}  // namespace relais::relaissrc

struct _RelaisSrc {
  GstBin parent;
  relais::relaissrc::Private* priv;
};
