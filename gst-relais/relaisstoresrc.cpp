/**
 * SECTION:element-relaisstoresrc
 *
 * A live source that follows a stream in a frame store and pushes its frames
 * downstream with their caps, renegotiating when the writer's caps change.
 * By default it starts at the newest keyframe, so a late joiner can decode at
 * once. A stream that does not exist yet is waited for. It answers the
 * LATENCY query with one frame's duration, so a decoding pipeline needs no
 * queue.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 relaisstoresrc store=redis://127.0.0.1:6379 stream=lobby num-buffers=100 ! \
 *   h264parse ! avdec_h264 ! videoconvert ! autovideosink
 * ]|
 */
#include "relaisstoresrc.h"

#include <atomic>
#include <mutex>

#include "elements.h"
#include "gst_handles.h"
#include "redact.h"
#include "store_frame_convert.h"
#include "store_settings.h"

GST_DEBUG_CATEGORY_STATIC(relais_store_src_debug);
#define GST_CAT_DEFAULT relais_store_src_debug

namespace {

constexpr RelaisStoreStart DEFAULT_START = RELAIS_STORE_START_KEYFRAME;
constexpr RelaisStoreTimestamps DEFAULT_TIMESTAMPS = RELAIS_STORE_TIMESTAMPS_REBASE;
constexpr auto kPollInterval = std::chrono::milliseconds(500);
// A jump larger than this in the writer's timestamps, or falling this far
// behind our clock, re-anchors timestamps.
constexpr GstClockTimeDiff kRebaseTolerance = 2 * GST_SECOND;
// How far ahead of our clock a frame's rebased timestamp may be: a backlog
// drained faster than real time keeps its spacing up to this, then bunches up.
// Half the WHEP egress's 2 s branch queue.
constexpr GstClockTimeDiff kMaxAhead = GST_SECOND;
// The latency reported until a frame says how long frames last.
constexpr GstClockTime kDefaultLatency = 40 * GST_MSECOND;

enum { PROP_0, PROP_STORE, PROP_STREAM, PROP_START, PROP_TIMESTAMPS, PROP_STATS };

struct Settings {
  std::string store;
  std::string stream;
  RelaisStoreStart start = DEFAULT_START;
  RelaisStoreTimestamps timestamps = DEFAULT_TIMESTAMPS;
};

struct Private {
  Settings settings;       // guarded by the object lock
  std::mutex state_mutex;  // guards store and reader (not held while reading)
  std::shared_ptr<relais::store::Store> store;
  std::unique_ptr<relais::store::Reader> reader;
  // Used from the streaming thread only.
  relais::store::CapsString caps;
  std::string active_uri;
  std::string active_stream;
  RelaisStoreTimestamps timestamps = DEFAULT_TIMESTAMPS;
  bool have_offset = false;
  GstClockTimeDiff offset = 0;                    // added to the writer's timestamps
  GstClockTime last_ref = GST_CLOCK_TIME_NONE;    // the writer's last timestamp
  GstClockTime last_start = GST_CLOCK_TIME_NONE;  // the last pushed frame's DTS (or PTS), rebased
  // One frame's duration: stamped on arrival, a frame may reach a sink that
  // much later than its timestamp. Read by the LATENCY query from any thread.
  std::atomic<GstClockTime> latency{kDefaultLatency};
};

}  // namespace

struct _RelaisStoreSrc {
  GstPushSrc parent;
  Private* priv;
};

G_DEFINE_TYPE(RelaisStoreSrc, relais_store_src, GST_TYPE_PUSH_SRC)
GST_ELEMENT_REGISTER_DEFINE(relaisstoresrc, "relaisstoresrc", GST_RANK_NONE, RELAIS_TYPE_STORE_SRC)

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GType relais_store_start_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {RELAIS_STORE_START_KEYFRAME, "From the newest keyframe", "keyframe"},
      {RELAIS_STORE_START_LIVE, "Only frames written from now on", "live"},
      {RELAIS_STORE_START_EARLIEST, "From the oldest retained frame", "earliest"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("RelaisStoreStart", values));
  return type;
}

static GType relais_store_timestamps_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {RELAIS_STORE_TIMESTAMPS_REBASE,
       "Shift the writer's timestamps onto this pipeline's running time (spacing kept)", "rebase"},
      {RELAIS_STORE_TIMESTAMPS_ORIGINAL, "Push the writer's timestamps unchanged", "original"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("RelaisStoreTimestamps", values));
  return type;
}

static GstStructure* stats_structure(Private* priv) {
  relais::store::ReaderStats st;
  {
    std::lock_guard lock(priv->state_mutex);
    if (priv->reader) st = priv->reader->stats();
  }
  return gst_structure_new("relais-store-stats", "frames", G_TYPE_UINT64, st.frames, "bytes",
                           G_TYPE_UINT64, st.bytes, "skipped", G_TYPE_UINT64, st.skipped,
                           "reconnects", G_TYPE_UINT64, st.reconnects, nullptr);
}

static void relais_store_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  auto* self = RELAIS_STORE_SRC(object);
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
    case PROP_START:
      s.start = static_cast<RelaisStoreStart>(g_value_get_enum(value));
      break;
    case PROP_TIMESTAMPS:
      s.timestamps = static_cast<RelaisStoreTimestamps>(g_value_get_enum(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void relais_store_src_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  auto* self = RELAIS_STORE_SRC(object);
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
    case PROP_START:
      g_value_set_enum(value, s.start);
      break;
    case PROP_TIMESTAMPS:
      g_value_set_enum(value, s.timestamps);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static relais::store::StartPosition to_start_position(RelaisStoreStart start) {
  switch (start) {
    case RELAIS_STORE_START_LIVE:
      return relais::store::StartPosition::kLive;
    case RELAIS_STORE_START_EARLIEST:
      return relais::store::StartPosition::kEarliest;
    default:
      return relais::store::StartPosition::kKeyframe;
  }
}

static gboolean relais_store_src_start(GstBaseSrc* src) {
  auto* self = RELAIS_STORE_SRC(src);
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
  std::unique_ptr<relais::store::Reader> reader;
  relais::store::Status st =
      store->open_reader(settings.stream, to_start_position(settings.start), &reader);
  if (!st.is_ok()) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                      ("Could not open stream '%s' in the frame store at '%s'.",
                       settings.stream.c_str(), uri.c_str()),
                      ("%s", st.message().c_str()));
    return FALSE;
  }
  GST_INFO_OBJECT(self, "reading stream '%s' from %s", settings.stream.c_str(),
                  relais::redact_credentials(uri).c_str());
  std::lock_guard lock(priv->state_mutex);
  priv->store = std::move(store);
  priv->reader = std::move(reader);
  priv->active_uri = uri;
  priv->active_stream = settings.stream;
  priv->timestamps = settings.timestamps;
  priv->caps.reset();
  priv->have_offset = false;
  priv->last_ref = GST_CLOCK_TIME_NONE;
  priv->last_start = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static gboolean relais_store_src_stop(GstBaseSrc* src) {
  Private* priv = RELAIS_STORE_SRC(src)->priv;
  std::unique_ptr<relais::store::Reader> reader;
  {
    std::lock_guard lock(priv->state_mutex);
    reader = std::move(priv->reader);
    priv->store.reset();
  }
  return TRUE;
}

static gboolean relais_store_src_unlock(GstBaseSrc* src) {
  Private* priv = RELAIS_STORE_SRC(src)->priv;
  std::lock_guard lock(priv->state_mutex);
  if (priv->reader) priv->reader->cancel();
  return TRUE;
}

static gboolean relais_store_src_unlock_stop(GstBaseSrc* src) {
  Private* priv = RELAIS_STORE_SRC(src)->priv;
  std::lock_guard lock(priv->state_mutex);
  if (priv->reader) priv->reader->reset_cancel();
  return TRUE;
}

// Caps come with the frames: they are set in create().
static gboolean relais_store_src_negotiate(GstBaseSrc*) {
  return TRUE;
}

static GstClockTime running_time_now(GstElement* element) {
  GstClock* clock = gst_element_get_clock(element);
  if (!clock) return 0;
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(element);
  return now > base ? now - base : 0;
}

static GstClockTime shift(GstClockTime t, GstClockTimeDiff offset) {
  if (!GST_CLOCK_TIME_IS_VALID(t)) return t;
  GstClockTimeDiff shifted = static_cast<GstClockTimeDiff>(t) + offset;
  return shifted < 0 ? 0 : static_cast<GstClockTime>(shifted);
}

// Moves the writer's timestamps onto this pipeline's running time, keeping
// their spacing. Re-anchors after a discontinuity, a jump in the writer's
// timestamps, or when frames fell far behind our clock; never because frames
// are ahead of it (a keyframe reader drains the backlog since that keyframe
// faster than real time), and never backwards past what was pushed.
static void rebase_timestamps(RelaisStoreSrc* self, GstBuffer* buffer) {
  Private* priv = self->priv;
  GstClockTime ref =
      GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(ref)) return;
  GstClockTime now = running_time_now(GST_ELEMENT(self));
  GstClockTimeDiff drift =
      static_cast<GstClockTimeDiff>(ref) + priv->offset - static_cast<GstClockTimeDiff>(now);
  // Re-anchors after a discontinuity, a jump in the writer's timestamps, or
  // when frames fell far behind our clock. Frames more than kMaxAhead ahead of
  // the clock (a keyframe reader draining the backlog since that keyframe
  // faster than real time) are stamped now instead: a live source's frames
  // must not run far into the future (time-bounded live queues downstream,
  // e.g. the WHEP egress's, fill with them and leak). Never backwards past the
  // last frame pushed.
  bool jumped = GST_CLOCK_TIME_IS_VALID(priv->last_ref) &&
                (ref < priv->last_ref ||
                 static_cast<GstClockTimeDiff>(ref - priv->last_ref) > kRebaseTolerance);
  if (!priv->have_offset || GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT) || jumped ||
      drift < -kRebaseTolerance || drift > kMaxAhead) {
    GstClockTime anchor = now;
    if (GST_CLOCK_TIME_IS_VALID(priv->last_start) && priv->last_start >= anchor)
      anchor = priv->last_start + 1;
    priv->offset = static_cast<GstClockTimeDiff>(anchor) - static_cast<GstClockTimeDiff>(ref);
    priv->have_offset = true;
    GST_DEBUG_OBJECT(self, "timestamp offset %" G_GINT64_FORMAT, priv->offset);
  }
  priv->last_ref = ref;
  GST_BUFFER_PTS(buffer) = shift(GST_BUFFER_PTS(buffer), priv->offset);
  GST_BUFFER_DTS(buffer) = shift(GST_BUFFER_DTS(buffer), priv->offset);
  priv->last_start =
      GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer);
}

// Follows the frames' duration; a change is posted so the pipeline recomputes.
static void update_latency(RelaisStoreSrc* self, GstClockTime duration) {
  if (!GST_CLOCK_TIME_IS_VALID(duration) || duration == 0) return;
  if (self->priv->latency.exchange(duration) == duration) return;
  GST_DEBUG_OBJECT(self, "latency %" GST_TIME_FORMAT, GST_TIME_ARGS(duration));
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
}

static gboolean relais_store_src_query(GstBaseSrc* src, GstQuery* query) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return GST_BASE_SRC_CLASS(relais_store_src_parent_class)->query(src, query);
  // Live; the store keeps frames for whoever reads late, so no upper bound.
  GstClockTime latency = RELAIS_STORE_SRC(src)->priv->latency.load();
  GST_LOG_OBJECT(src, "latency %" GST_TIME_FORMAT, GST_TIME_ARGS(latency));
  gst_query_set_latency(query, TRUE, latency, GST_CLOCK_TIME_NONE);
  return TRUE;
}

static GstFlowReturn apply_caps(RelaisStoreSrc* self, const relais::store::CapsString& caps) {
  Private* priv = self->priv;
  if (!caps) {
    if (priv->caps) return GST_FLOW_OK;
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Stream '%s' has no caps.", priv->active_stream.c_str()),
                      ("the writer stored a frame without caps"));
    return GST_FLOW_ERROR;
  }
  if (priv->caps && *priv->caps == *caps) return GST_FLOW_OK;
  relais::CapsPtr parsed(gst_caps_from_string(caps->c_str()));
  if (!parsed || !gst_caps_is_fixed(parsed.get())) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Stream '%s' has invalid caps.", priv->active_stream.c_str()),
                      ("caps '%s' do not parse as fixed caps", caps->c_str()));
    return GST_FLOW_ERROR;
  }
  GST_DEBUG_OBJECT(self, "caps %s", caps->c_str());
  if (!gst_base_src_set_caps(GST_BASE_SRC(self), parsed.get())) {
    GST_ELEMENT_ERROR(
        self, CORE, NEGOTIATION,
        ("Downstream does not accept the caps of stream '%s'.", priv->active_stream.c_str()),
        ("caps %s", caps->c_str()));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  priv->caps = caps;
  return GST_FLOW_OK;
}

static GstFlowReturn relais_store_src_create(GstPushSrc* src, GstBuffer** out) {
  auto* self = RELAIS_STORE_SRC(src);
  Private* priv = self->priv;
  relais::store::Reader* reader = priv->reader.get();  // lives until stop()
  relais::store::Frame frame;
  for (;;) {
    switch (reader->next(&frame, kPollInterval)) {
      case relais::store::ReadResult::kFrame: {
        GstFlowReturn ret = apply_caps(self, frame.caps);
        if (ret != GST_FLOW_OK) return ret;
        GstBuffer* buffer = relais::buffer_from_frame(frame);
        update_latency(self, GST_BUFFER_DURATION(buffer));
        if (priv->timestamps == RELAIS_STORE_TIMESTAMPS_REBASE) rebase_timestamps(self, buffer);
        *out = buffer;
        return GST_FLOW_OK;
      }
      case relais::store::ReadResult::kTimeout:
        continue;
      case relais::store::ReadResult::kCancelled:
        return GST_FLOW_FLUSHING;
      case relais::store::ReadResult::kDisconnected:
        GST_ELEMENT_WARNING(self, RESOURCE, READ,
                            ("Lost the frame store at '%s'; waiting for it to come back.",
                             priv->active_uri.c_str()),
                            ("stream %s", priv->active_stream.c_str()));
        relais::post_store_status(GST_ELEMENT(self), "disconnected", priv->active_stream,
                                  priv->active_uri, "store unreachable");
        continue;
      case relais::store::ReadResult::kReconnected:
        relais::post_store_status(GST_ELEMENT(self), "reconnected", priv->active_stream,
                                  priv->active_uri, "");
        continue;
    }
  }
}

static void relais_store_src_finalize(GObject* object) {
  delete RELAIS_STORE_SRC(object)->priv;
  G_OBJECT_CLASS(relais_store_src_parent_class)->finalize(object);
}

static void relais_store_src_class_init(RelaisStoreSrcClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass* basesrc_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass* pushsrc_class = GST_PUSH_SRC_CLASS(klass);

  gobject_class->set_property = relais_store_src_set_property;
  gobject_class->get_property = relais_store_src_get_property;
  gobject_class->finalize = relais_store_src_finalize;

  constexpr auto rw_ready = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                     GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(gobject_class, PROP_STORE, relais::store_uri_param_spec());
  g_object_class_install_property(gobject_class, PROP_STREAM, relais::stream_name_param_spec());
  g_object_class_install_property(
      gobject_class, PROP_START,
      g_param_spec_enum("start", "Start", "Where reading starts", relais_store_start_get_type(),
                        DEFAULT_START, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TIMESTAMPS,
      g_param_spec_enum("timestamps", "Timestamps", "How the writer's timestamps are pushed",
                        relais_store_timestamps_get_type(), DEFAULT_TIMESTAMPS, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed(
          "stats", "Statistics", "relais-store-stats: frames, bytes, skipped, reconnects",
          GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Relais frame store source", "Source",
      "Follows a stream in a Relais frame store (memory or Redis) as a live source",
      "Relais authors");

  basesrc_class->start = relais_store_src_start;
  basesrc_class->stop = relais_store_src_stop;
  basesrc_class->unlock = relais_store_src_unlock;
  basesrc_class->unlock_stop = relais_store_src_unlock_stop;
  basesrc_class->negotiate = relais_store_src_negotiate;
  basesrc_class->query = relais_store_src_query;
  pushsrc_class->create = relais_store_src_create;

  gst_type_mark_as_plugin_api(relais_store_start_get_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(relais_store_timestamps_get_type(),
                              static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(relais_store_src_debug, "relaisstoresrc", 0, "Relais frame store source");
}

static void relais_store_src_init(RelaisStoreSrc* self) {
  self->priv = new Private();
  gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}
