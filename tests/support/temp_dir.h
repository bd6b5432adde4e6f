// A temporary directory, removed with its contents when the handle dies.
#pragma once

#include <string>

namespace relais::test {

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

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

// Waits until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, int timeout_ms);

}  // namespace relais::test
