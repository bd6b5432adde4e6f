// Runs blocking work (frame store round trips) on worker threads and gives
// each result to its responder on the main context, so a slow or unreachable
// store never stalls the HTTP server, the pipelines' bus or other modules.
#pragma once

#include <glib.h>

#include <functional>

#include "http_exchange.h"

namespace relais::server {

class BlockingWork {
 public:
  // Results are delivered on `context` (nullptr: the default main context).
  explicit BlockingWork(GMainContext* context, int max_threads = 4);
  // Waits for work already started or queued; its answers stay queued on the
  // context.
  ~BlockingWork();
  BlockingWork(const BlockingWork&) = delete;
  BlockingWork& operator=(const BlockingWork&) = delete;

  // `work` must be thread-safe; `respond` is called on the context.
  void run(std::function<HttpResponse()> work, Responder respond);

 private:
  struct Job;
  static void execute(gpointer data, gpointer user_data);
  static gboolean deliver(gpointer data);

  GMainContext* context_;
  GThreadPool* pool_;
};

}  // namespace relais::server
