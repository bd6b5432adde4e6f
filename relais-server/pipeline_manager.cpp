#include "pipeline_manager.h"

#include <utility>

#include "glib_handles.h"
#include "gst_handles.h"
#include "pipeline_worker.h"
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
    case PipelineState::kStopping:
      return "stopping";
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
  uint32_t hangs = 0;
  uint64_t instance = 0;  // counts builds: results of an older pipeline are stale
  // State changes run here; replaced when one hangs. Destroying it drops
  // its results still queued on the context, which point at this entry.
  std::unique_ptr<PipelineWorker> worker;
  int outstanding = 0;     // jobs submitted and not returned
  GSourcePtr hang_timer;   // armed while outstanding > 0
  GSourcePtr drain_timer;  // armed while a stopping pipeline drains
  bool removing = false;
  std::vector<std::function<void()>> removed_callbacks;
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

PipelineManager::PipelineManager(GMainContext* context, BackoffPolicy backoff,
                                 int64_t stop_timeout_ms)
    : context_(context), backoff_(backoff), stop_timeout_ms_(stop_timeout_ms) {}

PipelineManager::~PipelineManager() {
  clear();
}

AddResult PipelineManager::add(const PipelineDefinition& definition, bool keep_unparsable,
                               std::string* error) {
  if (!is_valid_name(definition.name)) {
    *error = "pipeline names are 1-64 characters of a-z, 0-9, _ and -";
    return AddResult::kInvalid;
  }
  if (closing_) {
    *error = "the server is shutting down";
    return AddResult::kShuttingDown;
  }
  if (auto it = entries_.find(definition.name); it != entries_.end()) {
    *error = "a pipeline named '" + definition.name + "' already exists";
    if (it->second->removing) *error += " (it is stopping)";
    return AddResult::kDuplicate;
  }
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->worker = std::make_unique<PipelineWorker>(context_);
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
  const uint64_t instance = ++entry->instance;
  BusRef bus = BusRef::adopt(gst_element_get_bus(entry->pipeline.get()));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(watch,
                        reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(on_bus_message)),
                        entry, nullptr);
  g_source_attach(watch, context_);
  entry->bus_watch.reset(watch);

  auto result = std::make_shared<GstStateChangeReturn>(GST_STATE_CHANGE_SUCCESS);
  ElementRef pipeline = entry->pipeline;
  submit(
      entry,
      [pipeline, result] { *result = gst_element_set_state(pipeline.get(), GST_STATE_PLAYING); },
      [this, entry, bus, instance, result] {
        // Stale: a newer build, a stop, or the bus already reported the error.
        if (entry->instance != instance || entry->state != PipelineState::kStarting) return;
        if (*result != GST_STATE_CHANGE_FAILURE) return;
        // The reason is normally an error message already on the bus.
        std::string reason = "the pipeline could not be started";
        MessagePtr msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
        if (msg) reason = describe_error(msg.get());
        on_failure(entry, reason, true);
      });
}

void PipelineManager::arm_hang_timer(Entry* entry) {
  GSource* timer = g_timeout_source_new(static_cast<guint>(stop_timeout_ms_));
  g_source_set_callback(timer, on_hang_timeout, entry, nullptr);
  g_source_attach(timer, context_);
  entry->hang_timer.reset(timer);
}

void PipelineManager::submit(Entry* entry, std::function<void()> job, std::function<void()> then) {
  if (entry->outstanding++ == 0) arm_hang_timer(entry);
  entry->worker->run(std::move(job), [this, entry, then = std::move(then)] {
    // Progress: the watchdog restarts for whatever is still queued.
    entry->hang_timer.reset();
    if (--entry->outstanding > 0) arm_hang_timer(entry);
    if (then) then();
  });
}

gboolean PipelineManager::on_hang_timeout(gpointer user_data) {
  auto* entry = static_cast<Entry*>(user_data);
  entry->owner->on_hung(entry);  // may destroy the entry (and this source: GLib holds a ref)
  return G_SOURCE_REMOVE;
}

void PipelineManager::on_hung(Entry* entry) {
  ++entry->hangs;
  ++abandoned_;
  std::string reason = "the pipeline hung for " + std::to_string(stop_timeout_ms_) +
                       " ms in a state change; abandoned it";
  log_error("pipeline %s: %s", entry->definition.name.c_str(), reason.c_str());
  entry->hang_timer.reset();
  entry->drain_timer.reset();
  entry->bus_watch.reset();
  entry->outstanding = 0;
  // The stuck thread keeps its own reference; once it returns, the old worker
  // takes the pipeline to NULL and ends (its results are dropped).
  if (entry->pipeline) {
    ElementRef stuck = std::move(entry->pipeline);
    entry->worker->run([stuck] { gst_element_set_state(stuck.get(), GST_STATE_NULL); }, {});
  }
  entry->worker = std::make_unique<PipelineWorker>(context_);
  if (entry->removing) {
    entry->last_error = reason;
    forget(entry);
    return;
  }
  on_failure(entry, reason, true);
}

void PipelineManager::teardown(Entry* entry) {
  entry->bus_watch.reset();
  if (entry->pipeline) {
    // On the worker, before any later start of a new build.
    ElementRef old = std::move(entry->pipeline);
    submit(entry, [old] { gst_element_set_state(old.get(), GST_STATE_NULL); }, {});
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
  if (entry->state == PipelineState::kStopping) {
    // Draining: EOS (or an error on the way) ends the drain.
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
      entry->last_error = describe_error(message);
      log_warn("pipeline %s: while stopping: %s", name.c_str(), entry->last_error.c_str());
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
      log_info("pipeline %s: drained", name.c_str());
    } else {
      return G_SOURCE_CONTINUE;
    }
    self->finish_stop(entry);
    return G_SOURCE_REMOVE;
  }
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
      if (entry->removing) break;
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

bool PipelineManager::remove(const std::string& name, std::function<void()> removed,
                             StopMode mode) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  Entry* entry = it->second.get();
  if (removed) entry->removed_callbacks.push_back(std::move(removed));
  if (entry->removing) {
    if (mode == StopMode::kNow && entry->drain_timer) finish_stop(entry);  // cut the drain short
    return true;
  }
  entry->removing = true;
  entry->retry_timer.reset();
  const bool drain =
      mode == StopMode::kDrain && entry->state == PipelineState::kPlaying && entry->pipeline;
  entry->state = PipelineState::kStopping;
  entry->playing_since_us = 0;
  if (!drain) {
    finish_stop(entry);
    return true;
  }
  log_info("pipeline %s: stopping (end of stream sent, up to %lld ms to drain)", name.c_str(),
           static_cast<long long>(stop_timeout_ms_));
  ElementRef pipeline = entry->pipeline;
  submit(entry, [pipeline] { gst_element_send_event(pipeline.get(), gst_event_new_eos()); }, {});
  GSource* timer = g_timeout_source_new(static_cast<guint>(stop_timeout_ms_));
  g_source_set_callback(timer, on_drain_timeout, entry, nullptr);
  g_source_attach(timer, context_);
  entry->drain_timer.reset(timer);
  return true;
}

gboolean PipelineManager::on_drain_timeout(gpointer user_data) {
  auto* entry = static_cast<Entry*>(user_data);
  log_warn("pipeline %s: did not drain within %lld ms; stopping it anyway",
           entry->definition.name.c_str(), static_cast<long long>(entry->owner->stop_timeout_ms_));
  entry->owner->finish_stop(entry);  // replaces drain_timer: GLib holds a ref while it dispatches
  return G_SOURCE_REMOVE;
}

void PipelineManager::finish_stop(Entry* entry) {
  entry->drain_timer.reset();
  teardown(entry);
  // After the NULL queued by teardown (jobs run in order).
  submit(
      entry, [] {}, [this, entry] { forget(entry); });
}

void PipelineManager::forget(Entry* entry) {
  const std::string name = entry->definition.name;
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.get() != entry) return;
  std::unique_ptr<Entry> owned = std::move(it->second);
  entries_.erase(it);
  std::vector<std::function<void()>> callbacks = std::move(owned->removed_callbacks);
  owned.reset();
  log_info("pipeline %s: removed", name.c_str());
  for (auto& cb : callbacks) cb();
}

void PipelineManager::stop_all(std::function<void()> done) {
  closing_ = true;
  auto left = std::make_shared<size_t>(entries_.size());
  auto finished = std::make_shared<std::function<void()>>(std::move(done));
  if (*left == 0) {
    if (*finished) (*finished)();
    return;
  }
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  for (const auto& name : names) {
    remove(name, [left, finished] {
      if (--*left == 0 && *finished) (*finished)();
    });
  }
}

void PipelineManager::clear() {
  for (auto& [name, entry] : entries_) {
    entry->retry_timer.reset();
    entry->drain_timer.reset();
    entry->hang_timer.reset();
    entry->bus_watch.reset();
    if (entry->pipeline) {
      ElementRef pipeline = std::move(entry->pipeline);
      entry->worker->run([pipeline] { gst_element_set_state(pipeline.get(), GST_STATE_NULL); }, {});
    }
  }
  const gint64 deadline = g_get_monotonic_time() + stop_timeout_ms_ * 1000;
  for (auto& [name, entry] : entries_) {
    if (!entry->worker->wait_idle(deadline)) {
      ++abandoned_;
      log_error("pipeline %s: did not stop within %lld ms; abandoned it", name.c_str(),
                static_cast<long long>(stop_timeout_ms_));
    }
  }
  auto entries = std::move(entries_);
  entries_.clear();
  for (auto& [name, entry] : entries) {
    std::vector<std::function<void()>> callbacks = std::move(entry->removed_callbacks);
    entry.reset();
    for (auto& cb : callbacks) cb();
  }
}

PipelineStatus PipelineManager::status_of(const Entry& entry) const {
  PipelineStatus s;
  s.definition = entry.definition;
  s.state = entry.state;
  s.restarts = entry.restarts;
  s.last_error = entry.last_error;
  s.store_errors = entry.store_errors;
  s.hangs = entry.hangs;
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
