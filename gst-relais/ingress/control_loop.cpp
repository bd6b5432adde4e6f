#include "control_loop.h"

#include <utility>

namespace relais::ingress {

void ControlLoop::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    context_ = g_main_context_new();
    loop_ = g_main_loop_new(context_, FALSE);
  }
  thread_ = std::thread([this] { run(); });
  thread_id_ = thread_.get_id();
}

void ControlLoop::run() {
  GMainContext* context;
  GMainLoop* loop;
  {
    std::lock_guard lock(mutex_);
    context = g_main_context_ref(context_);
    loop = g_main_loop_ref(loop_);
  }
  g_main_context_push_thread_default(context);
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(context);
  g_main_loop_unref(loop);
  g_main_context_unref(context);
}

void ControlLoop::stop() {
  if (!thread_.joinable()) return;
  GMainContext* context;
  GMainLoop* loop;
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    context = std::exchange(context_, nullptr);
    loop = std::exchange(loop_, nullptr);
    dropped.swap(queue_);
    drain_pending_ = false;
  }
  g_main_loop_quit(loop);
  thread_.join();
  thread_id_ = {};
  g_main_loop_unref(loop);
  // Destroying the context frees pending timers (and their functions).
  g_main_context_unref(context);
}

gboolean ControlLoop::drain(gpointer data) {
  auto* self = static_cast<ControlLoop*>(data);
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(self->mutex_);
      if (self->queue_.empty() || !self->context_) {
        self->drain_pending_ = false;
        return G_SOURCE_REMOVE;
      }
      fn = std::move(self->queue_.front());
      self->queue_.pop_front();
    }
    fn();
  }
}

bool ControlLoop::post(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (!context_) return false;
  queue_.push_back(std::move(fn));
  if (!drain_pending_) {
    drain_pending_ = true;
    GSource* source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, drain, this, nullptr);
    g_source_attach(source, context_);
    g_source_unref(source);
  }
  return true;
}

bool ControlLoop::post_delayed(std::chrono::milliseconds delay, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (!context_) return false;
  auto* data = new std::function<void()>(std::move(fn));
  GSource* source = g_timeout_source_new(static_cast<guint>(delay.count()));
  g_source_set_callback(
      source,
      [](gpointer d) -> gboolean {
        (*static_cast<std::function<void()>*>(d))();
        return G_SOURCE_REMOVE;
      },
      data, [](gpointer d) { delete static_cast<std::function<void()>*>(d); });
  g_source_attach(source, context_);
  g_source_unref(source);
  return true;
}

}  // namespace relais::ingress
