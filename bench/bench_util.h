// Helpers shared by the bench programs: result lines, timing, child
// processes (redis-server, redis-benchmark) and free loopback ports.
#pragma once

#include <gio/gio.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace relais::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Prints `BENCH <metric> <unit> <relais> <anchor_label> <anchor> <higher_is_better>`.
void print_result(const std::string& metric, const std::string& unit, double relais,
                  const std::string& anchor_label, double anchor, bool higher_is_better = true);

// A loopback TCP port nobody listens on right now.
int free_loopback_port();
// Waits until something accepts connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

// Runs a program to completion, stdin from `stdin_path` (empty: none), and
// returns its stdout; nullopt (with `error` set) when it cannot run or fails.
std::optional<std::string> run_capture(const std::vector<std::string>& argv,
                                       const std::string& stdin_path, std::string* error);

// The last "<number> requests per second" figure in redis-benchmark's output.
std::optional<double> parse_requests_per_second(const std::string& output);

// A scratch directory removed (with its files) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A redis-server of our own on a free loopback port, without persistence;
// stopped on destruction.
class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool start(std::string* error);
  void stop();
  int port() const { return port_; }
  std::string uri() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // Runs redis-cli against this server; false when it fails.
  bool cli(const std::vector<std::string>& args, std::string* error);

 private:
  TempDir dir_;
  int port_ = 0;
  GSubprocess* process_ = nullptr;  // owned
};

}  // namespace relais::bench
