#include "wait.h"

#include <glib.h>

namespace relais::test {

std::string server_binary() {
  return std::string(g_getenv("RELAIS_BUILD_DIR")) + "/relais-server/relais-server";
}

bool eventually(const std::function<bool()>& f, int timeout_ms) {
  gint64 end = g_get_monotonic_time() + gint64{timeout_ms} * 1000;
  while (g_get_monotonic_time() < end) {
    if (f()) return true;
    g_usleep(20000);
  }
  return f();
}

bool run_context_until(const std::function<bool()>& done, int timeout_ms) {
  gint64 deadline = g_get_monotonic_time() + gint64{timeout_ms} * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(1000);
  }
  return true;
}

}  // namespace relais::test
