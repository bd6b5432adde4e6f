/**
 * SECTION:element-relaissrc
 *
 * An ingress bin: one `uri` picks the source and the video comes out of one
 * always `src` pad.
 *
 * - `rtsp://` and `rtsps://` (user:password@ in the URI is used for
 *   authentication; it and credential-like query values are shown as *** in
 *   every message and log line): rtspsrc, with `latency` and `rtsp-transport`;
 *   `tls-ca-file` trusts a camera's self-signed certificate.
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
 * server goes away, stops sending for `timeout` ms while PLAYING (a paused
 * pipeline is not a lost source) or ends the stream, the
 * source is rebuilt after `retry-delay` ms, doubling up to `max-retry-delay`.
 * Each attempt posts an element message `relais-source` (status=reconnecting,
 * attempt, delay (ns), uri, reason) and each (re)connection one with
 * status=connected. Downstream sees one stream: no EOS and no error, and the
 * first buffer after a reconnection carries the DISCONT flag. Files end with
 * EOS as usual.
 *
 * Only the server ending the stream makes an RTSP source reconnect. An EOS
 * sent to the element (`gst-launch-1.0 -e` on Ctrl-C) ends the stream: what
 * the source holds drains and EOS goes downstream, so a muxer finalises its
 * file; while it waits to reconnect, EOS goes downstream at once. A
 * GST_FLOW_EOS from downstream ends it too.
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

#include "elements.h"
#include "relaissrc_private.h"

GST_DEBUG_CATEGORY(relais_src_debug);
#define GST_CAT_DEFAULT relais_src_debug

using namespace relais::relaissrc;
using relais::ingress::RtspTransport;
using relais::ingress::SourceDescription;

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
  PROP_TLS_CA_FILE,
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
  relais::ingress::SourceOptions checked;
  checked.tls_ca_file = settings.tls_ca_file;
  if (!relais::ingress::check_source(desc, checked, &error)) {
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

// The no-data watchdog counts only while PLAYING, from when playing began.
static void set_playing(RelaisSrc* self, bool playing) {
  Private* priv = self->priv;
  std::lock_guard lock(priv->mutex);
  priv->run.playing = playing;
  if (playing) priv->last_data_us.store(g_get_monotonic_time());
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

// A copy of a child's warning, info or progress message with credentials
// masked (rtspsrc's progress says "Connecting to <location>", and the location
// keeps the query the camera needs), or null when there is nothing to mask.
static GstMessage* redacted_child_message(GstMessage* message) {
  GstObject* src = GST_MESSAGE_SRC(message);
  GstMessage* copy = nullptr;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_PROGRESS) {
    GstProgressType type;
    gchar *raw_code = nullptr, *raw_text = nullptr;
    gst_message_parse_progress(message, &type, &raw_code, &raw_text);
    relais::GCharPtr code(raw_code), text(raw_text);
    const std::string masked = relais::redact_credentials(text ? text.get() : "");
    if (!text || masked == text.get()) return nullptr;
    copy = gst_message_new_progress(src, type, code.get(), masked.c_str());
  } else {
    const bool warning = GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING;
    GError* raw_err = nullptr;
    gchar* raw_debug = nullptr;
    if (warning)
      gst_message_parse_warning(message, &raw_err, &raw_debug);
    else
      gst_message_parse_info(message, &raw_err, &raw_debug);
    relais::GErrorPtr err(raw_err);
    relais::GCharPtr debug(raw_debug);
    const std::string text = relais::redact_credentials(err->message);
    const std::string detail = relais::redact_credentials(debug ? debug.get() : "");
    if (text == err->message && detail == (debug ? debug.get() : "")) return nullptr;
    relais::GErrorPtr masked(g_error_new_literal(err->domain, err->code, text.c_str()));
    const gchar* d = debug ? detail.c_str() : nullptr;
    copy = warning ? gst_message_new_warning(src, masked.get(), d)
                   : gst_message_new_info(src, masked.get(), d);
  }
  gst_message_set_seqnum(copy, gst_message_get_seqnum(message));
  return copy;
}

// Errors from the source's elements: a live network source reconnects; any
// other error is posted again as relaissrc's own, naming the source. Errors
// from a chain already replaced, or from one being stopped, are dropped.
static void relais_src_handle_message(GstBin* bin, GstMessage* message) {
  auto* self = RELAIS_SRC(bin);
  Private* priv = self->priv;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_STREAM_COLLECTION) check_collection(self, message);
  const GstMessageType type = GST_MESSAGE_TYPE(message);
  if ((type == GST_MESSAGE_WARNING || type == GST_MESSAGE_INFO || type == GST_MESSAGE_PROGRESS) &&
      GST_MESSAGE_SRC(message) != GST_OBJECT(self)) {
    if (GstMessage* masked = redacted_child_message(message)) {
      gst_message_unref(message);
      message = masked;
    }
  }
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
  // Once stopping has begun (PAUSED->READY), a chain that a pending
  // reconnection had just rebuilt may still fail to connect while it goes
  // down: that is not the source failing, so it is not reported.
  if (!running) {
    GST_DEBUG_OBJECT(self, "dropping an error from a source being stopped: %s",
                     relais::redact_credentials(err->message).c_str());
    return;
  }
  if (!current) {
    GST_DEBUG_OBJECT(self, "dropping an error from a replaced source: %s",
                     relais::redact_credentials(err->message).c_str());
    return;
  }
  if (priv->desc.is_live_network() && priv->active.reconnect && !is_permanent(err.get())) {
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

// An EOS sent to the element (gst-launch-1.0 -e on Ctrl-C, or the pipeline's
// send_event) ends a live network source's stream for good: it is not the
// server ending it, so nothing reconnects. Other sources handle it as usual.
static gboolean relais_src_send_event(GstElement* element, GstEvent* event) {
  auto* self = RELAIS_SRC(element);
  Private* priv = self->priv;
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    bool take = false, again = false;
    {
      std::lock_guard lock(priv->mutex);
      RunState& r = priv->run;
      // desc was set before running became true, under this mutex.
      if (r.running && priv->desc.is_live_network()) {
        take = true;
        again = r.ending;
        r.ending = true;
        if (!again) r.eos_seqnum = gst_event_get_seqnum(event);
      }
    }
    if (take) {
      gst_event_unref(event);
      GST_INFO_OBJECT(self, "EOS from the application: ending the stream");
      if (!again) priv->loop.post([self] { end_stream(self); });
      return TRUE;
    }
  }
  return GST_ELEMENT_CLASS(relais_src_parent_class)->send_event(element, event);
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
  if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED) set_playing(self, false);

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(relais_src_parent_class)->change_state(element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING && ret != GST_STATE_CHANGE_FAILURE)
    set_playing(self, true);

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
    case PROP_TLS_CA_FILE:
      s.tls_ca_file = g_value_get_string(value) ? g_value_get_string(value) : "";
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
    case PROP_TLS_CA_FILE:
      g_value_set_string(value, s.tls_ca_file.empty() ? nullptr : s.tls_ca_file.c_str());
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
                        "RTSP: connection timeout (ms), and how long without data while PLAYING "
                        "counts as a lost source (0 = wait forever)",
                        0, kMaxDelay, DEFAULT_TIMEOUT, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TLS_CA_FILE,
      g_param_spec_string("tls-ca-file", "TLS CA file",
                          "rtsps/https: PEM file of the certificate authorities to trust instead "
                          "of the system's (e.g. a camera's self-signed certificate)",
                          nullptr, rw_ready));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Relais source", "Source/Bin/Video",
      "Ingests video from RTSP, files, HTTP, V4L2 cameras or a test pattern, passing encoded "
      "video through parsed (or decoded), reconnecting live network sources",
      "Relais authors");

  element_class->change_state = relais_src_change_state;
  element_class->send_event = relais_src_send_event;
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
