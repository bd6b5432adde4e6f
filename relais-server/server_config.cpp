#include "server_config.h"

#include <glib.h>

#include <charconv>

#include "config.h"  // generated: VERSION
#include "glib_handles.h"

namespace relais::server {
namespace {

bool parse_port(const std::string& text, int* out) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535) {
    return false;
  }
  *out = value;
  return true;
}

bool parse_size(const std::string& text, size_t* out) {
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return false;
  *out = value;
  return true;
}

bool parse_count(const std::string& text, int64_t* out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return false;
  *out = value;
  return true;
}

bool parse_ms(const std::string& text, int64_t* out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 10) return false;
  *out = value;
  return true;
}

bool valid_storage_type(const std::string& t) {
  return t == "memory" || t == "redis";
}

// Applies one setting by its variable name; used for both sources so the
// validation and the messages are the same.
bool apply(Config* c, const std::string& key, const std::string& value, const std::string& source,
           std::string* message) {
  auto bad = [&](const std::string& what) {
    *message = source + ": " + what;
    return false;
  };
  if (key == "RELAIS_SERVER_HOST") {
    if (value.empty()) return bad("the listen address is empty");
    c->host = value;
  } else if (key == "RELAIS_SERVER_PORT") {
    if (!parse_port(value, &c->port)) return bad("'" + value + "' is not a port (1-65535)");
  } else if (key == "RELAIS_STORAGE_TYPE") {
    if (!valid_storage_type(value)) return bad("'" + value + "' is not 'memory' or 'redis'");
    c->storage_type = value;
  } else if (key == "RELAIS_STORAGE_REDIS_URL") {
    if (value.empty()) return bad("the Redis address is empty");
    c->redis_url = value;
  } else if (key == "RELAIS_LOGGING_LEVEL") {
    auto level = parse_log_level(value);
    if (!level) return bad("'" + value + "' is not one of debug, info, warn, error");
    c->log_level = *level;
  } else if (key == "RELAIS_PIPELINES") {
    c->pipelines_file = value;
  } else if (key == "RELAIS_API_TOKEN") {
    c->api_token = value;
  } else if (key == "RELAIS_VIEWER_TOKEN") {
    c->viewer_token = value;
  } else if (key == "RELAIS_ICE_SERVERS") {
    c->ice_servers = value;
  } else if (key == "RELAIS_ICE_PORT_RANGE") {
    c->ice_port_range = value;
  } else if (key == "RELAIS_ICE_INTERFACES") {
    c->ice_interfaces = value;
  } else if (key == "RELAIS_ICE_PUBLIC_IPS") {
    c->ice_public_ips = value;
  } else if (key == "RELAIS_ICE_TCP") {
    c->ice_tcp = value;
  } else if (key == "RELAIS_MAX_BODY_BYTES") {
    if (!parse_size(value, &c->max_body_bytes)) return bad("'" + value + "' is not a byte count");
  } else if (key == "RELAIS_NODE_ID") {
    if (value.empty()) return bad("the node id is empty");
    c->node_id = value;
  } else if (key == "RELAIS_PUBLIC_URL") {
    if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
      return bad("'" + value + "' is not an http:// or https:// URL");
    }
    c->public_url = value;
  } else if (key == "RELAIS_HEARTBEAT_MS") {
    if (!parse_ms(value, &c->heartbeat_ms)) {
      return bad("'" + value + "' is not a period in milliseconds (10 or more)");
    }
  } else if (key == "RELAIS_STOP_TIMEOUT_MS") {
    if (!parse_ms(value, &c->stop_timeout_ms) || c->stop_timeout_ms > 3600000) {
      return bad("'" + value + "' is not a time in milliseconds (10 to 3600000)");
    }
  } else if (key == "RELAIS_MAX_VIEWERS") {
    if (!parse_count(value, &c->max_viewers)) {
      return bad("'" + value + "' is not a number of viewers (0 = unlimited)");
    }
  } else if (key == "RELAIS_LEASE_TTL_MS") {
    if (!parse_ms(value, &c->lease_ttl_ms) || c->lease_ttl_ms < 300) {
      return bad("'" + value + "' is not a lease TTL in milliseconds (300 or more)");
    }
  }
  return true;
}

struct FlagSpec {
  const char* long_name;
  const char* variable;
  const char* arg_description;
  const char* description;
};

constexpr FlagSpec kFlags[] = {
    {"host", "RELAIS_SERVER_HOST", "ADDRESS", "Listen address (IP literal, default 0.0.0.0)"},
    {"port", "RELAIS_SERVER_PORT", "PORT", "Listen port (default 8080)"},
    {"storage-type", "RELAIS_STORAGE_TYPE", "TYPE",
     "Frame store: memory or redis (default memory)"},
    {"redis-url", "RELAIS_STORAGE_REDIS_URL", "HOST:PORT",
     "Redis address for the redis store (default localhost:6379)"},
    {"log-level", "RELAIS_LOGGING_LEVEL", "LEVEL", "debug, info, warn or error (default info)"},
    {"pipelines", "RELAIS_PIPELINES", "FILE", "Pipeline definitions file (JSON)"},
    {"api-token", "RELAIS_API_TOKEN", "TOKEN",
     "Bearer token for the admin API (prefer the variable: flags show in ps)"},
    {"viewer-token", "RELAIS_VIEWER_TOKEN", "TOKEN", "Bearer token WHEP viewers must present"},
    {"ice-servers", "RELAIS_ICE_SERVERS", "URLS", "STUN/TURN URLs, comma-separated"},
    {"ice-port-range", "RELAIS_ICE_PORT_RANGE", "MIN-MAX",
     "UDP ports viewers' ICE may use (default any)"},
    {"ice-interfaces", "RELAIS_ICE_INTERFACES", "LIST",
     "Interfaces or addresses to gather candidates on, comma-separated, lo allowed (default all "
     "but loopback)"},
    {"ice-public-ips", "RELAIS_ICE_PUBLIC_IPS", "LIST",
     "Addresses to advertise as host candidates behind 1:1 NAT, comma-separated"},
    {"ice-tcp", "RELAIS_ICE_TCP", "on|off", "ICE-TCP candidates (default on)"},
    {"max-body-bytes", "RELAIS_MAX_BODY_BYTES", "BYTES",
     "Largest accepted request body (default 65536)"},
    {"node-id", "RELAIS_NODE_ID", "ID", "Cluster node id (default hostname:port)"},
    {"public-url", "RELAIS_PUBLIC_URL", "URL",
     "URL clients reach this node by (default http://HOST:PORT)"},
    {"heartbeat-ms", "RELAIS_HEARTBEAT_MS", "MS",
     "Cluster heartbeat period; a node drops out after 3 missed (default 2000)"},
    {"stop-timeout-ms", "RELAIS_STOP_TIMEOUT_MS", "MS",
     "How long a stopping pipeline may drain after EOS, and a state change may take before "
     "the pipeline counts as hung (default 10000)"},
    {"lease-ttl-ms", "RELAIS_LEASE_TTL_MS", "MS",
     "Cluster pipeline lease TTL, renewed every third of it (default 6000)"},
    {"max-viewers", "RELAIS_MAX_VIEWERS", "N",
     "WHEP viewers this node takes; past it a POST is redirected (307) to the least-loaded node "
     "with room, or answered 503 (default 0 = unlimited)"},
};
constexpr size_t kFlagCount = sizeof(kFlags) / sizeof(kFlags[0]);

}  // namespace

std::string Config::store_uri() const {
  if (storage_type != "redis") return "memory://";
  if (redis_url.find("://") != std::string::npos) return redis_url;
  return "redis://" + redis_url;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = g_getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::optional<LogLevel> parse_log_level(const std::string& text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

ConfigOutcome load_config(const EnvLookup& env, const std::vector<std::string>& args,
                          Config* config, std::string* message) {
  Config c;
  for (const auto& flag : kFlags) {
    auto value = env(flag.variable);
    if (!value) continue;
    if (!apply(&c, flag.variable, *value, flag.variable, message)) return ConfigOutcome::kError;
  }

  // Command line, parsed by GOptionContext (it also provides --help).
  gchar* values[kFlagCount] = {};
  gboolean version = FALSE;
  GOptionEntry entries[kFlagCount + 2] = {};
  for (size_t i = 0; i < kFlagCount; ++i) {
    entries[i] = GOptionEntry{kFlags[i].long_name,      0,          0,
                              G_OPTION_ARG_STRING,      &values[i], kFlags[i].description,
                              kFlags[i].arg_description};
  }
  entries[kFlagCount] = GOptionEntry{
      "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", nullptr};

  auto free_values = [&] {
    for (auto*& v : values) {
      g_free(v);
      v = nullptr;
    }
  };

  GOptionContext* ctx = g_option_context_new("- Relais media server");
  g_option_context_set_help_enabled(ctx, FALSE);
  gboolean help = FALSE;
  GOptionEntry help_entry[] = {
      {"help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help and exit", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  g_option_context_add_main_entries(ctx, entries, nullptr);
  g_option_context_add_main_entries(ctx, help_entry, nullptr);
  std::string summary = "Every flag overrides its environment variable:\n";
  for (const auto& flag : kFlags) {
    summary += std::string("  --") + flag.long_name + "  " + flag.variable + "\n";
  }
  g_option_context_set_description(ctx, summary.c_str());

  std::vector<gchar*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(g_strdup(a.c_str()));
  if (argv.empty()) argv.push_back(g_strdup("relais-server"));
  argv.push_back(nullptr);
  gchar** argv_ptr = argv.data();
  // g_option_context_parse rearranges the pointer array; keep the originals to free.
  std::vector<gchar*> owned(argv.begin(), argv.end() - 1);
  int argc = static_cast<int>(owned.size());

  GError* raw_err = nullptr;
  bool parsed = g_option_context_parse(ctx, &argc, &argv_ptr, &raw_err);
  GErrorPtr err(raw_err);
  ConfigOutcome outcome = ConfigOutcome::kRun;
  if (!parsed) {
    *message = std::string(err->message) + " (see --help)";
    outcome = ConfigOutcome::kError;
  } else if (help) {
    GCharPtr text(g_option_context_get_help(ctx, TRUE, nullptr));
    *message = text.get();
    outcome = ConfigOutcome::kExit;
  } else if (version) {
    *message = std::string("relais-server ") + VERSION + "\n";
    outcome = ConfigOutcome::kExit;
  } else if (argc > 1) {
    *message = std::string("unexpected argument '") + argv_ptr[1] + "' (see --help)";
    outcome = ConfigOutcome::kError;
  } else {
    for (size_t i = 0; i < kFlagCount; ++i) {
      if (!values[i]) continue;
      if (!apply(&c, kFlags[i].variable, values[i], std::string("--") + kFlags[i].long_name,
                 message)) {
        outcome = ConfigOutcome::kError;
        break;
      }
    }
  }
  free_values();
  for (gchar* a : owned) g_free(a);
  g_option_context_free(ctx);
  if (outcome == ConfigOutcome::kRun) *config = std::move(c);
  return outcome;
}

void export_storage_environment(const Config& config) {
  g_setenv("RELAIS_STORAGE_TYPE", config.storage_type.c_str(), TRUE);
  g_setenv("RELAIS_STORAGE_REDIS_URL", config.redis_url.c_str(), TRUE);
}

}  // namespace relais::server
