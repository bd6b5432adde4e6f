#include "main_context.h"

#include <exception>

namespace relais::webrtc {
namespace {

struct Call {
  std::function<void()> fn;
  bool repeat = false;
};

gboolean run_call(gpointer data) {
  auto* call = static_cast<Call*>(data);
  try {
    call->fn();
  } catch (const std::exception& e) {
    g_warning("relais webrtc: callback failed: %s", e.what());
  }
  return call->repeat ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void free_call(gpointer data) {
  delete static_cast<Call*>(data);
}

GSource* attach(GSource* source, GMainContext* ctx, std::function<void()> fn, bool repeat) {
  g_source_set_callback(source, run_call, new Call{std::move(fn), repeat}, free_call);
  g_source_attach(source, ctx);
  return source;
}

}  // namespace

void post_to_context(GMainContext* ctx, std::function<void()> fn) {
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  attach(source, ctx, std::move(fn), false);
  g_source_unref(source);
}

GSourcePtr start_timer(GMainContext* ctx, unsigned ms, std::function<void()> fn) {
  return GSourcePtr(attach(g_timeout_source_new(ms), ctx, std::move(fn), false));
}

GSourcePtr start_interval(GMainContext* ctx, unsigned ms, std::function<void()> fn) {
  return GSourcePtr(attach(g_timeout_source_new(ms), ctx, std::move(fn), true));
}

}  // namespace relais::webrtc
