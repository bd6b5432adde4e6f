// A real S3-compatible server for tests: the s3rver npm package
// (tests/node, installed by .ci/deps.sh) on a free loopback port, with its
// data in a temporary directory and one bucket created at start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace relais::test {

class S3rver {
 public:
  static constexpr const char* kAccessKey = "S3RVER";  // s3rver's default account
  static constexpr const char* kSecretKey = "S3RVER";

  ~S3rver() { stop(); }
  // Starts s3rver with `bucket` created; virtual-hosted requests are
  // recognised under <bucket>.s3.localhost.
  bool start(const std::string& bucket, std::string* error);
  // A started server for a whole test suite, or nullptr after reporting why.
  static std::unique_ptr<S3rver> start_for_suite(const std::string& bucket);
  void stop() { process_.stop(); }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  Process process_;
  int port_ = 0;
};

struct HttpResult {
  unsigned status = 0;  // 0: no answer
  std::string body;
  std::string content_type;
};

// Plain (unsigned) HTTP GET, as curl would do it; s3rver serves it.
HttpResult http_get(const std::string& url);
// Keys under `prefix` in `bucket` (ListObjectsV2), sorted.
std::vector<std::string> list_keys(const std::string& endpoint, const std::string& bucket,
                                   const std::string& prefix);
// Deterministic pseudo-random bytes.
std::string test_bytes(size_t size, unsigned seed);

}  // namespace relais::test
