#include "pipeline_worker.h"

namespace relais::server {

// What the thread and the context share; outlives the worker while jobs run.
struct PipelineWorker::Shared {
  std::mutex mutex;
  std::condition_variable idle;
  int pending = 0;    // guarded by mutex
  bool alive = true;  // touched on the context only
};

struct PipelineWorker::Job {
  std::function<void()> job;
  std::function<void()> done;
  std::shared_ptr<Shared> shared;
  GMainContext* context;
};

PipelineWorker::PipelineWorker(GMainContext* context)
    : context_(context ? context : g_main_context_default()),
      shared_(std::make_shared<Shared>()),
      pool_(g_thread_pool_new(execute, nullptr, 1, FALSE, nullptr)) {}

PipelineWorker::~PipelineWorker() {
  shared_->alive = false;
  // Not immediate, no wait: queued jobs (e.g. the NULL of a stuck pipeline)
  // still run, then the pool frees itself.
  g_thread_pool_free(pool_, FALSE, FALSE);
}

void PipelineWorker::run(std::function<void()> job, std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    ++shared_->pending;
  }
  g_thread_pool_push(pool_, new Job{std::move(job), std::move(done), shared_, context_}, nullptr);
}

bool PipelineWorker::wait_idle(gint64 deadline_us) {
  std::unique_lock<std::mutex> lock(shared_->mutex);
  while (shared_->pending > 0) {
    gint64 left = deadline_us - g_get_monotonic_time();
    if (left <= 0) return false;
    shared_->idle.wait_for(lock, std::chrono::microseconds(left));
  }
  return true;
}

void PipelineWorker::execute(gpointer data, gpointer /*user_data*/) {
  auto* job = static_cast<Job*>(data);
  job->job();
  job->job = nullptr;  // drops what it held (a pipeline reference) here
  {
    std::lock_guard<std::mutex> lock(job->shared->mutex);
    --job->shared->pending;
  }
  job->shared->idle.notify_all();
  // Always through a source: never run `done` on this thread.
  GSource* idle = g_idle_source_new();
  g_source_set_callback(idle, deliver, job, nullptr);
  g_source_attach(idle, job->context);
  g_source_unref(idle);
}

gboolean PipelineWorker::deliver(gpointer data) {
  auto* job = static_cast<Job*>(data);
  if (job->shared->alive && job->done) job->done();
  delete job;
  return G_SOURCE_REMOVE;
}

}  // namespace relais::server
