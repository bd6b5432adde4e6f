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
