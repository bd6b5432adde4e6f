// relaissrc's source chain: builds the elements for a URI, links the pads
// they expose (on the control loop, never on a streaming thread), watches
// what leaves the bin, and rebuilds the source when a live network source is
// lost.
#include <algorithm>

#include "relaissrc_private.h"

#define GST_CAT_DEFAULT relais_src_debug

namespace relais::relaissrc {

void post_error(RelaisSrc* self, GQuark domain, gint code, const std::string& text,
                const std::string& debug) {
  gst_element_message_full(
      GST_ELEMENT(self), GST_MESSAGE_ERROR, domain, code,
      g_strdup(relais::redact_credentials(text).c_str()),
      debug.empty() ? nullptr : g_strdup(relais::redact_credentials(debug).c_str()), __FILE__,
      GST_FUNCTION, __LINE__);
}

static void post_status(RelaisSrc* self, const char* status, guint attempt, guint delay_ms,
                        const std::string& reason) {
  GstStructure* s = gst_structure_new(
      "relais-source", "status", G_TYPE_STRING, status, "attempt", G_TYPE_UINT, attempt, "delay",
      G_TYPE_UINT64, static_cast<guint64>(delay_ms) * GST_MSECOND, "uri", G_TYPE_STRING,
      self->priv->desc.display_uri.c_str(), "reason", G_TYPE_STRING,
      relais::redact_credentials(reason).c_str(), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static guint64 generation_of(gpointer object) {
  return GPOINTER_TO_SIZE(g_object_get_qdata(G_OBJECT(object), generation_quark()));
}

// The generation of the chain that `object` (one of our elements, or inside one) belongs to.
guint64 generation_of_descendant(RelaisSrc* self, GstObject* object) {
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
static void finish_stream(RelaisSrc* self);

// Downstream returned GST_FLOW_EOS (e.g. `identity eos-after=N`): it wants no
// more data, so the stream ends instead of being reconnected.
static bool downstream_ended(Private* priv) {
  return gst_pad_get_last_flow_return(priv->srcpad) == GST_FLOW_EOS;
}

// Schedules a rebuild of the source after the current back-off delay, unless
// the stream is ending: then it is finished.
void schedule_reconnect(RelaisSrc* self, guint64 generation, const std::string& why) {
  Private* priv = self->priv;
  const std::string reason = relais::redact_credentials(why);  // it is logged and posted
  guint attempt = 0, delay = 0;
  bool was_connected = false;
  const bool done_downstream = downstream_ended(priv);
  bool ending;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.generation != generation || r.lost || r.fatal) return;
    r.ending = r.ending || done_downstream;
    ending = r.ending;
    if (!ending) {
      r.lost = true;
      attempt = ++r.attempt;
      delay = r.next_delay;
      r.next_delay = std::min(std::max(delay, 1u) * 2, priv->active.max_retry_delay);
      was_connected = r.connected;
    }
  }
  if (ending) {
    GST_INFO_OBJECT(self, "the stream is ending; not reconnecting (%s)", reason.c_str());
    priv->loop.post([self] { finish_stream(self); });
    return;
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
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    // Only the server ending the stream is a reason to reconnect; an EOS the
    // application sent, or one after downstream returned GST_FLOW_EOS, ends it.
    const bool done_downstream = downstream_ended(priv);
    bool ending, duplicate = false;
    {
      std::lock_guard lock(priv->mutex);
      RunState& r = priv->run;
      r.ending = r.ending || done_downstream;
      ending = r.ending;
      if (ending) {
        duplicate = r.eos_sent;
        r.eos_sent = true;
      }
    }
    if (ending) return duplicate ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
    if (priv->desc.is_live_network() && priv->active.reconnect) {
      schedule_reconnect(self, pd->generation, "the server ended the stream");
      return GST_PAD_PROBE_DROP;
    }
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
void fail_without_video(RelaisSrc* self, guint64 generation, Stage stage, const std::string& why) {
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
bool build_chain(RelaisSrc* self, guint64 generation, bool sync) {
  Private* priv = self->priv;
  relais::ingress::SourceOptions options;
  options.decode = priv->active.decode;
  options.latency_ms = priv->active.latency;
  options.transport = priv->active.transport;
  options.timeout_ms = priv->active.timeout;
  options.tls_ca_file = priv->active.tls_ca_file;
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
void teardown_chain(RelaisSrc* self) {
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
    if (!r.running || r.generation != generation || r.ending) return;
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

static GstElement* chain_source(Private* priv) {
  for (auto& e : priv->chain) {
    if (GST_OBJECT_FLAG_IS_SET(e.get(), GST_ELEMENT_FLAG_SOURCE)) return e.get();
  }
  return nullptr;
}

static relais::EventPtr make_eos(guint32 seqnum) {
  relais::EventPtr eos(gst_event_new_eos());
  if (seqnum != GST_SEQNUM_INVALID) gst_event_set_seqnum(eos.get(), seqnum);
  return eos;
}

// Stops the chain and pushes EOS from the element's pad, once.
static void finish_stream(RelaisSrc* self) {
  Private* priv = self->priv;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.eos_sent) return;
    ++r.generation;  // what the old chain still says is ignored
    r.lost = false;
  }
  teardown_chain(self);
  bool start;
  guint32 seqnum;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.eos_sent) return;
    r.eos_sent = true;
    start = !r.stream_started;
    r.stream_started = true;
    seqnum = r.eos_seqnum;
  }
  GST_INFO_OBJECT(self, "ending the stream of %s", priv->desc.display_uri.c_str());
  if (start) {
    relais::GCharPtr id(gst_pad_create_stream_id(priv->srcpad, GST_ELEMENT(self), nullptr));
    gst_pad_push_event(priv->srcpad, gst_event_new_stream_start(id.get()));
  }
  gst_pad_push_event(priv->srcpad, make_eos(seqnum).release());
}

void end_stream(RelaisSrc* self) {
  Private* priv = self->priv;
  bool flowing;
  guint32 seqnum;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running || r.eos_sent) return;
    flowing = r.connected && !r.lost && !r.fatal;
    seqnum = r.eos_seqnum;
  }
  GstElement* source = flowing ? chain_source(priv) : nullptr;
  if (source && gst_element_send_event(source, make_eos(seqnum).release())) {
    GST_INFO_OBJECT(self, "EOS sent into the source; draining");
    return;  // the output probe lets it through; the watchdog covers a source that stalls
  }
  finish_stream(self);
}

// Runs on the control loop: a live network source that sends nothing for
// `timeout` ms while PLAYING is treated as lost (or, when the stream is
// ending, finished).
void watchdog(RelaisSrc* self) {
  Private* priv = self->priv;
  const guint timeout = priv->active.timeout;
  guint64 generation;
  bool idle, ending, eos_sent;
  {
    std::lock_guard lock(priv->mutex);
    RunState& r = priv->run;
    if (!r.running) return;
    generation = r.generation;
    // Paused: no data is expected, so none is missing.
    idle = r.lost || r.fatal || !r.playing;
    ending = r.ending;
    eos_sent = r.eos_sent;
  }
  const gint64 quiet_ms = (g_get_monotonic_time() - priv->last_data_us.load()) / 1000;
  if (eos_sent) return;
  if (ending && !idle && quiet_ms > timeout) {
    finish_stream(self);
    return;
  }
  if (!idle && !ending && quiet_ms > timeout) {
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

}  // namespace relais::relaissrc
