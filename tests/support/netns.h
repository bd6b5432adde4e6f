// Two network namespaces made by the test and joined by a veth pair: a
// "server" host and a "viewer" host, each with one address, so that WebRTC
// peers on one machine meet over a real link (libnice skips loopback) that
// the test can make lossy with nftables. Needs root (ip, nft).
#pragma once

#include <string>
#include <vector>

namespace relais::test {

class NetnsPair {
 public:
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& server_address() const { return server_ip_; }
  const std::string& viewer_address() const { return viewer_ip_; }
  // argv prefix that runs a command in a namespace: {"ip", "netns", "exec", name}.
  std::vector<std::string> in_server(std::vector<std::string> argv) const;
  std::vector<std::string> in_viewer(std::vector<std::string> argv) const;
  // Drops `percent` of the UDP packets arriving at the viewer (nft numgen).
  bool drop_udp_to_viewer(int percent, std::string* error);
  // Takes the drop rule away again.
  void stop_dropping();

 private:
  std::string server_ns_, viewer_ns_, server_ip_, viewer_ip_, error_;
};

// Runs argv to completion; true when it exits 0 (its stderr in *error if not).
bool run_command(const std::vector<std::string>& argv, std::string* error);

}  // namespace relais::test
