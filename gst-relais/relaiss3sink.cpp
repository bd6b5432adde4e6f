/**
 * SECTION:element-relaiss3sink
 *
 * Uploads the byte stream it receives as one S3 object, to AWS or any
 * S3-compatible service (path-style or virtual-hosted). Objects smaller than
 * `part-size` go up in one PUT; larger ones as a multipart upload whose parts
 * are sent four at a time from worker threads, so the streaming thread only
 * waits when the bounded queue of parts is full. The first 900 parts are
 * `part-size`, then the part size doubles every 900 parts (up to 5 GiB), so
 * any object up to S3's 5 TiB fits in its 10,000 parts. Requests are signed
 * with AWS Signature Version 4 (payload hash included). 5xx answers, stalls
 * (no byte moved for request-timeout) and broken connections are retried with
 * exponential back-off; 4xx answers fail at once; a completion whose answer
 * was lost is confirmed with HEAD. Going to PAUSED while the element waits
 * keeps every byte; it carries on in PLAYING.
 * EOS completes the object before the element posts EOS; an upload that fails
 * or is stopped before EOS is aborted, so an object is either complete or
 * absent.
 *
 * `location` takes the same s3://bucket/key form as `uri`, so the element
 * records segments as consecutive objects under splitmuxsink, either as its
 * `sink` (one element, cycled through NULL per fragment) or from
 * `sink-factory` (splitmuxsink 1.22 honours that only with async-finalize=true).
 * Each READY -> PAUSED -> READY period writes one object.
 *
 * Credentials, region and endpoint default to AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and AWS_ENDPOINT_URL.
 *
 * ## Example launch lines
 * With a local s3rver (AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
 * AWS_ENDPOINT_URL=http://127.0.0.1:4568 in the environment):
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 ! x264enc ! mpegtsmux ! \
 *   relaiss3sink uri=s3://recordings/test.ts
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *   splitmuxsink muxer=mpegtsmux max-size-time=10000000000 sink=relaiss3sink \
 *   location=s3://recordings/rec/%05d.ts
 * ]|
 */
#include "relaiss3sink.h"

#include <memory>
#include <mutex>
#include <string>

#include "elements.h"
#include "gst_handles.h"
#include "s3/s3_uri.h"
#include "s3/upload_worker.h"
#include "s3_sink_settings.h"

GST_DEBUG_CATEGORY(relais_s3_sink_debug);
#define GST_CAT_DEFAULT relais_s3_sink_debug

namespace {

using relais::DEFAULT_FORCE_PATH_STYLE;
using relais::DEFAULT_PART_SIZE;
using relais::DEFAULT_REQUEST_TIMEOUT;
using relais::DEFAULT_RETRY_ATTEMPTS;
using relais::kMaxPartSize;
using relais::kMinPartSize;
using relais::s3::S3Error;
using relais::s3::UploadConfig;
using relais::s3::UploadWorker;

enum {
  PROP_0,
  PROP_URI,
  PROP_LOCATION,
  PROP_BUCKET,
  PROP_KEY,
  PROP_REGION,
  PROP_ENDPOINT_URI,
  PROP_FORCE_PATH_STYLE,
  PROP_ACCESS_KEY,
  PROP_SECRET_ACCESS_KEY,
  PROP_SESSION_TOKEN,
  PROP_PART_SIZE,
  PROP_RETRY_ATTEMPTS,
  PROP_REQUEST_TIMEOUT,
  PROP_CONTENT_TYPE,
  PROP_STATS,
};

struct Private {
  relais::S3SinkSettings settings;  // guarded by the object lock
  bool started = false;             // guarded by the object lock

  std::mutex state_mutex;  // guards the fields below; never held across I/O or waits
  std::shared_ptr<UploadWorker> worker;
  bool interrupted = false;
  relais::s3::UploadStats last_stats;

  // Streaming thread only (between start and stop).
  UploadConfig config;
  std::string caps_content_type;
  bool completed = false;
};

}  // namespace

struct _RelaisS3Sink {
  GstBaseSink parent;
  Private* priv;
};

static void relais_s3_sink_uri_handler_init(gpointer g_iface, gpointer iface_data);

G_DEFINE_TYPE_WITH_CODE(RelaisS3Sink, relais_s3_sink, GST_TYPE_BASE_SINK,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER,
                                              relais_s3_sink_uri_handler_init))
GST_ELEMENT_REGISTER_DEFINE(relaiss3sink, "relaiss3sink", GST_RANK_NONE, RELAIS_TYPE_S3_SINK)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

// Sets bucket and key from an s3:// URI; object lock held.
static bool set_uri_locked(RelaisS3Sink* self, const char* uri, std::string* error) {
  relais::S3SinkSettings& s = self->priv->settings;
  std::string bucket, key, err;
  if (!uri || !*uri) {
    s.bucket.clear();
    s.key.clear();
    s.uri_error.clear();
    return true;
  }
  if (!relais::s3::parse_s3_uri(uri, &bucket, &key, &err)) {
    s.uri_error = err;
    if (error) *error = err;
    return false;
  }
  s.bucket = bucket;
  s.key = key;
  s.uri_error.clear();
  return true;
}

static std::string get_uri_locked(RelaisS3Sink* self) {
  const relais::S3SinkSettings& s = self->priv->settings;
  if (s.bucket.empty() && s.key.empty()) return "";
  return relais::s3::make_s3_uri(s.bucket, s.key);
}

static std::string string_value(const GValue* value) {
  const char* v = g_value_get_string(value);
  return v ? v : "";
}

static void relais_s3_sink_set_property(GObject* object, guint prop_id, const GValue* value,
                                        GParamSpec* pspec) {
  auto* self = RELAIS_S3_SINK(object);
  relais::ObjectLock lock(self);
  relais::S3SinkSettings& s = self->priv->settings;
  if (self->priv->started && prop_id != PROP_STATS) {
    // Values are copied when the element starts; a change now would not apply.
    GST_WARNING_OBJECT(self, "'%s' can only change in the NULL or READY state", pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_URI:
    case PROP_LOCATION: {
      std::string err;
      if (!set_uri_locked(self, g_value_get_string(value), &err))
        GST_WARNING_OBJECT(self, "%s", err.c_str());
      break;
    }
    case PROP_BUCKET:
      s.bucket = string_value(value);
      break;
    case PROP_KEY:
      s.key = string_value(value);
      break;
    case PROP_REGION:
      s.region = string_value(value);
      break;
    case PROP_ENDPOINT_URI:
      s.endpoint = string_value(value);
      break;
    case PROP_FORCE_PATH_STYLE:
      s.force_path_style = g_value_get_boolean(value);
      break;
    case PROP_ACCESS_KEY:
      s.access_key = string_value(value);
      break;
    case PROP_SECRET_ACCESS_KEY:
      s.secret_key = string_value(value);
      break;
    case PROP_SESSION_TOKEN:
      s.session_token = string_value(value);
      break;
    case PROP_PART_SIZE:
      s.part_size = g_value_get_uint64(value);
      break;
    case PROP_RETRY_ATTEMPTS:
      s.retry_attempts = g_value_get_uint(value);
      break;
    case PROP_REQUEST_TIMEOUT:
      s.request_timeout = g_value_get_int64(value);
      break;
    case PROP_CONTENT_TYPE:
      s.content_type = string_value(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static GstStructure* stats_structure(Private* priv) {
  relais::s3::UploadStats st;
  {
    std::lock_guard lock(priv->state_mutex);
    st = priv->worker ? priv->worker->stats() : priv->last_stats;
  }
  return gst_structure_new("relais-s3-stats", "bytes-received", G_TYPE_UINT64, st.bytes_received,
                           "bytes-uploaded", G_TYPE_UINT64, st.bytes_uploaded, "parts", G_TYPE_UINT,
                           st.parts_uploaded, "retries", G_TYPE_UINT, st.retries, nullptr);
}

static const char* nullable(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

static void relais_s3_sink_get_property(GObject* object, guint prop_id, GValue* value,
                                        GParamSpec* pspec) {
  auto* self = RELAIS_S3_SINK(object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed(value, stats_structure(self->priv));
    return;
  }
  relais::ObjectLock lock(self);
  const relais::S3SinkSettings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_URI:
    case PROP_LOCATION: {
      std::string uri = get_uri_locked(self);
      g_value_set_string(value, nullable(uri));
      break;
    }
    case PROP_BUCKET:
      g_value_set_string(value, nullable(s.bucket));
      break;
    case PROP_KEY:
      g_value_set_string(value, nullable(s.key));
      break;
    case PROP_REGION:
      g_value_set_string(value, nullable(s.region));
      break;
    case PROP_ENDPOINT_URI:
      g_value_set_string(value, nullable(s.endpoint));
      break;
    case PROP_FORCE_PATH_STYLE:
      g_value_set_boolean(value, s.force_path_style);
      break;
    case PROP_ACCESS_KEY:
      g_value_set_string(value, nullable(s.access_key));
      break;
    case PROP_SECRET_ACCESS_KEY:
      g_value_set_string(value, nullable(s.secret_key));
      break;
    case PROP_SESSION_TOKEN:
      g_value_set_string(value, nullable(s.session_token));
      break;
    case PROP_PART_SIZE:
      g_value_set_uint64(value, s.part_size);
      break;
    case PROP_RETRY_ATTEMPTS:
      g_value_set_uint(value, s.retry_attempts);
      break;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_int64(value, s.request_timeout);
      break;
    case PROP_CONTENT_TYPE:
      g_value_set_string(value, nullable(s.content_type));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static std::shared_ptr<UploadWorker> current_worker(Private* priv) {
  std::lock_guard lock(priv->state_mutex);
  return priv->worker;
}

// Streaming thread: the worker is created with the first data (or at EOS for
// an empty object), when the caps are known.
static std::shared_ptr<UploadWorker> ensure_worker(RelaisS3Sink* self) {
  Private* priv = self->priv;
  if (auto w = current_worker(priv)) return w;
  UploadConfig config = priv->config;
  if (config.content_type.empty())
    config.content_type =
        priv->caps_content_type.empty() ? "binary/octet-stream" : priv->caps_content_type;
  GstElement* element = GST_ELEMENT(self);
  UploadWorker::Callbacks cb;
  cb.on_error = [element, config](const S3Error& e) {
    relais::post_upload_error(element, config, e);
  };
  cb.on_retry = [element](const S3Error& e, guint attempt, guint delay) {
    GST_WARNING_OBJECT(element, "%s; attempt %u in %u ms", e.describe().c_str(), attempt, delay);
  };
  cb.on_abort_failed = [element, config](const std::string& id, const S3Error& e) {
    GST_ELEMENT_WARNING(element, RESOURCE, WRITE,
                        ("Could not abort the unfinished multipart upload %s of %s: its parts "
                         "remain stored (and billed) until it is aborted (AbortMultipartUpload) "
                         "or a lifecycle rule (AbortIncompleteMultipartUpload) removes it.",
                         id.c_str(), relais::s3_target(config).c_str()),
                        ("%s", e.describe().c_str()));
  };
  cb.on_orphan_unknown = [element, config](const S3Error& e) {
    GST_ELEMENT_WARNING(element, RESOURCE, WRITE,
                        ("CreateMultipartUpload for %s was retried, so an earlier attempt may "
                         "have left an unfinished multipart upload, and S3 would not list the "
                         "uploads to abort it: give the bucket a lifecycle rule "
                         "(AbortIncompleteMultipartUpload).",
                         relais::s3_target(config).c_str()),
                        ("%s", e.describe().c_str()));
  };
  std::string error;
  std::shared_ptr<UploadWorker> w = UploadWorker::start(config, cb, &error);
  if (!w) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", error.c_str()), (nullptr));
    return nullptr;
  }
  GST_INFO_OBJECT(self, "uploading to %s as %s", relais::s3_target(config).c_str(),
                  config.content_type.c_str());
  std::lock_guard lock(priv->state_mutex);
  priv->worker = w;
  if (priv->interrupted) w->interrupt();
  return w;
}

// READY -> PAUSED: settings are copied and checked; each PAUSED period writes
// one object.
static gboolean prepare_object(RelaisS3Sink* self) {
  Private* priv = self->priv;
  relais::S3SinkSettings settings;
  {
    relais::ObjectLock lock(self);
    settings = priv->settings;
    priv->started = true;
  }
  auto fail = [&](const std::string& what) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", what.c_str()), (nullptr));
    relais::ObjectLock lock(self);
    priv->started = false;
    return FALSE;
  };
  if (!settings.uri_error.empty()) return fail(settings.uri_error);
  if (settings.bucket.empty() || settings.key.empty())
    return fail("No object to write: set uri or location to s3://bucket/key, or bucket and key");
  UploadConfig config = relais::resolve_upload_config(settings);
  std::string error;
  // Checks endpoint and credentials now, so a mistake shows before any data.
  if (!relais::s3::S3Client::create(config.client, &error)) return fail(error);
  priv->config = config;
  priv->caps_content_type.clear();
  priv->completed = false;
  GST_DEBUG_OBJECT(self, "ready to write %s", relais::s3_target(config).c_str());
  return TRUE;
}

// PAUSED -> READY, streaming stopped: a completed object stays, anything else
// is cancelled and its multipart upload aborted.
static void finish_object(RelaisS3Sink* self) {
  Private* priv = self->priv;
  std::shared_ptr<UploadWorker> w;
  {
    std::lock_guard lock(priv->state_mutex);
    w = std::move(priv->worker);
    priv->interrupted = false;
  }
  if (w) {
    relais::s3::UploadStats st = w->stats();
    bool written = w->completed();
    bool failed = w->failed();
    w.reset();  // cancels, aborts an unfinished multipart upload, joins
    if (!written && !failed)
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                          ("Stopped before EOS: %s was not written (%" G_GUINT64_FORMAT
                           " bytes dropped). Send EOS before stopping to keep the object.",
                           relais::s3_target(priv->config).c_str(), st.bytes_received),
                          (nullptr));
    std::lock_guard lock(priv->state_mutex);
    priv->last_stats = st;
  }
  relais::ObjectLock lock(self);
  priv->started = false;
}

static GstStateChangeReturn relais_s3_sink_change_state(GstElement* element,
                                                        GstStateChange transition) {
  auto* self = RELAIS_S3_SINK(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !prepare_object(self))
    return GST_STATE_CHANGE_FAILURE;
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(relais_s3_sink_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY ||
      (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret == GST_STATE_CHANGE_FAILURE))
    finish_object(self);
  return ret;
}

static gboolean relais_s3_sink_unlock(GstBaseSink* sink) {
  Private* priv = RELAIS_S3_SINK(sink)->priv;
  std::lock_guard lock(priv->state_mutex);
  priv->interrupted = true;
  if (priv->worker) priv->worker->interrupt();
  return TRUE;
}

static gboolean relais_s3_sink_unlock_stop(GstBaseSink* sink) {
  Private* priv = RELAIS_S3_SINK(sink)->priv;
  std::lock_guard lock(priv->state_mutex);
  priv->interrupted = false;
  if (priv->worker) priv->worker->clear_interrupt();
  return TRUE;
}

static gboolean relais_s3_sink_set_caps(GstBaseSink* sink, GstCaps* caps) {
  auto* self = RELAIS_S3_SINK(sink);
  self->priv->caps_content_type = relais::content_type_for_caps(caps);
  return TRUE;
}

static GstFlowReturn relais_s3_sink_render(GstBaseSink* sink, GstBuffer* buffer) {
  auto* self = RELAIS_S3_SINK(sink);
  std::shared_ptr<UploadWorker> w = ensure_worker(self);
  if (!w) return GST_FLOW_ERROR;
  relais::MappedBuffer map(buffer, GST_MAP_READ);
  if (!map.ok()) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not read an incoming buffer."),
                      ("gst_buffer_map failed"));
    return GST_FLOW_ERROR;
  }
  UploadWorker::Result r = w->write(map.data(), map.size());
  // unlock() interrupted the wait for room (the bytes are kept). Going to
  // PAUSED, wait in preroll until PLAYING and carry on; a flush or READY ends
  // the wait with FLUSHING.
  while (r == UploadWorker::Result::kInterrupted) {
    GstFlowReturn ret = gst_base_sink_wait_preroll(sink);
    if (ret != GST_FLOW_OK) return ret;
    r = w->write(nullptr, 0);
  }
  if (r == UploadWorker::Result::kOk) return GST_FLOW_OK;
  if (self->priv->completed) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED,
                      ("Data after EOS: %s is already complete. Set the element to READY to "
                       "write a new object.",
                       relais::s3_target(self->priv->config).c_str()),
                      (nullptr));
  }
  return GST_FLOW_ERROR;  // the worker posted the error
}

static gboolean relais_s3_sink_event(GstBaseSink* sink, GstEvent* event) {
  auto* self = RELAIS_S3_SINK(sink);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    std::shared_ptr<UploadWorker> w = ensure_worker(self);
    if (!w) {
      gst_event_unref(event);
      return FALSE;
    }
    GST_DEBUG_OBJECT(self, "EOS: completing %s", relais::s3_target(self->priv->config).c_str());
    UploadWorker::Result r = w->finish();
    // As in render() (the preroll lock is held here too): interrupted going
    // to PAUSED, wait until PLAYING and keep waiting for the object.
    while (r == UploadWorker::Result::kInterrupted &&
           gst_base_sink_wait_preroll(sink) == GST_FLOW_OK)
      r = w->finish();
    if (r != UploadWorker::Result::kOk) {
      GST_DEBUG_OBJECT(self, "EOS not forwarded: upload %s",
                       r == UploadWorker::Result::kFailed ? "failed" : "interrupted");
      gst_event_unref(event);
      return FALSE;
    }
    self->priv->completed = true;
    relais::s3::UploadStats st = w->stats();
    GST_INFO_OBJECT(self, "wrote %s: %" G_GUINT64_FORMAT " bytes in %u parts",
                    relais::s3_target(self->priv->config).c_str(), st.bytes_uploaded,
                    st.parts_uploaded);
  }
  return GST_BASE_SINK_CLASS(relais_s3_sink_parent_class)->event(sink, event);
}

static void relais_s3_sink_finalize(GObject* object) {
  delete RELAIS_S3_SINK(object)->priv;
  G_OBJECT_CLASS(relais_s3_sink_parent_class)->finalize(object);
}

static void relais_s3_sink_class_init(RelaisS3SinkClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass* basesink_class = GST_BASE_SINK_CLASS(klass);

  gobject_class->set_property = relais_s3_sink_set_property;
  gobject_class->get_property = relais_s3_sink_get_property;
  gobject_class->finalize = relais_s3_sink_finalize;

  constexpr auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                               GST_PARAM_MUTABLE_READY);
  auto add_string = [&](guint id, const char* name, const char* nick, const char* blurb) {
    g_object_class_install_property(gobject_class, id,
                                    g_param_spec_string(name, nick, blurb, nullptr, rw));
  };
  add_string(PROP_URI, "uri", "URI",
             "Object to write, s3://bucket/key (the key is taken as written, not "
             "percent-decoded). Same as location; sets bucket and key");
  add_string(PROP_LOCATION, "location", "Location",
             "Object to write, s3://bucket/key: the same as uri. splitmuxsink sets it for each "
             "fragment, so location=s3://bucket/rec/%05d.ts gives one object per segment");
  add_string(PROP_BUCKET, "bucket", "Bucket", "Bucket of the object (also set by uri/location)");
  add_string(PROP_KEY, "key", "Key", "Key of the object (also set by uri/location)");
  add_string(PROP_REGION, "region", "Region",
             "Region used in the signature. Unset: AWS_REGION, else AWS_DEFAULT_REGION, else "
             "us-east-1");
  add_string(PROP_ENDPOINT_URI, "endpoint-uri", "Endpoint URI",
             "S3-compatible endpoint, http(s)://host[:port]. Unset: AWS_ENDPOINT_URL_S3, else "
             "AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com");
  g_object_class_install_property(
      gobject_class, PROP_FORCE_PATH_STYLE,
      g_param_spec_boolean("force-path-style", "Force path style",
                           "Address buckets as host/bucket/key instead of bucket.host/key. Path "
                           "style is also used for IP-address and localhost endpoints and for "
                           "bucket names that are not DNS labels",
                           DEFAULT_FORCE_PATH_STYLE, rw));
  add_string(PROP_ACCESS_KEY, "access-key", "Access key",
             "Access key id. Unset (with secret-access-key unset): AWS_ACCESS_KEY_ID");
  add_string(PROP_SECRET_ACCESS_KEY, "secret-access-key", "Secret access key",
             "Secret access key. Unset (with access-key unset): AWS_SECRET_ACCESS_KEY");
  add_string(PROP_SESSION_TOKEN, "session-token", "Session token",
             "Session token of temporary credentials, sent as x-amz-security-token. Unset: "
             "AWS_SESSION_TOKEN when the keys also come from the environment");
  g_object_class_install_property(
      gobject_class, PROP_PART_SIZE,
      g_param_spec_uint64("part-size", "Part size",
                          "Bytes of each of the first 900 multipart-upload parts (S3 needs at "
                          "least 5 MiB); after that the part size doubles every 900 parts (up to "
                          "S3's 5 GiB), so any object up to 5 TiB fits in S3's 10000 parts. "
                          "Objects smaller than one part are sent in a single PUT. Four parts go "
                          "up at once; up to 7 are in memory (4 in flight, 2 queued, 1 filling)",
                          kMinPartSize, kMaxPartSize, DEFAULT_PART_SIZE, rw));
  g_object_class_install_property(
      gobject_class, PROP_RETRY_ATTEMPTS,
      g_param_spec_uint("retry-attempts", "Retry attempts",
                        "Attempts per request before giving up on 5xx answers, timeouts and "
                        "broken connections (exponential back-off in between); 4xx answers are "
                        "not retried",
                        1, 100, DEFAULT_RETRY_ATTEMPTS, rw));
  g_object_class_install_property(
      gobject_class, PROP_REQUEST_TIMEOUT,
      g_param_spec_int64("request-timeout", "Request timeout",
                         "Inactivity limit for each attempt of each request, in ms: an attempt "
                         "fails (and is retried) when no byte has moved for this long, so a slow "
                         "link whose bytes keep moving is never cut off. CompleteMultipartUpload "
                         "may take up to 10 minutes to begin its answer; -1 = no limit",
                         -1, G_MAXINT32, DEFAULT_REQUEST_TIMEOUT, rw));
  add_string(PROP_CONTENT_TYPE, "content-type", "Content type",
             "Content-Type of the object. Unset: from the caps (video/mpegts -> video/MP2T, "
             "video/quicktime -> video/mp4, matroska, webm), else binary/octet-stream");
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "relais-s3-stats: bytes-received, bytes-uploaded, parts, retries (of "
                         "the current object, or the last one after stop)",
                         GST_TYPE_STRUCTURE,
                         static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "Relais S3 sink", "Sink/Network",
      "Uploads the stream as one object to S3 or an S3-compatible service (multipart, SigV4)",
      "Relais authors");

  element_class->change_state = relais_s3_sink_change_state;
  basesink_class->unlock = relais_s3_sink_unlock;
  basesink_class->unlock_stop = relais_s3_sink_unlock_stop;
  basesink_class->set_caps = relais_s3_sink_set_caps;
  basesink_class->render = relais_s3_sink_render;
  basesink_class->event = relais_s3_sink_event;

  GST_DEBUG_CATEGORY_INIT(relais_s3_sink_debug, "relaiss3sink", 0, "Relais S3 sink");
}

static void relais_s3_sink_init(RelaisS3Sink* self) {
  self->priv = new Private();
  // Not synchronised to the clock: bytes go out as fast as they come.
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}

// GstURIHandler: s3://bucket/key

static GstURIType relais_s3_sink_uri_get_type(GType) {
  return GST_URI_SINK;
}

static const gchar* const* relais_s3_sink_uri_get_protocols(GType) {
  static const gchar* protocols[] = {"s3", nullptr};
  return protocols;
}

static gchar* relais_s3_sink_uri_get_uri(GstURIHandler* handler) {
  auto* self = RELAIS_S3_SINK(handler);
  relais::ObjectLock lock(self);
  std::string uri = get_uri_locked(self);
  return uri.empty() ? nullptr : g_strdup(uri.c_str());
}

static gboolean relais_s3_sink_uri_set_uri(GstURIHandler* handler, const gchar* uri,
                                           GError** error) {
  auto* self = RELAIS_S3_SINK(handler);
  relais::ObjectLock lock(self);
  if (self->priv->started) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
                "The URI can only change in the NULL or READY state");
    return FALSE;
  }
  std::string err;
  if (!set_uri_locked(self, uri, &err)) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "%s", err.c_str());
    return FALSE;
  }
  return TRUE;
}

static void relais_s3_sink_uri_handler_init(gpointer g_iface, gpointer) {
  auto* iface = static_cast<GstURIHandlerInterface*>(g_iface);
  iface->get_type = relais_s3_sink_uri_get_type;
  iface->get_protocols = relais_s3_sink_uri_get_protocols;
  iface->get_uri = relais_s3_sink_uri_get_uri;
  iface->set_uri = relais_s3_sink_uri_set_uri;
}
