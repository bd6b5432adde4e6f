/**
 * SECTION:element-relaissrc
 *
 * An ingress bin: one `uri` picks the source and the video comes out of one
 * always `src` pad.
 *
 * - `rtsp://` and `rtsps://` (user:password@ in the URI is used for
 *   authentication): rtspsrc, with `latency` and `rtsp-transport`.
 * - `file:///path` and `http(s)://...`: any container GStreamer can demux.
 * - `v4l2:///dev/videoN`: a camera.
 * - `test://?pattern=ball&width=1280&height=720&framerate=30/1`: a live test
 *   pattern (raw video; defaults smpte, 320, 240, 30/1).
 *
 * Encoded video comes out parsed and unchanged (H.264/H.265 as
 * byte-stream/au), so it can be relayed without transcoding; `decode=true`
 * gives raw video. Raw sources give raw video. Only the first video stream of
 * a source is used; its other streams are discarded.
 *
 * RTSP sources reconnect by themselves when `reconnect` is true: when the
 * server goes away, stops sending for `timeout` ms or ends the stream, the
 * source is rebuilt after `retry-delay` ms, doubling up to `max-retry-delay`.
 * Each attempt posts an element message `relais-source` (status=reconnecting,
 * attempt, delay (ns), uri, reason) and each (re)connection one with
 * status=connected. Downstream sees one stream: no EOS and no error, and the
 * first buffer after a reconnection carries the DISCONT flag. Files end with
 * EOS as usual.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 relaissrc uri="test://?pattern=ball&width=640&height=360&framerate=30/1" ! \
 *   relaisstoresink stream=cam1
 * gst-launch-1.0 relaissrc uri=rtsp://127.0.0.1:8554/test rtsp-transport=tcp ! \
 *   relaisstoresink stream=cam1
 * ]|
 */
#include "relaissrc.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "control_loop.h"
#include "elements.h"
#include "gst_handles.h"
#include "source_builder.h"
#include "source_uri.h"

GST_DEBUG_CATEGORY_STATIC(relais_src_debug);
#define GST_CAT_DEFAULT relais_src_debug

namespace {

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

enum {
  PROP_0,
  PROP_URI,
  PROP_DECODE,
  PROP_RECONNECT,
  PROP_RETRY_DELAY,
  PROP_MAX_RETRY_DELAY,
  PROP_LATENCY,
  PROP_RTSP_TRANSPORT,
  PROP_TIMEOUT,
};

struct Settings {
  std::string uri;
  bool decode = DEFAULT_DECODE;
  bool reconnect = DEFAULT_RECONNECT;
  guint retry_delay = DEFAULT_RETRY_DELAY;
  guint max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  guint latency = DEFAULT_LATENCY;
  RtspTransport transport = DEFAULT_RTSP_TRANSPORT;
  guint timeout = DEFAULT_TIMEOUT;
};

// Where the source is in its life; shared by streaming threads, the control
// thread and state changes.
struct RunState {
  bool running = false;
  guint64 generation = 0;       // the current chain; bumped on each rebuild
  bool source_video = false;    // the source gave its video pad (this generation)
  bool output_video = false;    // the autoplugger gave its video pad (this generation)
  bool connected = false;       // data flowed in this generation
  bool lost = false;            // a rebuild is scheduled
  bool fatal = false;           // an error went to the bus: no more reconnecting
  bool ever_connected = false;  // data flowed in an earlier generation
  bool stream_started = false;  // a stream-start went downstream in this run
  guint attempt = 0;            // reconnection attempts since data last flowed
  guint next_delay = 0;         // ms
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

GQuark generation_quark() {
  static GQuark q = g_quark_from_static_string("relais-src-generation");
  return q;
}

}  // namespace

struct _RelaisSrc {
  GstBin parent;
  Private* priv;
};

G_DEFINE_TYPE(RelaisSrc, relais_src, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(relaissrc, "relaissrc", GST_RANK_NONE, RELAIS_TYPE_SRC)

GType relais_rtsp_transport_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(RtspTransport::kAuto), "Try UDP, then TCP", "auto"},
      {static_cast<gint>(RtspTransport::kTcp), "RTP interleaved in the RTSP TCP connection", "tcp"},
      {static_cast<gint>(RtspTransport::kUdp), "RTP over UDP (unicast or multicast)", "udp"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("RelaisRtspTransport", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void post_error(RelaisSrc* self, GQuark domain, gint code, const std::string& text,
                       const std::string& debug) {
  gst_element_message_full(
      GST_ELEMENT(self), GST_MESSAGE_ERROR, domain, code, g_strdup(text.c_str()),
      debug.empty() ? nullptr : g_strdup(debug.c_str()), __FILE__, GST_FUNCTION, __LINE__);
}

static void post_status(RelaisSrc* self, const char* status, guint attempt, guint delay_ms,
                        const std::string& reason) {
  GstStructure* s = gst_structure_new(
      "relais-source", "status", G_TYPE_STRING, status, "attempt", G_TYPE_UINT, attempt, "delay",
      G_TYPE_UINT64, static_cast<guint64>(delay_ms) * GST_MSECOND, "uri", G_TYPE_STRING,
      self->priv->desc.display_uri.c_str(), "reason", G_TYPE_STRING, reason.c_str(), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static guint64 generation_of(gpointer object) {
  return GPOINTER_TO_SIZE(g_object_get_qdata(G_OBJECT(object), generation_quark()));
}

// The generation of the chain that `object` (one of our elements, or inside one) belongs to.
static guint64 generation_of_descendant(RelaisSrc* self, GstObject* object) {
  relais::GstRef<GstObject> cur = relais::GstRef<GstObject>::ref(object);
  while (cur) {
    relais::GstRef<GstObject> parent =
        relais::GstRef<GstObject>::adopt(gst_object_get_parent(cur.get()));
    if (parent.get() == GST_OBJECT(self)) return generation_of(cur.get());
    cur = std::move(parent);
  }
  return 0;
}

static bool is_current(Private* priv, guint64 generation) {
  std::lock_guard lock(priv->mutex);
  return priv->run.running && priv->run.generation == generation;
}

static void rebuild(RelaisSrc* self, guint64 generation);

// Schedules a rebuild of the source after the current back-off delay.
static void schedule_reconnect(RelaisSrc* self, guint64 generation, const std::string& reason) {
  Private* priv = self->priv;
  guint attempt, delay;
  bool was_connected;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.generation != generation || r.lost || r.fatal) return;
    r.lost = true;
    attempt = ++r.attempt;
    delay = r.next_delay;
    r.next_delay = std::min(std::max(delay, 1u) * 2, priv->active.max_retry_delay);
    was_connected = r.connected;
  }
  GST_INFO_OBJECT(self, "source lost (%s); attempt %u in %u ms", reason.c_str(), attempt, delay);
  if (was_connected) {
    GST_ELEMENT_WARNING(self, RESOURCE, READ,
                        ("Lost the source '%s'; reconnecting.", priv->desc.display_uri.c_str()),
                        ("%s", reason.c_str()));
  }
  post_status(self, "reconnecting", attempt, delay, reason);
  priv->loop.post_delayed(std::chrono::milliseconds(delay),
                          [self, generation] { rebuild(self, generation); });
}

static GstPadProbeReturn hold(GstPad*, GstPadProbeInfo*, gpointer) {
  return GST_PAD_PROBE_OK;
}

static void mark_discont(GstPadProbeInfo* info) {
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    if (gst_buffer_list_length(list) > 0) {
      GstBuffer* first = gst_buffer_list_get_writable(list, 0);
      GST_BUFFER_FLAG_SET(first, GST_BUFFER_FLAG_DISCONT);
    }
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
}

// Watches what leaves the bin: notes data (for the watchdog and the
// "connected" message), marks the first buffer after a reconnection DISCONT,
// and keeps a live network source's EOS and repeated stream-starts inside.
static GstPadProbeReturn output_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* pd = static_cast<ProbeData*>(data);
  RelaisSrc* self = pd->self;
  Private* priv = self->priv;
  if (info->type & (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST)) {
    priv->last_data_us.store(g_get_monotonic_time());
    bool first = false, discont = false;
    guint attempts = 0;
    {
      std::lock_guard lock(priv->mutex);
      RunState& r = priv->run;
      if (r.generation == pd->generation && !r.connected) {
        first = true;
        r.connected = true;
        discont = r.ever_connected;
        r.ever_connected = true;
        attempts = r.attempt;
        r.attempt = 0;
        r.next_delay = priv->active.retry_delay;
      }
    }
    if (first) {
      if (discont) mark_discont(info);
      GST_INFO_OBJECT(self, "data flowing from %s", priv->desc.display_uri.c_str());
      post_status(self, "connected", attempts, 0, "");
    }
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && priv->desc.is_live_network() &&
      priv->active.reconnect) {
    schedule_reconnect(self, pd->generation, "the server ended the stream");
    return GST_PAD_PROBE_DROP;
  }
  if (GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START) {
    std::lock_guard lock(priv->mutex);
    if (priv->run.stream_started) return GST_PAD_PROBE_DROP;  // one stream across reconnections
    priv->run.stream_started = true;
  }
  return GST_PAD_PROBE_OK;
}

static void add_to_chain(RelaisSrc* self, ElementRef element, guint64 generation, bool sync) {
  g_object_set_qdata(G_OBJECT(element.get()), generation_quark(),
                     GSIZE_TO_POINTER(static_cast<gsize>(generation)));
  gst_bin_add(GST_BIN(self), element.get());
  if (sync) gst_element_sync_state_with_parent(element.get());
  self->priv->chain.push_back(std::move(element));
}

static void set_output(RelaisSrc* self, guint64 generation, GstPad* pad) {
  auto* pd = new ProbeData{self, generation};
  gst_pad_add_probe(
      pad,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      output_probe, pd, [](gpointer d) { delete static_cast<ProbeData*>(d); });
  gst_ghost_pad_set_target(GST_GHOST_PAD(self->priv->srcpad), pad);
  GST_DEBUG_OBJECT(self, "output is %" GST_PTR_FORMAT, pad);
}

static void on_pad_added(GstElement* element, GstPad* pad, RelaisSrc* self, Stage stage);

static void on_source_pad_added(GstElement* element, GstPad* pad, gpointer self) {
  on_pad_added(element, pad, RELAIS_SRC(self), Stage::kSource);
}

static void on_autoplug_pad_added(GstElement* element, GstPad* pad, gpointer self) {
  on_pad_added(element, pad, RELAIS_SRC(self), Stage::kAutoplug);
}

// Posts the "no video" error once, unless the stage found video after all.
static void fail_without_video(RelaisSrc* self, guint64 generation, Stage stage,
                               const std::string& why) {
  Private* priv = self->priv;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.generation != generation || r.fatal) return;
    if (stage == Stage::kSource ? r.source_video : r.output_video) return;
    r.fatal = true;
  }
  post_error(self, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
             "'" + priv->desc.display_uri + "' has no video stream.", why);
}

static void on_no_more_pads(GstElement* element, RelaisSrc* self, Stage stage) {
  fail_without_video(self, generation_of(element), stage,
                     std::string(GST_ELEMENT_NAME(element)) + " exposed no video pad");
}

// A pad that is not used: its data is dropped, and its end tells that the
// source had no video when none was found before.
static GstPadProbeReturn discard_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* pd = static_cast<ProbeData*>(data);
  if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) &&
      GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
    fail_without_video(pd->self, pd->generation, pd->stage,
                       std::string("only non-video streams, ended at ") + GST_PAD_NAME(pad));
  }
  return GST_PAD_PROBE_DROP;
}

static void on_source_no_more_pads(GstElement* element, gpointer self) {
  on_no_more_pads(element, RELAIS_SRC(self), Stage::kSource);
}

static void on_autoplug_no_more_pads(GstElement* element, gpointer self) {
  on_no_more_pads(element, RELAIS_SRC(self), Stage::kAutoplug);
}

static bool attach_autoplugger(RelaisSrc* self, guint64 generation, GstPad* pad, bool sync) {
  Private* priv = self->priv;
  ElementRef ap = relais::ingress::make_autoplugger(priv->active.decode);
  if (!ap) {
    post_error(self, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
               "parsebin/decodebin is not installed (gstreamer1.0-plugins-base).", "");
    return false;
  }
  g_signal_connect(ap.get(), "pad-added", G_CALLBACK(on_autoplug_pad_added), self);
  g_signal_connect(ap.get(), "no-more-pads", G_CALLBACK(on_autoplug_no_more_pads), self);
  GstElement* raw = ap.get();
  add_to_chain(self, std::move(ap), generation, sync);
  PadRef sink = PadRef::adopt(gst_element_get_static_pad(raw, "sink"));
  GstPadLinkReturn ret = gst_pad_link(pad, sink.get());
  if (GST_PAD_LINK_FAILED(ret)) {
    post_error(self, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
               "Could not link the source of '" + priv->desc.display_uri + "'.",
               std::string("link to autoplugger: ") + gst_pad_link_get_name(ret));
    return false;
  }
  return true;
}

// Adds `elements` after `pad`, linked in a row, and makes the last one's
// src pad (or `pad` itself when there are none) the bin's output.
static bool attach_output(RelaisSrc* self, guint64 generation, GstPad* pad,
                          std::vector<ElementRef> elements) {
  Private* priv = self->priv;
  PadRef out = PadRef::ref(pad);
  for (auto& e : elements) {
    GstElement* raw = e.get();
    add_to_chain(self, std::move(e), generation, true);
    PadRef sink = PadRef::adopt(gst_element_get_static_pad(raw, "sink"));
    GstPadLinkReturn ret = gst_pad_link(out.get(), sink.get());
    if (GST_PAD_LINK_FAILED(ret)) {
      post_error(self, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                 "Could not link the video of '" + priv->desc.display_uri + "' to " +
                     GST_ELEMENT_NAME(raw) + ".",
                 gst_pad_link_get_name(ret));
      return false;
    }
    out = PadRef::adopt(gst_element_get_static_pad(raw, "src"));
  }
  set_output(self, generation, out.get());
  return true;
}

static relais::CapsPtr pad_caps(GstPad* pad) {
  relais::CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  return caps;
}

// The source's video pad: RTP is depayloaded and parsed here; anything else
// (and RTP with decode=true) goes through parsebin or decodebin.
static bool attach_source_pad(RelaisSrc* self, guint64 generation, GstPad* pad) {
  Private* priv = self->priv;
  if (priv->desc.kind != relais::ingress::SourceKind::kRtsp || priv->active.decode)
    return attach_autoplugger(self, generation, pad, true);
  relais::CapsPtr caps = pad_caps(pad);
  std::vector<ElementRef> elements;
  relais::ingress::BuildError error;
  if (!relais::ingress::make_rtp_video_chain(caps.get(), &elements, &error)) {
    post_error(self, error.domain, error.code, error.message, "");
    return false;
  }
  return attach_output(self, generation, pad, std::move(elements));
}

// An autoplugger's video pad: H.264/H.265 get a parser for byte-stream/au.
static bool attach_autoplugged_pad(RelaisSrc* self, guint64 generation, GstPad* pad) {
  relais::CapsPtr caps = pad_caps(pad);
  return attach_output(
      self, generation, pad,
      relais::ingress::make_output_normalizer(caps.get(), self->priv->active.decode));
}

// Runs on the control loop: links a pad a streaming thread found (and holds
// blocked) into the chain, then lets data through.
static void link_new_pad(RelaisSrc* self, guint64 generation, PadRef pad, gulong probe,
                         Stage stage) {
  Private* priv = self->priv;
  if (!is_current(priv, generation)) return;  // the old chain's teardown unblocks the pad
  bool ok = stage == Stage::kSource ? attach_source_pad(self, generation, pad.get())
                                    : attach_autoplugged_pad(self, generation, pad.get());
  if (!ok) {
    std::lock_guard lock(priv->mutex);
    priv->run.fatal = true;
  }
  gst_pad_remove_probe(pad.get(), probe);
}

static void on_pad_added(GstElement* element, GstPad* pad, RelaisSrc* self, Stage stage) {
  Private* priv = self->priv;
  guint64 generation = generation_of(element);
  relais::CapsPtr caps = pad_caps(pad);
  bool video = relais::ingress::is_video_caps(caps.get());
  bool take = false;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.generation != generation) return;
    bool& taken = stage == Stage::kSource ? r.source_video : r.output_video;
    if (video && !taken) {
      taken = true;
      take = true;
    }
  }
  GST_DEBUG_OBJECT(self, "%s pad %s:%s with %" GST_PTR_FORMAT, take ? "using" : "discarding",
                   GST_DEBUG_PAD_NAME(pad), caps.get());
  if (!take) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, discard_probe,
                      new ProbeData{self, generation, stage},
                      [](gpointer d) { delete static_cast<ProbeData*>(d); });
    return;
  }
  // Hold the data until the control loop has linked the pad.
  gulong probe =
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, hold, nullptr, nullptr);
  PadRef ref = PadRef::ref(pad);
  if (!priv->loop.post([self, generation, ref, probe, stage] {
        link_new_pad(self, generation, ref, probe, stage);
      })) {
    gst_pad_remove_probe(pad, probe);
  }
}

// Builds the chain for `generation`: the source, and what can be linked now.
static bool build_chain(RelaisSrc* self, guint64 generation, bool sync) {
  Private* priv = self->priv;
  relais::ingress::SourceOptions options;
  options.decode = priv->active.decode;
  options.latency_ms = priv->active.latency;
  options.transport = priv->active.transport;
  options.timeout_ms = priv->active.timeout;
  relais::ingress::SourcePart part;
  relais::ingress::BuildError error;
  if (!relais::ingress::make_source(priv->desc, options, &part, &error)) {
    post_error(self, error.domain, error.code, error.message, "");
    return false;
  }
  priv->last_data_us.store(g_get_monotonic_time());
  if (part.dynamic) {
    g_signal_connect(part.dynamic, "pad-added", G_CALLBACK(on_source_pad_added), self);
    g_signal_connect(part.dynamic, "no-more-pads", G_CALLBACK(on_source_no_more_pads), self);
  }
  // Downstream parts first when syncing states, so nothing pushes into a
  // stopped element; the source is added (and started) last.
  std::vector<ElementRef> elements = std::move(part.elements);
  bool ok = true;
  for (auto it = elements.rbegin(); it != elements.rend(); ++it)
    add_to_chain(self, *it, generation, false);
  for (size_t i = 1; i < elements.size(); ++i) {
    if (!gst_element_link(elements[i - 1].get(), elements[i].get())) {
      post_error(self, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                 "Could not link the elements for '" + priv->desc.display_uri +
                     "'; check the format it asks for.",
                 std::string(GST_ELEMENT_NAME(elements[i - 1].get())) + " ! " +
                     GST_ELEMENT_NAME(elements[i].get()));
      return false;
    }
  }
  if (part.src_pad) {
    ok = part.needs_autoplug ? attach_autoplugger(self, generation, part.src_pad.get(), sync)
                             : (set_output(self, generation, part.src_pad.get()), true);
  }
  if (sync) {
    for (auto it = elements.rbegin(); it != elements.rend(); ++it)
      gst_element_sync_state_with_parent(it->get());
  }
  return ok;
}

// Stops and removes the chain's elements (control loop thread, or a state
// change with the loop stopped).
static void teardown_chain(RelaisSrc* self) {
  Private* priv = self->priv;
  std::vector<ElementRef> chain = std::move(priv->chain);
  priv->chain.clear();
  for (auto& e : chain) gst_element_set_state(e.get(), GST_STATE_NULL);
  gst_ghost_pad_set_target(GST_GHOST_PAD(priv->srcpad), nullptr);
  for (auto& e : chain) {
    if (GST_OBJECT_PARENT(e.get()) == GST_OBJECT(self)) gst_bin_remove(GST_BIN(self), e.get());
  }
}

static void rebuild(RelaisSrc* self, guint64 generation) {
  Private* priv = self->priv;
  guint64 next;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.generation != generation) return;
    next = ++r.generation;
    r.lost = false;
    r.connected = false;
    r.source_video = false;
    r.output_video = false;
  }
  GST_INFO_OBJECT(self, "rebuilding the source (generation %" G_GUINT64_FORMAT ")", next);
  teardown_chain(self);
  if (!build_chain(self, next, true)) {
    std::lock_guard lock(priv->mutex);
    priv->run.fatal = true;
  }
}

// Runs on the control loop: a live network source that sends nothing for
// `timeout` ms is treated as lost.
static void watchdog(RelaisSrc* self) {
  Private* priv = self->priv;
  const guint timeout = priv->active.timeout;
  guint64 generation;
  bool idle;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running) return;
    generation = r.generation;
    idle = r.lost || r.fatal;
  }
  const gint64 quiet_ms = (g_get_monotonic_time() - priv->last_data_us.load()) / 1000;
  if (!idle && quiet_ms > timeout) {
    std::string reason = "no data for " + std::to_string(quiet_ms) + " ms";
    if (priv->active.reconnect) {
      schedule_reconnect(self, generation, reason);
    } else {
      {
        std::lock_guard lock(priv->mutex);
        priv->run.fatal = true;
      }
      post_error(
          self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "No data from '" + priv->desc.display_uri + "' for " + std::to_string(timeout) + " ms.",
          reason);
    }
  }
  const guint interval = std::clamp(timeout / 4, 20u, 500u);
  priv->loop.post_delayed(std::chrono::milliseconds(interval), [self] { watchdog(self); });
}

static bool start_source(RelaisSrc* self) {
  Private* priv = self->priv;
  Settings settings;
  {
    relais::ObjectLock lock(self);
    settings = priv->settings;
  }
  SourceDescription desc;
  std::string message;
  if (!relais::ingress::parse_source_uri(settings.uri, &desc, &message)) {
    post_error(self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, message, "");
    return false;
  }
  relais::ingress::BuildError error;
  if (!relais::ingress::check_source(desc, &error)) {
    post_error(self, error.domain, error.code, error.message, "");
    return false;
  }
  GST_INFO_OBJECT(self, "starting %s source %s", relais::ingress::source_kind_name(desc.kind),
                  desc.display_uri.c_str());
  priv->desc = std::move(desc);
  priv->active = settings;
  {
    std::lock_guard lock(priv->mutex);
    priv->run = RunState{};
    priv->run.running = true;
    priv->run.generation = 1;
    priv->run.next_delay = settings.retry_delay;
  }
  priv->loop.start();
  if (!build_chain(self, 1, false)) return false;
  if (priv->desc.is_live_network() && settings.timeout > 0)
    priv->loop.post([self] { watchdog(self); });
  return true;
}

static void stop_source(RelaisSrc* self) {
  Private* priv = self->priv;
  {
    std::lock_guard lock(priv->mutex);
    priv->run.running = false;
    ++priv->run.generation;
  }
  priv->loop.stop();
}

static bool is_permanent(const GError* err) {
  if (err->domain == GST_STREAM_ERROR) {
    return err->code == GST_STREAM_ERROR_CODEC_NOT_FOUND ||
           err->code == GST_STREAM_ERROR_WRONG_TYPE ||
           err->code == GST_STREAM_ERROR_TYPE_NOT_FOUND ||
           err->code == GST_STREAM_ERROR_NOT_IMPLEMENTED;
  }
  if (err->domain == GST_CORE_ERROR) return err->code == GST_CORE_ERROR_MISSING_PLUGIN;
  if (err->domain == GST_RESOURCE_ERROR) return err->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED;
  return false;
}

// Errors from the source's elements: a live network source reconnects; any
// other error is posted again as relaissrc's own, naming the source. Errors
// from a chain already replaced are dropped.
// parsebin tells what a source holds in a stream collection (it has no
// "no-more-pads"): a collection of known streams none of which is video means
// the source has no video.
static void check_collection(RelaisSrc* self, GstMessage* message) {
  GstStreamCollection* raw = nullptr;
  gst_message_parse_stream_collection(message, &raw);
  relais::GstRef<GstStreamCollection> collection = relais::GstRef<GstStreamCollection>::adopt(raw);
  if (!collection) return;
  const guint n = gst_stream_collection_get_size(collection.get());
  if (n == 0) return;
  for (guint i = 0; i < n; ++i) {
    GstStreamType type =
        gst_stream_get_stream_type(gst_stream_collection_get_stream(collection.get(), i));
    if (type == GST_STREAM_TYPE_UNKNOWN || (type & GST_STREAM_TYPE_VIDEO)) return;
  }
  fail_without_video(self, generation_of_descendant(self, GST_MESSAGE_SRC(message)),
                     Stage::kAutoplug, std::to_string(n) + " stream(s), none of them video");
}

static void relais_src_handle_message(GstBin* bin, GstMessage* message) {
  auto* self = RELAIS_SRC(bin);
  Private* priv = self->priv;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_STREAM_COLLECTION) check_collection(self, message);
  if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR ||
      GST_MESSAGE_SRC(message) == GST_OBJECT(self)) {
    GST_BIN_CLASS(relais_src_parent_class)->handle_message(bin, message);
    return;
  }
  relais::MessagePtr owned(message);
  guint64 generation = generation_of_descendant(self, GST_MESSAGE_SRC(message));
  bool running, current;
  {
    std::lock_guard lock(priv->mutex);
    running = priv->run.running;
    current = priv->run.generation == generation;
  }
  GError* raw_err = nullptr;
  gchar* raw_debug = nullptr;
  gst_message_parse_error(message, &raw_err, &raw_debug);
  relais::GErrorPtr err(raw_err);
  relais::GCharPtr debug(raw_debug);
  if (running && !current) {
    GST_DEBUG_OBJECT(self, "dropping an error from a replaced source: %s", err->message);
    return;
  }
  if (running && priv->desc.is_live_network() && priv->active.reconnect &&
      !is_permanent(err.get())) {
    schedule_reconnect(self, generation, err->message);
    return;
  }
  {
    std::lock_guard lock(priv->mutex);
    priv->run.fatal = true;
  }
  std::string detail =
      std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + (debug ? debug.get() : "");
  post_error(self, err->domain, err->code,
             "Source '" + priv->desc.display_uri + "' failed: " + err->message, detail);
}

static GstStateChangeReturn relais_src_change_state(GstElement* element,
                                                    GstStateChange transition) {
  auto* self = RELAIS_SRC(element);
  Private* priv = self->priv;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !start_source(self)) {
    stop_source(self);
    teardown_chain(self);
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) stop_source(self);

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(relais_src_parent_class)->change_state(element, transition);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret == GST_STATE_CHANGE_FAILURE) {
    stop_source(self);
    teardown_chain(self);
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) teardown_chain(self);
  if ((transition == GST_STATE_CHANGE_READY_TO_PAUSED ||
       transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED) &&
      ret == GST_STATE_CHANGE_SUCCESS && priv->desc.is_live()) {
    ret = GST_STATE_CHANGE_NO_PREROLL;
  }
  return ret;
}

static void relais_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                    GParamSpec* pspec) {
  auto* self = RELAIS_SRC(object);
  relais::ObjectLock lock(self);
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_URI:
      s.uri = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_DECODE:
      s.decode = g_value_get_boolean(value);
      break;
    case PROP_RECONNECT:
      s.reconnect = g_value_get_boolean(value);
      break;
    case PROP_RETRY_DELAY:
      s.retry_delay = g_value_get_uint(value);
      break;
    case PROP_MAX_RETRY_DELAY:
      s.max_retry_delay = g_value_get_uint(value);
      break;
    case PROP_LATENCY:
      s.latency = g_value_get_uint(value);
      break;
    case PROP_RTSP_TRANSPORT:
      s.transport = static_cast<RtspTransport>(g_value_get_enum(value));
      break;
    case PROP_TIMEOUT:
      s.timeout = g_value_get_uint(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void relais_src_get_property(GObject* object, guint prop_id, GValue* value,
                                    GParamSpec* pspec) {
  auto* self = RELAIS_SRC(object);
  relais::ObjectLock lock(self);
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_URI:
      g_value_set_string(value, s.uri.empty() ? nullptr : s.uri.c_str());
      break;
    case PROP_DECODE:
      g_value_set_boolean(value, s.decode);
      break;
    case PROP_RECONNECT:
      g_value_set_boolean(value, s.reconnect);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_uint(value, s.retry_delay);
      break;
    case PROP_MAX_RETRY_DELAY:
      g_value_set_uint(value, s.max_retry_delay);
      break;
    case PROP_LATENCY:
      g_value_set_uint(value, s.latency);
      break;
    case PROP_RTSP_TRANSPORT:
      g_value_set_enum(value, static_cast<gint>(s.transport));
      break;
    case PROP_TIMEOUT:
      g_value_set_uint(value, s.timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void relais_src_finalize(GObject* object) {
  delete RELAIS_SRC(object)->priv;
  G_OBJECT_CLASS(relais_src_parent_class)->finalize(object);
}

static void relais_src_class_init(RelaisSrcClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBinClass* bin_class = GST_BIN_CLASS(klass);

  gobject_class->set_property = relais_src_set_property;
  gobject_class->get_property = relais_src_get_property;
  gobject_class->finalize = relais_src_finalize;

  constexpr auto rw_ready = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                     GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_URI,
      g_param_spec_string(
          "uri", "URI",
          "What to ingest: rtsp[s]://[user:password@]host[:port]/path, file:///path, "
          "http(s)://..., v4l2:///dev/videoN, or test://?pattern=P&width=W&height=H&framerate=N/D "
          "(defaults smpte, 320, 240, 30/1)",
          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_DECODE,
      g_param_spec_boolean("decode", "Decode",
                           "Output raw video instead of the source's encoded video (which comes "
                           "out parsed, H.264/H.265 as byte-stream/au)",
                           DEFAULT_DECODE, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_RECONNECT,
      g_param_spec_boolean("reconnect", "Reconnect",
                           "RTSP: rebuild the source with back-off when it fails, stalls or ends, "
                           "instead of posting an error",
                           DEFAULT_RECONNECT, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_RETRY_DELAY,
      g_param_spec_uint("retry-delay", "Retry delay",
                        "First delay (ms) before reconnecting; doubles on each failed attempt up "
                        "to max-retry-delay, and starts again once data flows",
                        1, kMaxDelay, DEFAULT_RETRY_DELAY, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_RETRY_DELAY,
      g_param_spec_uint("max-retry-delay", "Maximum retry delay",
                        "Longest delay (ms) between reconnection attempts", 1, kMaxDelay,
                        DEFAULT_MAX_RETRY_DELAY, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_LATENCY,
      g_param_spec_uint("latency", "Latency", "RTSP: jitter buffer size (ms)", 0, 60000,
                        DEFAULT_LATENCY, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_RTSP_TRANSPORT,
      g_param_spec_enum("rtsp-transport", "RTSP transport", "RTSP: how RTP is received",
                        RELAIS_TYPE_RTSP_TRANSPORT, static_cast<gint>(DEFAULT_RTSP_TRANSPORT),
                        rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout",
                        "RTSP: connection timeout (ms), and how long without data counts as a "
                        "lost source (0 = wait forever)",
                        0, kMaxDelay, DEFAULT_TIMEOUT, rw_ready));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Relais source", "Source/Bin/Video",
      "Ingests video from RTSP, files, HTTP, V4L2 cameras or a test pattern, passing encoded "
      "video through parsed (or decoded), reconnecting live network sources",
      "Relais authors");

  element_class->change_state = relais_src_change_state;
  bin_class->handle_message = relais_src_handle_message;

  gst_type_mark_as_plugin_api(RELAIS_TYPE_RTSP_TRANSPORT, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(relais_src_debug, "relaissrc", 0, "Relais source bin");
}

static void relais_src_init(RelaisSrc* self) {
  self->priv = new Private();
  GstPadTemplate* templ = gst_static_pad_template_get(&src_template);
  self->priv->srcpad = gst_ghost_pad_new_no_target_from_template("src", templ);
  gst_object_unref(templ);
  gst_element_add_pad(GST_ELEMENT(self), self->priv->srcpad);
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
}
