// A real redis-server on a free loopback port in a temporary directory.
#pragma once

#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace relais::test {

class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer() { stop(); }
  // Starts redis-server (on the same port as before when restarting).
  // Data is saved to the temp dir on stop, so a restart keeps what was written.
  bool start(std::string* error = nullptr);
  void stop();
  int port() const { return port_; }
  int pid() const { return process_.pid(); }
  std::string uri() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // Runs redis-cli against this server and returns its output (trimmed).
  std::string cli(const std::string& args) const;
  // The value of `field` in every entry of the Redis Stream `key`, oldest
  // first ("-" for an entry without it).
  std::vector<std::string> stream_field(const std::string& key, const std::string& field) const;

 private:
  TempDir dir_;
  Process process_;
  int port_ = 0;
};

}  // namespace relais::test
