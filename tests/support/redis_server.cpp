#include "redis_server.h"

#include <glib.h>

namespace relais::test {

bool RedisServer::start(std::string* error) {
  if (port_ == 0) port_ = free_loopback_port();
  std::string err;
  bool ok = process_.start(
      {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_.path(),
       "--save", "3600 1", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no"},
      dir_.file("redis.log"), &err);
  if (!ok) {
    if (error) *error = "cannot start redis-server: " + err;
    return false;
  }
  if (!wait_for_port(port_, 10000)) {
    if (error) *error = "redis-server did not listen on port " + std::to_string(port_);
    return false;
  }
  return true;
}

void RedisServer::stop() {
  process_.stop();
}

std::vector<std::string> RedisServer::stream_field(const std::string& key,
                                                   const std::string& field) const {
  std::string out =
      cli("EVAL \"local r = {} for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do "
          "local v = '-' for i = 1, #e[2], 2 do if e[2][i] == ARGV[1] then v = e[2][i + 1] end end "
          "r[#r + 1] = v end return r\" 1 '" +
          key + "' '" + field + "'");
  std::vector<std::string> values;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    values.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return values;
}

std::string RedisServer::cli(const std::string& args) const {
  std::string cmd = "redis-cli -p " + std::to_string(port_) + " " + args;
  gchar* out = nullptr;
  g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, nullptr, nullptr);
  std::string result = out ? out : "";
  g_free(out);
  while (!result.empty() && (result.back() == '\n' || result.back() == '\r')) result.pop_back();
  return result;
}

}  // namespace relais::test
