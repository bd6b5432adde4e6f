// Server configuration: RELAIS_* environment variables, overridden by flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace relais::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct Config {
  std::string host = "0.0.0.0";
  int port = 8080;
  std::string storage_type = "memory";  // "memory" or "redis"
  std::string redis_url = "localhost:6379";
  LogLevel log_level = LogLevel::kInfo;
  std::string pipelines_file;  // empty: none
  std::string api_token;       // empty: admin API only from loopback
  std::string viewer_token;    // empty: viewing is open
  std::string ice_servers;     // comma-separated STUN/TURN URLs
  // Viewers' ICE agents (checked where the WHEP module is built): UDP port range
  // "min-max", interfaces or addresses to gather on, addresses to advertise
  // behind 1:1 NAT (comma-separated), ICE-TCP "on"/"off".
  std::string ice_port_range;
  std::string ice_interfaces;
  std::string ice_public_ips;
  std::string ice_tcp = "on";
  size_t max_body_bytes = 64 * 1024;
  // Cluster (redis storage only): this node's id (empty: hostname:port), the
  // URL clients reach it by (empty: http://HOST:PORT), heartbeat period.
  std::string node_id;
  std::string public_url;
  int64_t heartbeat_ms = 2000;
  // How long a stopping pipeline may drain (EOS) and a state change may take
  // before the pipeline counts as hung.
  int64_t stop_timeout_ms = 10000;
  // Cluster pipeline lease TTL; renewed every third of it.
  int64_t lease_ttl_ms = 6000;
  // WHEP sessions this node takes before it sends viewers to another node
  // (307) or, when none has room, answers 503; 0: unlimited.
  int64_t max_viewers = 0;

  // The frame store URI these settings select ("memory://" or "redis://...").
  std::string store_uri() const;
};

// Looks up an environment variable; empty optional when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

enum class ConfigOutcome {
  kRun,    // *config is ready
  kExit,   // --help or --version: *message is the text to print, exit 0
  kError,  // *message says what is wrong, exit 2
};

// Builds the configuration from the environment, then the command line
// (args[0] is the program name). Flags win over the environment.
ConfigOutcome load_config(const EnvLookup& env, const std::vector<std::string>& args,
                          Config* config, std::string* message);

std::optional<LogLevel> parse_log_level(const std::string& text);
const char* log_level_name(LogLevel level);

// Exports the effective storage settings to this process's environment, so
// the relais store elements in pipelines default to the server's store.
void export_storage_environment(const Config& config);

}  // namespace relais::server
