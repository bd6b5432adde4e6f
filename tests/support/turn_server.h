// A real TURN server (coturn's turnserver) on a free loopback port, with one
// long-term-credential user, in a temporary directory.
#pragma once

#include <string>

#include "process.h"
#include "temp_dir.h"

namespace relais::test {

class TurnServer {
 public:
  TurnServer() = default;
  ~TurnServer() { stop(); }
  bool start(const std::string& user, const std::string& password, std::string* error);
  void stop() { process_.stop(); }
  int port() const { return port_; }
  // The line the server writes for each relay allocation, counted in its log.
  int allocations() const;

 private:
  TempDir dir_;
  Process process_;
  int port_ = 0;
};

}  // namespace relais::test
