#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace relais::test {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

bool TcpProxy::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = false;
  }
  listener_ = socket(AF_INET, SOCK_STREAM, 0);
  // Started again: the same port, as a network link that comes back.
  sockaddr_in a = loopback(port_);
  int reuse = 1;
  if (listener_ >= 0) setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  socklen_t len = sizeof a;
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(listener_, 16) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return false;
  }
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
  return true;
}

void TcpProxy::accept_loop() {
  for (;;) {
    int client = accept(listener_, nullptr, nullptr);
    if (client < 0) return;  // stop() shut the listener down
    int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(upstream_port_);
    if (upstream < 0 || connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(client);
      if (upstream >= 0) close(upstream);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) {
      close(client);
      close(upstream);
      return;
    }
    sockets_.insert(sockets_.end(), {client, upstream});
    threads_.emplace_back([this, client, upstream] { pump(client, upstream); });
    threads_.emplace_back([this, client, upstream] { pump(upstream, client); });
  }
}

void TcpProxy::pump(int from, int to) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) {
        shutdown(from, SHUT_RDWR);
        return;
      }
      off += w;
    }
  }
  shutdown(to, SHUT_RDWR);
}

void TcpProxy::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (int s : sockets_) shutdown(s, SHUT_RDWR);
    threads.swap(threads_);
  }
  if (listener_ >= 0) shutdown(listener_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : threads) t.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (int s : sockets_) close(s);
  sockets_.clear();
  if (listener_ >= 0) close(listener_);
  listener_ = -1;
}

}  // namespace relais::test
