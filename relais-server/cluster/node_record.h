// A node's heartbeat record in Redis: who it is, where clients reach it, and
// its load. Encoding, decoding and liveness only (no sockets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace relais::cluster {

struct NodeRecord {
  std::string id;
  std::string public_url;
  std::string version;
  int64_t started_unix_ms = 0;
  int64_t heartbeat_unix_ms = 0;  // when this record was written (the node's clock)
  int64_t ttl_ms = 0;             // the record expires this long after heartbeat_unix_ms
  int64_t viewers = 0;            // WHEP sessions held
  int64_t pipelines_running = 0;
  double cpu_percent = 0;   // the process's CPU use since the previous heartbeat (100 = one core)
  int64_t max_viewers = 0;  // RELAIS_MAX_VIEWERS: its viewer budget (0 = unlimited)
};

// All node keys share the {relais:nodes} hash tag: one slot, so one SCAN finds
// them all, in a Redis Cluster as well.
std::string node_key(const std::string& id);
std::string node_key_pattern();
// A record lives 3 heartbeats: a node that misses that many drops out.
inline int64_t node_ttl_ms(int64_t heartbeat_ms) {
  return 3 * heartbeat_ms;
}

// "key=value" lines; values with newlines are refused at encode time by
// replacing them with spaces (ids and URLs have none).
std::string encode_node_record(const NodeRecord& r);
// Empty when `text` is not a record (no id, or a number that does not parse).
std::optional<NodeRecord> decode_node_record(const std::string& text);

// Whether the record is still within its TTL at `now_unix_ms` (Redis expiry
// removes it too; this guards against a listing taken just before expiry).
bool is_live(const NodeRecord& r, int64_t now_unix_ms);
// The live records, sorted by id.
std::vector<NodeRecord> live_nodes(std::vector<NodeRecord> records, int64_t now_unix_ms);

// Defaults of RELAIS_NODE_ID (hostname:port) and RELAIS_PUBLIC_URL
// (http://HOST:PORT, the hostname when listening on every address).
std::string default_node_id(const std::string& hostname, int port);
std::string default_public_url(const std::string& listen_host, int port,
                               const std::string& hostname);

}  // namespace relais::cluster
