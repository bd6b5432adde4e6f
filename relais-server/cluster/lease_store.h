// Pipeline leases in Redis: claim, renew and release through the scripts of
// lease_scripts.h on one caller-owned connection. Blocking I/O: call from the
// cluster thread, never from the server's main context.
#pragma once

#include <cstdint>
#include <string>

#include "redis_connection.h"

namespace relais::cluster {

class LeaseStore {
 public:
  explicit LeaseStore(store::RedisConnection* connection) : connection_(connection) {}

  // *epoch = the lease's new epoch, or 0 when another node holds it.
  store::Status claim(const std::string& name, const std::string& node, int64_t ttl_ms,
                      int64_t* epoch);
  // *ours = whether the lease was still held by (node, epoch).
  store::Status renew(const std::string& name, const std::string& node, int64_t epoch,
                      int64_t ttl_ms, bool* ours);
  store::Status release(const std::string& name, const std::string& node, int64_t epoch,
                        bool* ours);

 private:
  store::Status eval(const char* script, const std::vector<std::string>& keys_and_args,
                     int num_keys, int64_t* result);
  store::RedisConnection* connection_;
};

}  // namespace relais::cluster
