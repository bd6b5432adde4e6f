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

gboolean on_quit_signal(gpointer loop) {
  log_info("shutting down");
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
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
      guint sigint = g_unix_signal_add(SIGINT, on_quit_signal, loop.get());
      guint sigterm = g_unix_signal_add(SIGTERM, on_quit_signal, loop.get());
      g_main_loop_run(loop.get());
      g_source_remove(sigint);
      g_source_remove(sigterm);
    }
    app.shutdown();  // HTTP closed, pipelines stopped
    modules.clear();
  }
  gst_deinit();
  return status;
}
