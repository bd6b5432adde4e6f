#include "blocking_work.h"

#include <exception>

#include "json_handles.h"
#include "server_log.h"

namespace relais::server {

struct BlockingWork::Job {
  std::function<HttpResponse()> work;
  Responder respond;  // touched on the context's thread only
  HttpResponse result;
  GMainContext* context;
};

BlockingWork::BlockingWork(GMainContext* context, int max_threads)
    : context_(context ? context : g_main_context_default()),
      pool_(g_thread_pool_new(execute, nullptr, max_threads, FALSE, nullptr)) {}

BlockingWork::~BlockingWork() {
  g_thread_pool_free(pool_, FALSE, TRUE);
}

void BlockingWork::run(std::function<HttpResponse()> work, Responder respond) {
  auto* job = new Job{std::move(work), std::move(respond), {}, context_};
  g_thread_pool_push(pool_, job, nullptr);
}

void BlockingWork::execute(gpointer data, gpointer /*user_data*/) {
  auto* job = static_cast<Job*>(data);
  try {
    job->result = job->work();
  } catch (const std::exception& e) {
    log_error("request work failed: %s", e.what());
    job->result = HttpResponse{500, "application/json", {}, error_json("internal error")};
  }
  job->work = nullptr;
  // Always through a source: g_main_context_invoke() could run the responder
  // right here when no thread holds the context.
  GSource* idle = g_idle_source_new();
  g_source_set_callback(idle, deliver, job, nullptr);
  g_source_attach(idle, job->context);
  g_source_unref(idle);
}

gboolean BlockingWork::deliver(gpointer data) {
  auto* job = static_cast<Job*>(data);
  job->respond(std::move(job->result));
  delete job;
  return G_SOURCE_REMOVE;
}

}  // namespace relais::server
