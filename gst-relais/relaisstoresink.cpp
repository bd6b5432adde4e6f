/**
 * SECTION:element-relaisstoresink
 *
 * Writes every buffer it receives (any caps, encoded or raw) to a frame store,
 * with timestamps, flags and caps, under a stream name. It does not wait for
 * preroll (async=false by default), so a writer and a reader of the same
 * stream may share one pipeline. Readers in the same
 * process (memory://) or on any machine sharing the Redis (redis://) follow
 * the stream with relaisstoresrc.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *   relaisstoresink store=redis://127.0.0.1:6379 stream=lobby
 * ]|
 */
#include "relaisstoresink.h"

#include <mutex>

#include "elements.h"
#include "gst_handles.h"
#include "redact.h"
#include "store_frame_convert.h"
#include "store_settings.h"

GST_DEBUG_CATEGORY_STATIC(relais_store_sink_debug);
#define GST_CAT_DEFAULT relais_store_sink_debug

namespace {

constexpr guint DEFAULT_MAX_FRAMES = 600;
constexpr guint64 DEFAULT_MAX_AGE = 30 * GST_SECOND;
constexpr guint64 DEFAULT_MAX_BYTES = 64ull << 20;
constexpr gint64 DEFAULT_FENCE_EPOCH = 0;

enum {
  PROP_0,
  PROP_STORE,
  PROP_STREAM,
  PROP_MAX_FRAMES,
  PROP_MAX_AGE,
  PROP_MAX_BYTES,
  PROP_FENCE_EPOCH,
  PROP_STATS
};

struct Settings {
  std::string store;  // empty: RELAIS_STORAGE_* or memory://
  std::string stream;
  guint max_frames = DEFAULT_MAX_FRAMES;
  guint64 max_age = DEFAULT_MAX_AGE;
  guint64 max_bytes = DEFAULT_MAX_BYTES;
  gint64 fence_epoch = DEFAULT_FENCE_EPOCH;
};

struct Private {
  Settings settings;       // guarded by the object lock
  std::mutex state_mutex;  // guards store and writer (not held while writing)
  std::shared_ptr<relais::store::Store> store;
  std::unique_ptr<relais::store::Writer> writer;
  // Used from the streaming thread only.
  relais::store::CapsString caps;
  std::string active_uri;
  std::string active_stream;
  gint64 fence_epoch = 0;
  bool warned_gop_cut = false;  // max-bytes cut into a GOP, and that was said
};

}  // namespace

struct _RelaisStoreSink {
  GstBaseSink parent;
  Private* priv;
};

G_DEFINE_TYPE(RelaisStoreSink, relais_store_sink, GST_TYPE_BASE_SINK)
GST_ELEMENT_REGISTER_DEFINE(relaisstoresink, "relaisstoresink", GST_RANK_NONE,
                            RELAIS_TYPE_STORE_SINK)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstStructure* stats_structure(Private* priv) {
  relais::store::WriterStats st;
  {
    std::lock_guard lock(priv->state_mutex);
    if (priv->writer) st = priv->writer->stats();
  }
  return gst_structure_new("relais-store-stats", "frames", G_TYPE_UINT64, st.frames, "bytes",
                           G_TYPE_UINT64, st.bytes, "dropped", G_TYPE_UINT64, st.dropped, "refused",
                           G_TYPE_UINT64, st.refused, "reconnects", G_TYPE_UINT64, st.reconnects,
                           "gop-cuts", G_TYPE_UINT64, st.gop_cuts, nullptr);
}

static void relais_store_sink_set_property(GObject* object, guint prop_id, const GValue* value,
                                           GParamSpec* pspec) {
  auto* self = RELAIS_STORE_SINK(object);
  relais::ObjectLock lock(self);
  if (relais::refuse_change_while_running(GST_ELEMENT(self), pspec, GST_CAT_DEFAULT)) return;
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_STORE:
      s.store = relais::string_value(value);
      break;
    case PROP_STREAM:
      s.stream = relais::string_value(value);
      break;
    case PROP_MAX_FRAMES:
      s.max_frames = g_value_get_uint(value);
      break;
    case PROP_MAX_AGE:
      s.max_age = g_value_get_uint64(value);
      break;
    case PROP_MAX_BYTES:
      s.max_bytes = g_value_get_uint64(value);
      break;
    case PROP_FENCE_EPOCH:
      s.fence_epoch = g_value_get_int64(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void relais_store_sink_get_property(GObject* object, guint prop_id, GValue* value,
                                           GParamSpec* pspec) {
  auto* self = RELAIS_STORE_SINK(object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed(value, stats_structure(self->priv));
    return;
  }
  relais::ObjectLock lock(self);
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_STORE:
      g_value_set_string(value, s.store.empty() ? nullptr : s.store.c_str());
      break;
    case PROP_STREAM:
      g_value_set_string(value, s.stream.empty() ? nullptr : s.stream.c_str());
      break;
    case PROP_MAX_FRAMES:
      g_value_set_uint(value, s.max_frames);
      break;
    case PROP_MAX_AGE:
      g_value_set_uint64(value, s.max_age);
      break;
    case PROP_MAX_BYTES:
      g_value_set_uint64(value, s.max_bytes);
      break;
    case PROP_FENCE_EPOCH:
      g_value_set_int64(value, s.fence_epoch);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static gboolean relais_store_sink_start(GstBaseSink* sink) {
  auto* self = RELAIS_STORE_SINK(sink);
  Private* priv = self->priv;
  Settings settings;
  {
    relais::ObjectLock lock(self);
    settings = priv->settings;
  }
  std::string uri = settings.store.empty() ? relais::store::default_store_uri() : settings.store;
  std::shared_ptr<relais::store::Store> store;
  if (!relais::open_store_for_element(GST_ELEMENT(self), uri, settings.stream, &store))
    return FALSE;

  relais::store::Retention retention;
  retention.max_frames = settings.max_frames;
  retention.max_age = std::chrono::milliseconds(settings.max_age / GST_MSECOND);
  retention.max_bytes = settings.max_bytes;
  std::unique_ptr<relais::store::Writer> writer;
  relais::store::Status st = store->open_writer(settings.stream, retention, &writer);
  if (!st.is_ok()) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("Could not open stream '%s' for writing in the frame store at '%s'.",
                       settings.stream.c_str(), uri.c_str()),
                      ("%s", st.message().c_str()));
    return FALSE;
  }
  writer->set_fence_epoch(settings.fence_epoch);
  GST_INFO_OBJECT(self, "writing stream '%s' to %s (fence epoch %" G_GINT64_FORMAT ")",
                  settings.stream.c_str(), relais::redact_credentials(uri).c_str(),
                  settings.fence_epoch);
  std::lock_guard lock(priv->state_mutex);
  priv->store = std::move(store);
  priv->writer = std::move(writer);
  priv->active_uri = uri;
  priv->active_stream = settings.stream;
  priv->fence_epoch = settings.fence_epoch;
  priv->caps.reset();
  priv->warned_gop_cut = false;
  return TRUE;
}

static gboolean relais_store_sink_stop(GstBaseSink* sink) {
  Private* priv = RELAIS_STORE_SINK(sink)->priv;
  std::unique_ptr<relais::store::Writer> writer;
  {
    std::lock_guard lock(priv->state_mutex);
    writer = std::move(priv->writer);
    priv->store.reset();
  }
  return TRUE;  // writer closes its connection outside the lock
}

// A write waiting on a hung store returns at once; frames are dropped until unlock_stop().
static gboolean relais_store_sink_unlock(GstBaseSink* sink) {
  Private* priv = RELAIS_STORE_SINK(sink)->priv;
  std::lock_guard lock(priv->state_mutex);
  if (priv->writer) priv->writer->cancel();
  return TRUE;
}

static gboolean relais_store_sink_unlock_stop(GstBaseSink* sink) {
  Private* priv = RELAIS_STORE_SINK(sink)->priv;
  std::lock_guard lock(priv->state_mutex);
  if (priv->writer) priv->writer->reset_cancel();
  return TRUE;
}

static gboolean relais_store_sink_set_caps(GstBaseSink* sink, GstCaps* caps) {
  auto* self = RELAIS_STORE_SINK(sink);
  relais::GCharPtr str(gst_caps_to_string(caps));
  GST_DEBUG_OBJECT(self, "caps %s", str.get());
  self->priv->caps = relais::store::make_caps(str.get());
  return TRUE;
}

static GstFlowReturn relais_store_sink_render(GstBaseSink* sink, GstBuffer* buffer) {
  auto* self = RELAIS_STORE_SINK(sink);
  Private* priv = self->priv;
  relais::store::Frame frame;
  if (!relais::frame_from_buffer(buffer, priv->caps, &frame)) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not read an incoming buffer."),
                      ("gst_buffer_map failed"));
    return GST_FLOW_ERROR;
  }
  // The writer lives from start() to stop(); render() only runs in between.
  switch (priv->writer->write(frame)) {
    case relais::store::WriteResult::kWritten:
      if (!priv->warned_gop_cut && priv->writer->stats().gop_cuts > 0) {
        priv->warned_gop_cut = true;
        GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                            ("Stream '%s' keeps more than max-bytes since its newest keyframe; "
                             "its oldest frames are dropped, so readers joining now wait for the "
                             "next keyframe. Send keyframes more often or raise max-bytes.",
                             priv->active_stream.c_str()),
                            ("max-bytes cut into the newest GOP (stats: gop-cuts)"));
      }
      break;
    case relais::store::WriteResult::kDropped:
      GST_LOG_OBJECT(self, "store unreachable, frame dropped");
      break;
    case relais::store::WriteResult::kLost: {
      std::string reason = priv->writer->last_error();
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                          ("Lost the frame store at '%s'; frames are counted as dropped while "
                           "reconnecting.",
                           priv->active_uri.c_str()),
                          ("%s", reason.c_str()));
      relais::post_store_status(GST_ELEMENT(self), "disconnected", priv->active_stream,
                                priv->active_uri, reason);
      break;
    }
    case relais::store::WriteResult::kRefused: {
      // Not an outage: nothing changes until a person acts, so say what to do.
      std::string reason = priv->writer->last_error();
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                          ("The frame store at '%s' refuses frames of stream '%s'; they are "
                           "dropped until this is fixed: %s",
                           priv->active_uri.c_str(), priv->active_stream.c_str(), reason.c_str()),
                          ("%s", reason.c_str()));
      relais::post_store_status(GST_ELEMENT(self), "refused", priv->active_stream, priv->active_uri,
                                reason);
      break;
    }
    case relais::store::WriteResult::kFenced: {
      // A newer owner of this pipeline writes the stream: this copy must stop.
      std::string reason = priv->writer->last_error();
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                        ("Stream '%s' is written by a newer owner (a pipeline lease with a newer "
                         "epoch); this writer (epoch %" G_GINT64_FORMAT ") is fenced off.",
                         priv->active_stream.c_str(), priv->fence_epoch),
                        ("%s", reason.c_str()));
      return GST_FLOW_ERROR;
    }
    case relais::store::WriteResult::kReconnected:
      GST_INFO_OBJECT(self, "reconnected to %s",
                      relais::redact_credentials(priv->active_uri).c_str());
      relais::post_store_status(GST_ELEMENT(self), "reconnected", priv->active_stream,
                                priv->active_uri, "");
      break;
  }
  return GST_FLOW_OK;
}

static void relais_store_sink_finalize(GObject* object) {
  delete RELAIS_STORE_SINK(object)->priv;
  G_OBJECT_CLASS(relais_store_sink_parent_class)->finalize(object);
}

static void relais_store_sink_class_init(RelaisStoreSinkClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass* basesink_class = GST_BASE_SINK_CLASS(klass);

  gobject_class->set_property = relais_store_sink_set_property;
  gobject_class->get_property = relais_store_sink_get_property;
  gobject_class->finalize = relais_store_sink_finalize;

  constexpr auto rw_ready = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                     GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(gobject_class, PROP_STORE, relais::store_uri_param_spec());
  g_object_class_install_property(gobject_class, PROP_STREAM, relais::stream_name_param_spec());
  g_object_class_install_property(
      gobject_class, PROP_MAX_FRAMES,
      g_param_spec_uint("max-frames", "Max frames",
                        "Frames retained per stream (the newest keyframe and what follows it are "
                        "always kept)",
                        1, G_MAXINT32, DEFAULT_MAX_FRAMES, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_AGE,
      g_param_spec_uint64("max-age", "Max age",
                          "Frames older than this (ns) are dropped, keeping the newest keyframe; "
                          "0 = no age limit",
                          0, G_MAXUINT64, DEFAULT_MAX_AGE, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64("max-bytes", "Max bytes",
                          "Payload bytes retained per stream; wins over keeping the newest "
                          "keyframe (a GOP longer than this is cut, with a warning); 0 = no "
                          "byte limit",
                          0, G_MAXUINT64, DEFAULT_MAX_BYTES, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_FENCE_EPOCH,
      g_param_spec_int64("fence-epoch", "Fence epoch",
                         "Lease epoch of this writer (relais-server sets it for cluster "
                         "pipelines): the Redis store refuses its frames once a writer with a "
                         "newer epoch has written the stream, and the element errors out; "
                         "0 = not fenced",
                         0, G_MAXINT64, DEFAULT_FENCE_EPOCH, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed(
          "stats", "Statistics",
          "relais-store-stats: frames, bytes, dropped, refused (by the store, of dropped), "
          "reconnects, gop-cuts (frames of the newest GOP trimmed by max-bytes)",
          GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "Relais frame store sink", "Sink",
      "Writes buffers with timestamps, flags and caps to a Relais frame store (memory or Redis)",
      "Relais authors");

  basesink_class->start = relais_store_sink_start;
  basesink_class->stop = relais_store_sink_stop;
  basesink_class->set_caps = relais_store_sink_set_caps;
  basesink_class->unlock = relais_store_sink_unlock;
  basesink_class->unlock_stop = relais_store_sink_unlock_stop;
  basesink_class->render = relais_store_sink_render;

  GST_DEBUG_CATEGORY_INIT(relais_store_sink_debug, "relaisstoresink", 0, "Relais frame store sink");
}

static void relais_store_sink_init(RelaisStoreSink* self) {
  self->priv = new Private();
  // A store sink renders nothing, so waiting for preroll buys nothing; not
  // waiting lets a writer and a reader of the same stream share one pipeline.
  gst_base_sink_set_async_enabled(GST_BASE_SINK(self), FALSE);
}
