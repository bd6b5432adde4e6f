#include "stream_egress.h"

#include <gst/rtp/rtp.h>

#include "main_context.h"

GST_DEBUG_CATEGORY_STATIC(relais_whep_egress_debug);
#define GST_CAT_DEFAULT relais_whep_egress_debug

namespace relais::webrtc {
namespace {

// The packets since the newest keyframe are kept up to these limits; a longer
// GOP is not cached and new viewers then start at the next keyframe.
constexpr size_t kMaxCachePackets = 4000;
constexpr size_t kMaxCacheBytes = 16 * 1024 * 1024;
// A viewer's queue drops its oldest packets beyond this, so a stalled viewer
// never holds up the others.
constexpr guint64 kBranchQueueTime = 2 * GST_SECOND;

void init_debug() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(relais_whep_egress_debug, "relaiswhepegress", 0,
                            "Relais WHEP per-stream egress pipeline");
    g_once_init_leave(&once, 1);
  }
}

GstElement* make(const char* factory, std::string* error) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (!e) *error = std::string("GStreamer element '") + factory + "' is not installed";
  return e;
}

template <typename T>
void free_shared(gpointer p) {
  delete static_cast<std::shared_ptr<T>*>(p);
}

GstBuffer* rewrite_pt(GstBuffer* buffer, int pt) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return buffer;
  bool same = gst_rtp_buffer_get_payload_type(&rtp) == pt;
  gst_rtp_buffer_unmap(&rtp);
  if (same) return buffer;
  buffer = gst_buffer_make_writable(buffer);
  if (gst_rtp_buffer_map(buffer, GST_MAP_WRITE, &rtp)) {
    gst_rtp_buffer_set_payload_type(&rtp, static_cast<guint8>(pt));
    gst_rtp_buffer_unmap(&rtp);
  }
  return buffer;
}

// How much faster than real time a new viewer is sent the cached GOP.
constexpr uint32_t kCatchUpSpeed = 10;

// A copy of a cached packet moved towards the live edge: its RTP timestamp and
// buffer times keep their order but shrink their distance to the newest cached
// packet by kCatchUpSpeed. Sent at once, a whole GOP would otherwise look to the
// viewer's jitter buffer (and to the branch queue, which bounds time) like
// seconds of late media, and the keyframe at its head would be dropped.
GstBuffer* fast_forwarded(GstBuffer* cached, guint32 live_rtp_ts, GstClockTime live_pts) {
  GstBuffer* buffer = gst_buffer_copy(cached);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map(buffer, GST_MAP_READWRITE, &rtp)) {
    guint32 behind = live_rtp_ts - gst_rtp_buffer_get_timestamp(&rtp);  // wraps correctly
    gst_rtp_buffer_set_timestamp(&rtp, live_rtp_ts - behind / kCatchUpSpeed);
    gst_rtp_buffer_unmap(&rtp);
  }
  auto shrink = [live_pts](GstClockTime t) {
    if (!GST_CLOCK_TIME_IS_VALID(t) || !GST_CLOCK_TIME_IS_VALID(live_pts) || t > live_pts) return t;
    return live_pts - (live_pts - t) / kCatchUpSpeed;
  };
  GST_BUFFER_PTS(buffer) = shrink(GST_BUFFER_PTS(buffer));
  GST_BUFFER_DTS(buffer) = shrink(GST_BUFFER_DTS(buffer));
  return buffer;
}

// queue src: the viewer's payload type (and H.264 profile-level-id) on caps and packets.
GstPadProbeReturn branch_rewrite_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto& branch = *static_cast<std::shared_ptr<EgressBranch>*>(data);
  const int pt = branch->choice.payload_type;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    branch->bytes.fetch_add(gst_buffer_get_size(buffer), std::memory_order_relaxed);
    if (pt != branch->base_pt) info->data = rewrite_pt(buffer, pt);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    branch->bytes.fetch_add(gst_buffer_list_calculate_size(list), std::memory_order_relaxed);
    if (pt != branch->base_pt) {
      list = gst_buffer_list_make_writable(list);
      gst_buffer_list_foreach(
          list,
          [](GstBuffer** buf, guint, gpointer user) -> gboolean {
            *buf = rewrite_pt(*buf, GPOINTER_TO_INT(user));
            return TRUE;
          },
          GINT_TO_POINTER(pt));
      info->data = list;
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
    GstCaps* caps = nullptr;
    gst_event_parse_caps(event, &caps);
    GstCaps* rewritten = gst_caps_copy(caps);
    GstStructure* s = gst_caps_get_structure(rewritten, 0);
    gst_structure_set(s, "payload", G_TYPE_INT, pt, nullptr);
    if (branch->choice.codec == VideoCodec::kH264 && !branch->choice.profile_level_id.empty())
      gst_structure_set(s, "profile-level-id", G_TYPE_STRING,
                        branch->choice.profile_level_id.c_str(), nullptr);
    info->data = gst_event_new_caps(rewritten);
    gst_caps_unref(rewritten);
    gst_event_unref(event);
  }
  return GST_PAD_PROBE_OK;
}

// queue sink: holds back the branch's packets until the viewer is connected
// (go_live), so its first packets are a keyframe's.
GstPadProbeReturn branch_gate_probe(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto& branch = *static_cast<std::shared_ptr<EgressBranch>*>(data);
  return branch->live.load() ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

}  // namespace

void EgressBranch::detach_probes() {
  if (gate_probe) {
    PadRef pad = PadRef::adopt(gst_element_get_static_pad(queue.get(), "sink"));
    gst_pad_remove_probe(pad.get(), gate_probe);
    gate_probe = 0;
  }
  if (rewrite_probe) {
    PadRef pad = PadRef::adopt(gst_element_get_static_pad(queue.get(), "src"));
    gst_pad_remove_probe(pad.get(), rewrite_probe);
    rewrite_probe = 0;
  }
}

struct StreamEgress::Shared {
  std::mutex mutex;  // guards cache, cache_bytes, cache_valid, waiting
  std::vector<BufferPtr> cache;
  size_t cache_bytes = 0;
  bool cache_valid = false;
  std::vector<std::shared_ptr<EgressBranch>> waiting;
  // Streaming thread only.
  std::atomic<uint64_t> frame_seq{0};
  std::atomic<bool> frame_key{false};
  uint64_t seen_seq = 0;

  void append(GstBuffer* b) {
    cache.emplace_back(gst_buffer_ref(b));
    cache_bytes += gst_buffer_get_size(b);
  }
};

namespace {

// payloader sink: which encoded frame the next packets belong to.
GstPadProbeReturn frame_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto& shared = *static_cast<std::shared_ptr<StreamEgress::Shared>*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  shared->frame_key = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  shared->frame_seq++;
  return GST_PAD_PROBE_OK;
}

}  // namespace

// tee sink: keeps the packets since the newest keyframe, and lets branches
// that wait for a keyframe (no complete GOP cached) through at the next one.
static GstPadProbeReturn cache_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto& shared = *static_cast<std::shared_ptr<StreamEgress::Shared>*>(data);
  uint64_t seq = shared->frame_seq.load();
  bool key_start = seq != shared->seen_seq && shared->frame_key.load();
  shared->seen_seq = seq;
  std::lock_guard lock(shared->mutex);
  if (key_start) {
    shared->cache.clear();
    shared->cache_bytes = 0;
    shared->cache_valid = true;
    for (const auto& branch : shared->waiting) branch->live = true;
    shared->waiting.clear();
  }
  if (!shared->cache_valid) return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    shared->append(GST_PAD_PROBE_INFO_BUFFER(info));
  } else {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      shared->append(gst_buffer_list_get(list, i));
  }
  if (shared->cache.size() > kMaxCachePackets || shared->cache_bytes > kMaxCacheBytes) {
    shared->cache.clear();
    shared->cache_bytes = 0;
    shared->cache_valid = false;
  }
  return GST_PAD_PROBE_OK;
}

// Holds the tee's sink pad stream lock: the streaming thread is then outside
// the tee (and its probes), so packets and events pushed into a branch from
// the main context stay in order with the live ones. This is the lock every
// element holds while it pushes; the pushes here go into a leaky queue, which
// never blocks.
class TeeStreamLock {
 public:
  explicit TeeStreamLock(GstElement* tee)
      : pad_(PadRef::adopt(gst_element_get_static_pad(tee, "sink"))) {
    GST_PAD_STREAM_LOCK(pad_.get());
  }
  ~TeeStreamLock() { GST_PAD_STREAM_UNLOCK(pad_.get()); }
  TeeStreamLock(const TeeStreamLock&) = delete;
  TeeStreamLock& operator=(const TeeStreamLock&) = delete;

 private:
  PadRef pad_;
};

std::unique_ptr<StreamEgress> StreamEgress::create(const std::string& store_uri,
                                                   const std::string& stream,
                                                   const StreamFormat& format,
                                                   const CodecChoice& choice, GMainContext* ctx,
                                                   Callbacks callbacks, std::string* error) {
  init_debug();
  std::unique_ptr<StreamEgress> egress(new StreamEgress());
  egress->stream_ = stream;
  egress->ctx_ = ctx;
  egress->callbacks_ = std::move(callbacks);
  egress->shared_ = std::make_shared<Shared>();
  if (!egress->build(store_uri, format, choice, error)) return nullptr;
  return egress;
}

bool StreamEgress::build(const std::string& store_uri, const StreamFormat& format,
                         const CodecChoice& choice, std::string* error) {
  codec_ = choice.codec;
  base_pt_ = choice.payload_type;
  if (format.kind == StreamFormat::Kind::kRaw) raw_encode_ = choice.codec;
  pipeline_ = ElementRef::adopt(gst_pipeline_new(("whep-" + stream_).c_str()));
  std::vector<GstElement*> chain;
  auto add = [&](const char* factory) -> GstElement* {
    GstElement* e = make(factory, error);
    if (e) {
      gst_bin_add(GST_BIN(pipeline_.get()), e);
      chain.push_back(e);
    }
    return e;
  };
  GstElement* src = add("relaisstoresrc");
  if (!src) return false;
  g_object_set(src, "store", store_uri.c_str(), "stream", stream_.c_str(), nullptr);
  gst_util_set_object_arg(G_OBJECT(src), "start", "keyframe");
  if (format.kind == StreamFormat::Kind::kRaw) {
    if (!add("videoconvert")) return false;
    if (codec_ == VideoCodec::kH264) {
      GstElement* enc = add("x264enc");
      if (!enc) return false;
      gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
      gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
      g_object_set(enc, "key-int-max", 60u, nullptr);
      GstElement* filter = add("capsfilter");
      if (!filter) return false;
      CapsPtr caps(gst_caps_from_string("video/x-h264,profile=constrained-baseline"));
      g_object_set(filter, "caps", caps.get(), nullptr);
    } else {
      GstElement* enc = add("vp8enc");
      if (!enc) return false;
      g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 8, "keyframe-max-dist", 60,
                   nullptr);
    }
  }
  GstElement* pay = nullptr;
  if (codec_ == VideoCodec::kH264) {
    GstElement* parse = add("h264parse");
    if (!parse) return false;
    g_object_set(parse, "config-interval", -1, nullptr);
    pay = add("rtph264pay");
    if (!pay) return false;
    g_object_set(pay, "config-interval", -1, nullptr);
    gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
  } else {
    pay = add("rtpvp8pay");
    if (!pay) return false;
    gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
  }
  g_object_set(pay, "pt", static_cast<guint>(base_pt_), nullptr);
  GstElement* tee = add("tee");
  if (!tee) return false;
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  tee_ = ElementRef::ref(tee);
  for (size_t i = 0; i + 1 < chain.size(); i++) {
    if (!gst_element_link(chain[i], chain[i + 1])) {
      *error = std::string("could not link ") + GST_OBJECT_NAME(chain[i]) + " to " +
               GST_OBJECT_NAME(chain[i + 1]);
      return false;
    }
  }
  PadRef pay_sink = PadRef::adopt(gst_element_get_static_pad(pay, "sink"));
  gst_pad_add_probe(pay_sink.get(), GST_PAD_PROBE_TYPE_BUFFER, frame_probe,
                    new std::shared_ptr<Shared>(shared_), free_shared<Shared>);
  PadRef tee_sink = PadRef::adopt(gst_element_get_static_pad(tee, "sink"));
  gst_pad_add_probe(
      tee_sink.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      cache_probe, new std::shared_ptr<Shared>(shared_), free_shared<Shared>);

  BusRef bus = BusRef::adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(watch, G_SOURCE_FUNC(on_bus_message), this, nullptr);
  g_source_attach(watch, ctx_);
  bus_watch_.reset(watch);

  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "the egress pipeline for stream '" + stream_ + "' did not start";
    return false;
  }
  GST_INFO("egress for '%s' started (%s, pt %d)", stream_.c_str(), codec_name(codec_), base_pt_);
  return true;
}

StreamEgress::~StreamEgress() {
  bus_watch_.reset();
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  for (const auto& b : branches_) b->detach_probes();
  if (shared_) {
    std::lock_guard lock(shared_->mutex);
    shared_->waiting.clear();
    shared_->cache.clear();
  }
  GST_INFO("egress for '%s' stopped", stream_.c_str());
}

// True if `src` is (inside) a viewer's webrtcbin or branch queue rather than
// the stream's shared chain.
static bool from_viewer_branch(GstObject* src) {
  for (GstObject* o = src; o; o = GST_OBJECT_PARENT(o)) {
    if (!GST_IS_ELEMENT(o)) continue;
    GstElementFactory* f = gst_element_get_factory(GST_ELEMENT(o));
    const char* name = f ? GST_OBJECT_NAME(f) : "";
    if (g_strcmp0(name, "webrtcbin") == 0) return true;
    if (g_strcmp0(name, "queue") == 0 && GST_OBJECT_PARENT(o) &&
        GST_IS_PIPELINE(GST_OBJECT_PARENT(o)))
      return true;
  }
  return false;
}

gboolean StreamEgress::on_bus_message(GstBus*, GstMessage* message, gpointer data) {
  auto* self = static_cast<StreamEgress*>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &err, &debug);
      std::string reason = err ? err->message : "unknown error";
      GST_WARNING("egress '%s': %s (%s)", self->stream_.c_str(), reason.c_str(),
                  debug ? debug : "");
      g_clear_error(&err);
      g_free(debug);
      for (const auto& b : self->branches_) {
        if (GST_MESSAGE_SRC(message) == GST_OBJECT(b->sink.get()) ||
            gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(b->sink.get()))) {
          auto cb = self->callbacks_.on_viewer_failed;
          ElementRef sink = b->sink;
          cb(sink.get(), reason);  // may destroy self
          return G_SOURCE_CONTINUE;
        }
      }
      if (from_viewer_branch(GST_MESSAGE_SRC(message))) {
        // A viewer already being removed: its end is not the stream's.
        GST_DEBUG("ignoring an error from a departing viewer");
        return G_SOURCE_CONTINUE;
      }
      auto cb = self->callbacks_.on_failed;
      cb(reason);  // may destroy self
      return G_SOURCE_CONTINUE;
    }
    case GST_MESSAGE_LATENCY:
      gst_bin_recalculate_latency(GST_BIN(self->pipeline_.get()));
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

std::shared_ptr<EgressBranch> StreamEgress::add_branch(GstElement* sink,
                                                       const char* sink_pad_template,
                                                       const CodecChoice& choice,
                                                       std::string* error) {
  auto branch = std::make_shared<EgressBranch>();
  branch->choice = choice;
  branch->base_pt = base_pt_;
  GstElement* queue = make("queue", error);
  if (!queue) return nullptr;
  branch->queue = ElementRef::adopt(queue);
  branch->sink = ElementRef::ref(sink);
  g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
               kBranchQueueTime, nullptr);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  gst_bin_add_many(GST_BIN(pipeline_.get()), queue, sink, nullptr);
  branch->sink_pad = PadRef::adopt(gst_element_request_pad_simple(sink, sink_pad_template));
  PadRef queue_src = PadRef::adopt(gst_element_get_static_pad(queue, "src"));
  PadRef queue_sink = PadRef::adopt(gst_element_get_static_pad(queue, "sink"));
  if (!branch->sink_pad ||
      gst_pad_link(queue_src.get(), branch->sink_pad.get()) != GST_PAD_LINK_OK) {
    *error = "could not link a viewer to the stream's pipeline";
    gst_bin_remove_many(GST_BIN(pipeline_.get()), queue, sink, nullptr);
    return nullptr;
  }
  branch->rewrite_probe = gst_pad_add_probe(
      queue_src.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      branch_rewrite_probe, new std::shared_ptr<EgressBranch>(branch), free_shared<EgressBranch>);
  branch->gate_probe = gst_pad_add_probe(
      queue_sink.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      branch_gate_probe, new std::shared_ptr<EgressBranch>(branch), free_shared<EgressBranch>);
  gst_element_sync_state_with_parent(sink);
  gst_element_sync_state_with_parent(queue);
  branch->tee_pad = PadRef::adopt(gst_element_request_pad_simple(tee_.get(), "src_%u"));
  if (gst_pad_link(branch->tee_pad.get(), queue_sink.get()) != GST_PAD_LINK_OK) {
    *error = "could not link a viewer to the stream's tee";
    return nullptr;
  }
  {
    // Caps reach the viewer's webrtcbin now, even if the stream is idle.
    TeeStreamLock stream_lock(tee_.get());
    std::vector<EventPtr> sticky;
    gst_pad_sticky_events_foreach(
        branch->tee_pad.get(),
        [](GstPad*, GstEvent** event, gpointer user) -> gboolean {
          static_cast<std::vector<EventPtr>*>(user)->emplace_back(gst_event_ref(*event));
          return TRUE;
        },
        &sticky);
    for (auto& e : sticky) gst_pad_push_event(branch->tee_pad.get(), e.release());
  }
  branches_.push_back(branch);
  return branch;
}

void StreamEgress::go_live(const std::shared_ptr<EgressBranch>& branch) {
  TeeStreamLock stream_lock(tee_.get());
  std::vector<BufferPtr> replay;
  {
    std::lock_guard lock(shared_->mutex);
    if (branch->live) return;
    if (!shared_->cache_valid || shared_->cache.empty()) {
      shared_->waiting.push_back(branch);  // opened at the next keyframe
      return;
    }
    for (const auto& b : shared_->cache) replay.emplace_back(gst_buffer_ref(b.get()));
  }
  branch->live = true;
  GST_DEBUG("viewer goes live with %zu cached packets", replay.size());
  guint32 live_rtp_ts = 0;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map(replay.back().get(), GST_MAP_READ, &rtp)) {
    live_rtp_ts = gst_rtp_buffer_get_timestamp(&rtp);
    gst_rtp_buffer_unmap(&rtp);
  }
  GstClockTime live_pts = GST_BUFFER_PTS(replay.back().get());
  for (const auto& b : replay) {
    GstBuffer* packet = fast_forwarded(b.get(), live_rtp_ts, live_pts);
    if (gst_pad_push(branch->tee_pad.get(), packet) != GST_FLOW_OK) break;
  }
}

void StreamEgress::remove_branch(const std::shared_ptr<EgressBranch>& branch) {
  std::erase(branches_, branch);
  {
    std::lock_guard lock(shared_->mutex);
    std::erase(shared_->waiting, branch);
  }
  struct Removal {
    std::shared_ptr<EgressBranch> branch;
    ElementRef pipeline;
    ElementRef tee;
    GMainContext* ctx;
  };
  auto* removal = new Removal{branch, pipeline_, tee_, ctx_};
  gst_pad_add_probe(
      branch->tee_pad.get(), GST_PAD_PROBE_TYPE_IDLE,
      [](GstPad* pad, GstPadProbeInfo*, gpointer data) -> GstPadProbeReturn {
        auto* r = static_cast<Removal*>(data);
        if (GstPad* peer = gst_pad_get_peer(pad)) {
          gst_pad_unlink(pad, peer);
          gst_object_unref(peer);
        }
        post_to_context(r->ctx, [b = r->branch, pipeline = r->pipeline, tee = r->tee]() {
          gst_element_release_request_pad(tee.get(), b->tee_pad.get());
          gst_element_set_state(b->sink.get(), GST_STATE_NULL);
          gst_element_set_state(b->queue.get(), GST_STATE_NULL);
          gst_bin_remove_many(GST_BIN(pipeline.get()), b->sink.get(), b->queue.get(), nullptr);
          b->detach_probes();
        });
        return GST_PAD_PROBE_REMOVE;
      },
      removal, [](gpointer data) { delete static_cast<Removal*>(data); });
}

}  // namespace relais::webrtc
