// Logging for the server: GLib structured logging under the "relais-server"
// domain, filtered by the configured threshold.
#pragma once

#include <glib.h>

#include "server_config.h"

namespace relais::server {

// Sets the threshold for the server's messages and the GStreamer debug
// threshold of the relais* categories. Call once, early in main().
void install_logging(LogLevel level);

void log_debug(const char* format, ...) G_GNUC_PRINTF(1, 2);
void log_info(const char* format, ...) G_GNUC_PRINTF(1, 2);
void log_warn(const char* format, ...) G_GNUC_PRINTF(1, 2);
void log_error(const char* format, ...) G_GNUC_PRINTF(1, 2);

}  // namespace relais::server
