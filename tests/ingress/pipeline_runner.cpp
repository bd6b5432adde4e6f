#include "pipeline_runner.h"

namespace relais::test {

PipelineRunner::PipelineRunner(const std::string& description) {
  GError* error = nullptr;
  GstElement* p = gst_parse_launch(description.c_str(), &error);
  if (error) {
    g_printerr("cannot build '%s': %s\n", description.c_str(), error->message);
    g_error_free(error);
    if (p) gst_object_unref(p);
    return;
  }
  pipeline_ = GST_ELEMENT(gst_object_ref_sink(p));
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
  if (sink) sink_ = GST_APP_SINK(sink);
  BusRef bus = BusRef::adopt(gst_element_get_bus(pipeline_));
  gst_bus_set_sync_handler(bus.get(), on_message, this, nullptr);
}

PipelineRunner::~PipelineRunner() {
  if (!pipeline_) return;
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  BusRef bus = BusRef::adopt(gst_element_get_bus(pipeline_));
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
  if (sink_) gst_object_unref(sink_);
  gst_object_unref(pipeline_);
}

GstBusSyncReply PipelineRunner::on_message(GstBus*, GstMessage* message, gpointer data) {
  auto* self = static_cast<PipelineRunner*>(data);
  {
    std::lock_guard lock(self->mutex_);
    self->messages_.emplace_back(gst_message_ref(message));
  }
  self->changed_.notify_all();
  return GST_BUS_DROP;
}

GstStateChangeReturn PipelineRunner::play() {
  return gst_element_set_state(pipeline_, GST_STATE_PLAYING);
}

SamplePtr PipelineRunner::pull(std::chrono::milliseconds timeout) {
  return SamplePtr(gst_app_sink_try_pull_sample(sink_, timeout.count() * GST_MSECOND));
}

bool PipelineRunner::sink_eos() {
  return gst_app_sink_is_eos(sink_);
}

bool PipelineRunner::wait_for(const std::function<bool(GstMessage*)>& pred,
                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  size_t checked = 0;
  return changed_.wait_for(lock, timeout, [&] {
    for (; checked < messages_.size(); ++checked) {
      if (pred(messages_[checked].get())) return true;
    }
    return false;
  });
}

bool PipelineRunner::wait_for_error(std::chrono::milliseconds timeout, std::string* text,
                                    std::string* source) {
  GstMessage* found = nullptr;
  bool ok = wait_for(
      [&](GstMessage* m) {
        if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ERROR) return false;
        found = m;
        return true;
      },
      timeout);
  if (ok) {
    GError* err = nullptr;
    gst_message_parse_error(found, &err, nullptr);
    if (text) *text = err->message;
    if (source) *source = GST_OBJECT_NAME(GST_MESSAGE_SRC(found));
    g_error_free(err);
  }
  return ok;
}

bool PipelineRunner::wait_for_eos(std::chrono::milliseconds timeout) {
  return wait_for([](GstMessage* m) { return GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS; }, timeout);
}

bool PipelineRunner::wait_for_source_status(const std::string& status,
                                            std::chrono::milliseconds timeout) {
  return wait_for(
      [&](GstMessage* m) {
        const GstStructure* s = gst_message_get_structure(m);
        return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT &&
               gst_structure_has_name(s, "relais-source") &&
               g_strcmp0(gst_structure_get_string(s, "status"), status.c_str()) == 0;
      },
      timeout);
}

int PipelineRunner::count(GstMessageType type) {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (auto& m : messages_) n += GST_MESSAGE_TYPE(m.get()) == type;
  return n;
}

std::vector<GstStructure*> PipelineRunner::source_status(const std::string& status) {
  std::lock_guard lock(mutex_);
  std::vector<GstStructure*> out;
  for (auto& m : messages_) {
    if (GST_MESSAGE_TYPE(m.get()) != GST_MESSAGE_ELEMENT) continue;
    auto* s = const_cast<GstStructure*>(gst_message_get_structure(m.get()));
    if (!gst_structure_has_name(s, "relais-source")) continue;
    const gchar* st = gst_structure_get_string(s, "status");
    if (st && status == st) out.push_back(s);
  }
  return out;
}

std::string PipelineRunner::first_error_text() {
  std::lock_guard lock(mutex_);
  for (auto& m : messages_) {
    if (GST_MESSAGE_TYPE(m.get()) != GST_MESSAGE_ERROR) continue;
    GError* err = nullptr;
    gst_message_parse_error(m.get(), &err, nullptr);
    std::string text = err->message;
    g_error_free(err);
    return text;
  }
  return "";
}

namespace {

std::string message_text(GstMessage* m) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  switch (GST_MESSAGE_TYPE(m)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error(m, &err, &debug);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning(m, &err, &debug);
      break;
    case GST_MESSAGE_INFO:
      gst_message_parse_info(m, &err, &debug);
      break;
    default:
      break;
  }
  std::string text;
  if (err) text = std::string(err->message) + " | " + (debug ? debug : "");
  g_clear_error(&err);
  g_free(debug);
  if (const GstStructure* s = gst_message_get_structure(m)) {
    GCharPtr str(gst_structure_to_string(s));
    text += (text.empty() ? "" : " | ") + std::string(str.get());
  }
  return text;
}

}  // namespace

std::string PipelineRunner::all_text() {
  std::lock_guard lock(mutex_);
  std::string out;
  for (auto& m : messages_) out += message_text(m.get()) + "\n";
  return out;
}

}  // namespace relais::test
