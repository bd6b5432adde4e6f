#include "pipeline_manager.h"

#include <utility>

#include "glib_handles.h"
#include "gst_handles.h"
#include "server_log.h"

namespace relais::server {

const char* pipeline_state_name(PipelineState state) {
  switch (state) {
    case PipelineState::kStarting:
      return "starting";
    case PipelineState::kPlaying:
      return "playing";
    case PipelineState::kRestarting:
      return "restarting";
    case PipelineState::kFailed:
      return "failed";
    case PipelineState::kStopped:
      return "stopped";
  }
  return "failed";
}

struct PipelineManager::Entry {
  PipelineManager* owner = nullptr;
  PipelineDefinition definition;
  ElementRef pipeline;
  GSourcePtr bus_watch;
  GSourcePtr retry_timer;
  PipelineState state = PipelineState::kStarting;
  gint64 playing_since_us = 0;  // monotonic; 0 when not playing
  gint64 retry_at_us = 0;
  uint32_t restarts = 0;
  uint32_t attempt = 0;  // consecutive failures, for the back-off
  std::string last_error;
  uint64_t store_errors = 0;
};

namespace {

// "could not parse ...": GStreamer's reason plus the missing elements, if any.
std::string parse_failure(GError* err, GstParseContext* ctx) {
  std::string reason = err ? err->message : "unknown error";
  GStrvPtr missing(ctx ? gst_parse_context_get_missing_elements(ctx) : nullptr);
  if (missing && missing.get()[0]) {
    reason += " (missing elements:";
    for (gchar** m = missing.get(); *m; ++m) reason += std::string(" ") + *m;
    reason += ")";
  }
  return "the launch description does not parse: " + reason;
}

std::string describe_error(GstMessage* message) {
  GError* raw = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message, &raw, &debug);
  GErrorPtr err(raw);
  GCharPtr dbg(debug);
  std::string text = GST_MESSAGE_SRC_NAME(message) ? GST_MESSAGE_SRC_NAME(message) : "pipeline";
  text += ": ";
  text += err ? err->message : "error";
  if (dbg) {
    std::string detail = dbg.get();
    if (detail.size() > 400) detail.replace(400, std::string::npos, "...");
    text += " (" + detail + ")";
  }
  return text;
}

// Builds the pipeline; a lone element is put into a pipeline of its own.
ElementRef build(const PipelineDefinition& def, std::string* error) {
  GstParseContext* ctx = gst_parse_context_new();
  GError* raw = nullptr;
  GstElement* element =
      gst_parse_launch_full(def.launch.c_str(), ctx, GST_PARSE_FLAG_FATAL_ERRORS, &raw);
  GErrorPtr err(raw);
  if (err || !element) {
    *error = parse_failure(err.get(), ctx);
    gst_parse_context_free(ctx);
    if (element) gst_object_unref(gst_object_ref_sink(element));
    return {};
  }
  gst_parse_context_free(ctx);
  ElementRef result = ElementRef::adopt(element);
  if (!GST_IS_PIPELINE(element)) {
    ElementRef pipeline = ElementRef::adopt(gst_pipeline_new(nullptr));
    gst_bin_add(GST_BIN(pipeline.get()), GST_ELEMENT(gst_object_ref(element)));
    result = pipeline;
  }
  gst_object_set_name(GST_OBJECT(result.get()), def.name.c_str());
  return result;
}

}  // namespace

PipelineManager::PipelineManager(GMainContext* context, BackoffPolicy backoff)
    : context_(context), backoff_(backoff) {}

PipelineManager::~PipelineManager() {
  clear();
}

AddResult PipelineManager::add(const PipelineDefinition& definition, bool keep_unparsable,
                               std::string* error) {
  if (!is_valid_name(definition.name)) {
    *error = "pipeline names are 1-64 characters of a-z, 0-9, _ and -";
    return AddResult::kInvalid;
  }
  if (entries_.count(definition.name)) {
    *error = "a pipeline named '" + definition.name + "' already exists";
    return AddResult::kDuplicate;
  }
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->definition = definition;
  ElementRef pipeline = build(definition, error);
  if (!pipeline) {
    if (!keep_unparsable) return AddResult::kInvalid;
    entry->state = PipelineState::kFailed;
    entry->last_error = *error;
    log_warn("pipeline %s: %s", definition.name.c_str(), error->c_str());
    entries_[definition.name] = std::move(entry);
    return AddResult::kInvalid;
  }
  Entry* raw = entry.get();
  entries_[definition.name] = std::move(entry);
  raw->pipeline = std::move(pipeline);
  log_info("pipeline %s: starting (restart %s)", definition.name.c_str(),
           restart_policy_name(definition.restart));
  start(raw);
  return AddResult::kAdded;
}

void PipelineManager::start(Entry* entry) {
  entry->retry_timer.reset();
  entry->state = PipelineState::kStarting;
  entry->playing_since_us = 0;
  if (!entry->pipeline) {
    std::string error;
    entry->pipeline = build(entry->definition, &error);
    if (!entry->pipeline) {
      on_failure(entry, error, true);
      return;
    }
  }
  BusRef bus = BusRef::adopt(gst_element_get_bus(entry->pipeline.get()));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(watch,
                        reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(on_bus_message)),
                        entry, nullptr);
  g_source_attach(watch, context_);
  entry->bus_watch.reset(watch);

  if (gst_element_set_state(entry->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The reason is normally an error message already on the bus.
    std::string reason = "the pipeline could not be started";
    MessagePtr msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    if (msg) reason = describe_error(msg.get());
    on_failure(entry, reason, true);
  }
}

void PipelineManager::teardown(Entry* entry) {
  entry->bus_watch.reset();
  if (entry->pipeline) {
    gst_element_set_state(entry->pipeline.get(), GST_STATE_NULL);
    entry->pipeline.reset();
  }
}

void PipelineManager::on_failure(Entry* entry, const std::string& reason, bool is_error) {
  const std::string& name = entry->definition.name;
  gint64 now = g_get_monotonic_time();
  bool was_stable =
      entry->playing_since_us != 0 &&
      now - entry->playing_since_us >=
          std::chrono::duration_cast<std::chrono::microseconds>(backoff_.stable_after).count();
  entry->last_error = reason;
  teardown(entry);
  entry->playing_since_us = 0;

  RestartPolicy policy = entry->definition.restart;
  bool restart =
      policy == RestartPolicy::kAlways || (policy == RestartPolicy::kOnFailure && is_error);
  if (!restart) {
    entry->state = is_error ? PipelineState::kFailed : PipelineState::kStopped;
    if (is_error) {
      log_error("pipeline %s failed, not restarted (restart %s): %s", name.c_str(),
                restart_policy_name(policy), reason.c_str());
    } else {
      log_info("pipeline %s ended: %s", name.c_str(), reason.c_str());
    }
    return;
  }
  if (was_stable) entry->attempt = 0;
  auto delay = backoff_delay(backoff_, entry->attempt);
  if (entry->attempt < 64) ++entry->attempt;
  entry->state = PipelineState::kRestarting;
  entry->retry_at_us = now + std::chrono::duration_cast<std::chrono::microseconds>(delay).count();
  log_warn("pipeline %s: %s; restarting in %.1f s", name.c_str(), reason.c_str(),
           static_cast<double>(delay.count()) / 1000.0);
  GSource* timer = g_timeout_source_new(static_cast<guint>(delay.count()));
  g_source_set_callback(timer, on_retry, entry, nullptr);
  g_source_attach(timer, context_);
  entry->retry_timer.reset(timer);
}

gboolean PipelineManager::on_retry(gpointer user_data) {
  auto* entry = static_cast<Entry*>(user_data);
  ++entry->restarts;
  log_info("pipeline %s: restart %u", entry->definition.name.c_str(), entry->restarts);
  // start() replaces retry_timer, which destroys this source: fine while it
  // dispatches, GLib holds a reference until we return.
  entry->owner->start(entry);
  return G_SOURCE_REMOVE;
}

gboolean PipelineManager::on_bus_message(GstBus* /*bus*/, GstMessage* message, gpointer user_data) {
  auto* entry = static_cast<Entry*>(user_data);
  PipelineManager* self = entry->owner;
  const std::string& name = entry->definition.name;
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
      self->on_failure(entry, describe_error(message), true);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_EOS:
      self->on_failure(entry, "end of stream", false);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING: {
      GError* raw = nullptr;
      gst_message_parse_warning(message, &raw, nullptr);
      GErrorPtr err(raw);
      log_warn("pipeline %s: %s: %s", name.c_str(), GST_MESSAGE_SRC_NAME(message),
               err ? err->message : "warning");
      break;
    }
    case GST_MESSAGE_STATE_CHANGED: {
      if (GST_MESSAGE_SRC(message) != GST_OBJECT(entry->pipeline.get())) break;
      GstState old_state, new_state;
      gst_message_parse_state_changed(message, &old_state, &new_state, nullptr);
      if (new_state == GST_STATE_PLAYING && entry->state != PipelineState::kPlaying) {
        entry->state = PipelineState::kPlaying;
        entry->playing_since_us = g_get_monotonic_time();
        log_info("pipeline %s: playing", name.c_str());
      } else if (new_state != GST_STATE_PLAYING && entry->state == PipelineState::kPlaying) {
        entry->state = PipelineState::kStarting;
        entry->playing_since_us = 0;
      }
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(message);
      if (s && gst_structure_has_name(s, "relais-store")) {
        const gchar* status = gst_structure_get_string(s, "status");
        if (status && (g_str_equal(status, "disconnected") || g_str_equal(status, "refused")))
          ++entry->store_errors;
        log_info("pipeline %s: %s: store %s", name.c_str(), GST_MESSAGE_SRC_NAME(message),
                 status ? status : "?");
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

bool PipelineManager::remove(const std::string& name_ref) {
  const std::string name = name_ref;  // name_ref may be the key erased below
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  std::unique_ptr<Entry> entry = std::move(it->second);
  entries_.erase(it);
  entry->retry_timer.reset();
  teardown(entry.get());
  log_info("pipeline %s: removed", name.c_str());
  return true;
}

void PipelineManager::clear() {
  while (!entries_.empty()) remove(entries_.begin()->first);
}

PipelineStatus PipelineManager::status_of(const Entry& entry) const {
  PipelineStatus s;
  s.definition = entry.definition;
  s.state = entry.state;
  s.restarts = entry.restarts;
  s.last_error = entry.last_error;
  s.store_errors = entry.store_errors;
  gint64 now = g_get_monotonic_time();
  if (entry.state == PipelineState::kPlaying && entry.playing_since_us) {
    s.uptime_seconds = static_cast<double>(now - entry.playing_since_us) / 1e6;
  }
  if (entry.state == PipelineState::kRestarting && entry.retry_at_us > now) {
    s.next_restart_in = static_cast<double>(entry.retry_at_us - now) / 1e6;
  }
  return s;
}

std::vector<PipelineStatus> PipelineManager::list() const {
  std::vector<PipelineStatus> out;
  for (const auto& [name, entry] : entries_) out.push_back(status_of(*entry));
  return out;
}

std::optional<PipelineStatus> PipelineManager::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return status_of(*it->second);
}

namespace {

void collect(GstElement* element, const std::string& pipeline,
             std::vector<StoreElementStats>* out) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (!factory) return;
  const gchar* fname = gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory));
  bool sink = g_str_equal(fname, "relaisstoresink");
  bool src = g_str_equal(fname, "relaisstoresrc");
  if (!sink && !src) return;
  GstStructure* raw = nullptr;
  gchar* stream = nullptr;
  g_object_get(element, "stats", &raw, "stream", &stream, nullptr);
  StructurePtr stats(raw);
  GCharPtr stream_owned(stream);
  StoreElementStats s;
  s.pipeline = pipeline;
  GCharPtr ename(gst_object_get_name(GST_OBJECT(element)));
  s.element = ename.get();
  s.kind = sink ? "sink" : "src";
  s.stream = stream ? stream : "";
  if (stats) {
    guint64 v = 0;
    if (gst_structure_get_uint64(stats.get(), "frames", &v)) s.frames = v;
    if (gst_structure_get_uint64(stats.get(), "bytes", &v)) s.bytes = v;
    if (gst_structure_get_uint64(stats.get(), sink ? "dropped" : "skipped", &v)) s.dropped = v;
    if (gst_structure_get_uint64(stats.get(), "reconnects", &v)) s.reconnects = v;
  }
  out->push_back(std::move(s));
}

}  // namespace

std::vector<StoreElementStats> PipelineManager::store_stats() const {
  std::vector<StoreElementStats> out;
  for (const auto& [name, entry] : entries_) {
    if (!entry->pipeline || !GST_IS_BIN(entry->pipeline.get())) continue;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(entry->pipeline.get()));
    GValue item = G_VALUE_INIT;
    const size_t first = out.size();
    bool done = false;
    while (!done) {
      switch (gst_iterator_next(it, &item)) {
        case GST_ITERATOR_OK:
          collect(GST_ELEMENT(g_value_get_object(&item)), name, &out);
          g_value_reset(&item);
          break;
        case GST_ITERATOR_RESYNC:
          gst_iterator_resync(it);
          out.resize(first);
          break;
        default:
          done = true;
          break;
      }
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }
  return out;
}

}  // namespace relais::server
