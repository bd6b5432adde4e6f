// A TCP forwarder on a free loopback port to 127.0.0.1:upstream, so a test
// can cut one process off from Redis: stop() closes the listening socket and
// every forwarded connection (new ones are refused from then on).
#pragma once

#include <mutex>
#include <thread>
#include <vector>

namespace relais::test {

class TcpProxy {
 public:
  explicit TcpProxy(int upstream_port) : upstream_port_(upstream_port) {}
  ~TcpProxy() { stop(); }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Listens on a free port, or on the port of the previous start.
  bool start();
  void stop();
  int port() const { return port_; }

 private:
  void accept_loop();
  void pump(int from, int to);

  const int upstream_port_;
  int port_ = 0;
  int listener_ = -1;
  std::mutex mutex_;
  bool stopped_ = false;              // guarded by mutex_
  std::vector<int> sockets_;          // guarded by mutex_: every forwarded connection's two ends
  std::vector<std::thread> threads_;  // guarded by mutex_
  std::thread acceptor_;
};

}  // namespace relais::test
