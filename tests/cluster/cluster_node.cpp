#include "cluster_node.h"

#include <glib.h>

#include "../server/raw_http.h"

namespace relais::test {

bool ClusterNode::start(const TempDir& dir) {
  if (port == 0) port = free_loopback_port();
  std::vector<std::string> argv = {server_binary(),
                                   "--host",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(port),
                                   "--storage-type",
                                   "redis",
                                   "--redis-url",
                                   "127.0.0.1:" + std::to_string(redis_port),
                                   "--node-id",
                                   id,
                                   "--heartbeat-ms",
                                   std::to_string(heartbeat_ms)};
  if (lease_ttl_ms > 0) argv.insert(argv.end(), {"--lease-ttl-ms", std::to_string(lease_ttl_ms)});
  if (!pipelines_file.empty()) argv.insert(argv.end(), {"--pipelines", pipelines_file});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  log_path = dir.file(id + ".log");
  std::string err;
  return process.start(argv, log_path, &err) && wait_for_port(port, 10000);
}

std::string ClusterNode::get(const std::string& path) const {
  return http_request(port, "GET", path).body;
}

std::string ClusterNode::log() const {
  gchar* text = nullptr;
  if (!g_file_get_contents(log_path.c_str(), &text, nullptr, nullptr)) return {};
  std::string out = text;
  g_free(text);
  return out;
}

bool lists_node(const std::string& body, const std::string& id) {
  return body.find("\"id\":\"" + id + "\"") != std::string::npos;
}

}  // namespace relais::test
