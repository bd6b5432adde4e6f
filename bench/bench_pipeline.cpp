#include "bench_pipeline.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cstring>

namespace relais::bench {

std::unique_ptr<Pipeline> Pipeline::launch(const std::string& description, std::string* error) {
  GError* raw = nullptr;
  GstElement* element = gst_parse_launch(description.c_str(), &raw);
  GErrorPtr err(raw);
  if (!element || err) {
    if (element) gst_object_unref(element);
    *error = "cannot build '" + description + "': " + (err ? err->message : "unknown error");
    return nullptr;
  }
  auto p = std::unique_ptr<Pipeline>(new Pipeline(ElementRef::adopt(element)));
  p->description_ = description;
  return p;
}

Pipeline::~Pipeline() {
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

ElementRef Pipeline::element(const char* name) const {
  return ElementRef::adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), name));
}

bool Pipeline::play(std::string* error) {
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    auto bus_error = poll_error();
    *error = "cannot start '" + description_ + "'" + (bus_error ? ": " + *bus_error : "");
    return false;
  }
  return true;
}

static std::string error_text(GstMessage* msg) {
  GError* raw = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &raw, &debug);
  GErrorPtr err(raw);
  GCharPtr dbg(debug);
  std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + err->message;
  if (debug) text += std::string(" (") + debug + ")";
  return text;
}

bool Pipeline::wait_eos(std::chrono::milliseconds timeout, std::string* error) {
  BusRef bus = BusRef::adopt(gst_element_get_bus(pipeline_.get()));
  MessagePtr msg(gst_bus_timed_pop_filtered(
      bus.get(), static_cast<GstClockTime>(timeout.count()) * GST_MSECOND,
      static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  if (!msg) {
    *error = "timed out waiting for the end of '" + description_ + "'";
    return false;
  }
  if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
    *error = error_text(msg.get());
    return false;
  }
  return true;
}

std::optional<std::string> Pipeline::poll_error() {
  BusRef bus = BusRef::adopt(gst_element_get_bus(pipeline_.get()));
  MessagePtr msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
  if (!msg) return std::nullopt;
  return error_text(msg.get());
}

BufferCounter::~BufferCounter() {
  for (auto& p : probes_) gst_pad_remove_probe(p.pad.get(), p.id);
}

void BufferCounter::attach(GstPad* pad) {
  slots_.push_back(std::make_unique<Slot>());
  slots_.back()->owner = this;
  gulong id =
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, slots_.back().get(), nullptr);
  probes_.push_back({PadRef::ref(pad), id});
}

GstPadProbeReturn BufferCounter::on_buffer(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* slot = static_cast<Slot*>(data);
  BufferCounter* self = slot->owner;
  if (slot->count.fetch_add(1, std::memory_order_relaxed) + 1 == self->target_) {
    std::lock_guard lock(self->mutex_);
    if (++self->done_ == self->slots_.size()) self->all_done_.notify_all();
  }
  return GST_PAD_PROBE_OK;
}

bool BufferCounter::wait_all(std::chrono::milliseconds slice) {
  std::unique_lock lock(mutex_);
  return all_done_.wait_for(lock, slice, [this] { return done_ == slots_.size(); });
}

uint64_t BufferCounter::min_count() const {
  uint64_t lowest = UINT64_MAX;
  for (const auto& s : slots_) lowest = std::min(lowest, s->count.load());
  return slots_.empty() ? 0 : lowest;
}

Payload::Payload(size_t size, std::string label) : size_(size), label_(std::move(label)) {
  auto* data = static_cast<guint8*>(g_malloc(size));
  // "abc...z" repeated: the first 26 bytes, then doubling copies of them.
  constexpr size_t kPeriod = 26;
  for (size_t i = 0; i < std::min(size, kPeriod); ++i) data[i] = static_cast<guint8>('a' + i);
  for (size_t done = kPeriod; done < size; done *= 2)
    std::memcpy(data + done, data, std::min(done, size - done));
  GBytes* bytes = g_bytes_new_take(data, size);
  keyframe_.reset(gst_buffer_new_wrapped_bytes(bytes));
  delta_.reset(gst_buffer_new_wrapped_bytes(bytes));
  g_bytes_unref(bytes);
  GST_BUFFER_FLAG_SET(delta_.get(), GST_BUFFER_FLAG_DELTA_UNIT);
}

GstBuffer* Payload::frame(uint64_t i) const {
  return gst_buffer_ref(i % kGop == 0 ? keyframe_.get() : delta_.get());
}

bool Payload::write_to(const std::string& path) const {
  MappedBuffer map(keyframe_.get(), GST_MAP_READ);
  return map.ok() && g_file_set_contents(path.c_str(), reinterpret_cast<const gchar*>(map.data()),
                                         static_cast<gssize>(map.size()), nullptr);
}

bool push_frames(GstAppSrc* src, const Payload& payload, uint64_t frames, std::string* error) {
  for (uint64_t i = 0; i < frames; ++i) {
    if (gst_app_src_push_buffer(src, payload.frame(i)) != GST_FLOW_OK) {
      *error = "appsrc refused frame " + std::to_string(i);
      return false;
    }
  }
  gst_app_src_end_of_stream(src);
  return true;
}

}  // namespace relais::bench
