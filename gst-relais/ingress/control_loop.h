// A thread with its own GMainContext where an element does its control work
// (rebuilding a source, timers) away from streaming threads. Work items run
// in the order they were posted.
#pragma once

#include <glib.h>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace relais::ingress {

class ControlLoop {
 public:
  ControlLoop() = default;
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;
  ~ControlLoop() { stop(); }

  // Starts the thread. Does nothing when already running.
  void start();
  // Stops the thread and waits for it; work not yet run is dropped. Must not
  // be called from the loop's own thread.
  void stop();
  // Queues `fn` to run on the loop thread. Returns false when not running.
  bool post(std::function<void()> fn);
  // Runs `fn` on the loop thread after `delay`. Returns false when not running.
  bool post_delayed(std::chrono::milliseconds delay, std::function<void()> fn);
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  static gboolean drain(gpointer self);
  void run();

  std::mutex mutex_;  // guards context_, loop_, queue_, drain_pending_
  GMainContext* context_ = nullptr;
  GMainLoop* loop_ = nullptr;
  std::deque<std::function<void()>> queue_;
  bool drain_pending_ = false;
  std::thread thread_;  // touched by start()/stop() only (the element's state changes)
  std::thread::id thread_id_;
};

}  // namespace relais::ingress
