#include "node_record.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <sstream>

namespace relais::cluster {
namespace {

std::string one_line(std::string v) {
  std::replace(v.begin(), v.end(), '\n', ' ');
  std::replace(v.begin(), v.end(), '\r', ' ');
  return v;
}

bool parse_int(const std::string& v, int64_t* out) {
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && end == v.data() + v.size();
}

bool parse_double(const std::string& v, double* out) {
  if (v.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(v.c_str(), &end);
  return end == v.c_str() + v.size();
}

}  // namespace

std::string node_key(const std::string& id) {
  return "relais:{relais:nodes}:" + id;
}

std::string node_key_pattern() {
  return "relais:{relais:nodes}:*";
}

std::string encode_node_record(const NodeRecord& r) {
  std::ostringstream o;
  o << "id=" << one_line(r.id) << "\n"
    << "public_url=" << one_line(r.public_url) << "\n"
    << "version=" << one_line(r.version) << "\n"
    << "started_unix_ms=" << r.started_unix_ms << "\n"
    << "heartbeat_unix_ms=" << r.heartbeat_unix_ms << "\n"
    << "ttl_ms=" << r.ttl_ms << "\n"
    << "viewers=" << r.viewers << "\n"
    << "max_viewers=" << r.max_viewers << "\n"
    << "pipelines_running=" << r.pipelines_running << "\n"
    << "cpu_percent=" << r.cpu_percent << "\n";
  return o.str();
}

std::optional<NodeRecord> decode_node_record(const std::string& text) {
  NodeRecord r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), v = line.substr(eq + 1);
    bool ok = true;
    if (key == "id") {
      r.id = v;
    } else if (key == "public_url") {
      r.public_url = v;
    } else if (key == "version") {
      r.version = v;
    } else if (key == "started_unix_ms") {
      ok = parse_int(v, &r.started_unix_ms);
    } else if (key == "heartbeat_unix_ms") {
      ok = parse_int(v, &r.heartbeat_unix_ms);
    } else if (key == "ttl_ms") {
      ok = parse_int(v, &r.ttl_ms);
    } else if (key == "viewers") {
      ok = parse_int(v, &r.viewers);
    } else if (key == "max_viewers") {
      ok = parse_int(v, &r.max_viewers);
    } else if (key == "pipelines_running") {
      ok = parse_int(v, &r.pipelines_running);
    } else if (key == "cpu_percent") {
      ok = parse_double(v, &r.cpu_percent);
    }  // unknown keys: written by a newer version, ignored
    if (!ok) return std::nullopt;
  }
  if (r.id.empty()) return std::nullopt;
  return r;
}

bool is_live(const NodeRecord& r, int64_t now_unix_ms) {
  return r.heartbeat_unix_ms + r.ttl_ms > now_unix_ms;
}

std::vector<NodeRecord> live_nodes(std::vector<NodeRecord> records, int64_t now_unix_ms) {
  std::erase_if(records, [&](const NodeRecord& r) { return !is_live(r, now_unix_ms); });
  std::sort(records.begin(), records.end(),
            [](const NodeRecord& a, const NodeRecord& b) { return a.id < b.id; });
  return records;
}

std::string default_node_id(const std::string& hostname, int port) {
  return hostname + ":" + std::to_string(port);
}

std::string default_public_url(const std::string& listen_host, int port,
                               const std::string& hostname) {
  std::string host = listen_host;
  if (host == "0.0.0.0" || host == "::" || host.empty()) host = hostname;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace relais::cluster
