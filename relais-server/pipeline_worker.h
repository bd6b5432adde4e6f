// Runs a pipeline's state changes (and the EOS that starts a graceful stop)
// on a thread of its own, one job at a time and in order, so a state change
// that blocks or hangs never stalls the server's main context. Each job's
// result is handed back on the context, unless the worker was abandoned or
// destroyed first.
#pragma once

#include <glib.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace relais::server {

class PipelineWorker {
 public:
  explicit PipelineWorker(GMainContext* context);
  // Does not wait: jobs still queued run and end on their own; their results
  // are dropped.
  ~PipelineWorker();
  PipelineWorker(const PipelineWorker&) = delete;
  PipelineWorker& operator=(const PipelineWorker&) = delete;

  // `job` runs on the worker thread; `done` on the context afterwards.
  void run(std::function<void()> job, std::function<void()> done);
  // Waits (blocking) until every job has run or the monotonic deadline (us)
  // passes; true when idle.
  bool wait_idle(gint64 deadline_us);

 private:
  struct Shared;
  struct Job;
  static void execute(gpointer data, gpointer user_data);
  static gboolean deliver(gpointer data);

  GMainContext* context_;
  std::shared_ptr<Shared> shared_;
  GThreadPool* pool_;
};

}  // namespace relais::server
