// relais-server: pipelines from configuration, HTTP API, metrics.
#include <glib-unix.h>
#include <gst/gst.h>

#include <cstdio>
#include <string>
#include <vector>

#include "glib_handles.h"
#include "modules.h"
#include "server_app.h"
#include "server_config.h"
#include "server_log.h"

using namespace relais::server;

namespace {

struct Shutdown {
  GMainLoop* loop;
  ServerApp* app;
  bool requested = false;
};

// The first SIGINT/SIGTERM stops the pipelines gracefully (recordings are
// finalised) and then quits; a second one quits at once.
gboolean on_quit_signal(gpointer data) {
  auto* shutdown = static_cast<Shutdown*>(data);
  if (shutdown->requested) {
    log_warn("second signal: stopping now, without waiting for pipelines to drain");
    g_main_loop_quit(shutdown->loop);
    return G_SOURCE_CONTINUE;
  }
  shutdown->requested = true;
  log_info("shutting down: stopping pipelines (a second signal stops at once)");
  GMainLoop* loop = shutdown->loop;
  shutdown->app->stop_pipelines([loop] { g_main_loop_quit(loop); });
  return G_SOURCE_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  Config config;
  std::string message;
  switch (load_config(process_environment(), args, &config, &message)) {
    case ConfigOutcome::kExit:
      std::fputs(message.c_str(), stdout);
      return 0;
    case ConfigOutcome::kError:
      std::fprintf(stderr, "relais-server: %s\n", message.c_str());
      return 2;
    case ConfigOutcome::kRun:
      break;
  }
  // Before gst_init and before any pipeline: the store elements read these.
  export_storage_environment(config);
  gst_init(nullptr, nullptr);
  install_logging(config.log_level);

  int status = 0;
  bool abandoned = false;
  {
    relais::GMainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
    ServerApp app(config, nullptr);
    ModuleHandles modules;
    std::string error;
    if (!register_modules(&app, config, &modules, &error) || !app.listen(&error) ||
        !app.join_cluster(&error) || !app.load_pipelines(&error)) {
      log_error("%s", error.c_str());
      status = 1;
    } else {
      Shutdown shutdown{loop.get(), &app};
      guint sigint = g_unix_signal_add(SIGINT, on_quit_signal, &shutdown);
      guint sigterm = g_unix_signal_add(SIGTERM, on_quit_signal, &shutdown);
      g_main_loop_run(loop.get());
      g_source_remove(sigint);
      g_source_remove(sigterm);
    }
    app.shutdown();  // HTTP closed, pipelines stopped
    abandoned = app.pipelines()->abandoned_any();
    modules.clear();
  }
  // A thread stuck in a hung pipeline may still use GStreamer.
  if (!abandoned) gst_deinit();
  return status;
}
