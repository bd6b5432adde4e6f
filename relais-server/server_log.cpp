#include "server_log.h"

#include <glib.h>
#include <gst/gst.h>

#include <atomic>
#include <cstdarg>

#include "glib_handles.h"

namespace relais::server {
namespace {

constexpr const char* kDomain = "relais-server";
std::atomic<int> g_threshold{static_cast<int>(LogLevel::kInfo)};

LogLevel level_of(GLogLevelFlags flags) {
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) return LogLevel::kError;
  if (flags & G_LOG_LEVEL_WARNING) return LogLevel::kWarn;
  if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) return LogLevel::kInfo;
  return LogLevel::kDebug;
}

GLogWriterOutput writer(GLogLevelFlags flags, const GLogField* fields, gsize n_fields,
                        gpointer /*user_data*/) {
  // The server's own messages were filtered when emitted; fatal levels always
  // go through, whatever the threshold.
  for (gsize i = 0; i < n_fields; ++i) {
    if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0 &&
        g_str_equal(static_cast<const char*>(fields[i].value), kDomain)) {
      return g_log_writer_standard_streams(flags, fields, n_fields, nullptr);
    }
  }
  if (!(flags & G_LOG_LEVEL_ERROR) &&
      static_cast<int>(level_of(flags)) < g_threshold.load(std::memory_order_relaxed)) {
    return G_LOG_WRITER_HANDLED;
  }
  return g_log_writer_standard_streams(flags, fields, n_fields, nullptr);
}

void emit(LogLevel level, GLogLevelFlags flags, const char* format, va_list args) {
  if (static_cast<int>(level) < g_threshold.load(std::memory_order_relaxed)) return;
  GCharPtr text(g_strdup_vprintf(format, args));
  g_log_structured(kDomain, flags, "MESSAGE", "%s", text.get());
}

GstDebugLevel gst_level(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return GST_LEVEL_DEBUG;
    case LogLevel::kInfo:
      return GST_LEVEL_INFO;
    case LogLevel::kWarn:
      return GST_LEVEL_WARNING;
    case LogLevel::kError:
      return GST_LEVEL_ERROR;
  }
  return GST_LEVEL_INFO;
}

}  // namespace

void install_logging(LogLevel level) {
  g_threshold.store(static_cast<int>(level));
  static bool installed = false;
  if (!installed) {
    g_log_set_writer_func(writer, nullptr, nullptr);
    installed = true;
  }
  // GST_DEBUG, when the user set it, says exactly what they want to see.
  if (!g_getenv("GST_DEBUG")) gst_debug_set_threshold_for_name("relais*", gst_level(level));
}

#define RELAIS_LOG_FN(fn, level, flags) \
  void fn(const char* format, ...) {    \
    va_list args;                       \
    va_start(args, format);             \
    emit(level, flags, format, args);   \
    va_end(args);                       \
  }

RELAIS_LOG_FN(log_debug, LogLevel::kDebug, G_LOG_LEVEL_DEBUG)
RELAIS_LOG_FN(log_info, LogLevel::kInfo, G_LOG_LEVEL_INFO)
RELAIS_LOG_FN(log_warn, LogLevel::kWarn, G_LOG_LEVEL_WARNING)
// Sent as a warning, not G_LOG_LEVEL_CRITICAL: G_DEBUG=fatal-criticals must not
// abort the server because a pipeline failed.
RELAIS_LOG_FN(log_error, LogLevel::kError, G_LOG_LEVEL_WARNING)

#undef RELAIS_LOG_FN

}  // namespace relais::server
