// Every Redis script of the cluster's pipeline leases, with the keys each one
// touches. A lease's keys share the hash tag {lease:NAME}, so each script runs
// in one slot (Redis Cluster safe).
#pragma once

#include <string>

namespace relais::cluster {

// Owner key: value "NODE EPOCH", expires after the lease TTL.
inline std::string lease_owner_key(const std::string& name) {
  return "relais:{lease:" + name + "}:owner";
}
// Epoch counter: only grows (INCR), never expires.
inline std::string lease_epoch_key(const std::string& name) {
  return "relais:{lease:" + name + "}:epoch";
}

// Claim. KEYS[1] = owner key, KEYS[2] = epoch key; ARGV[1] = node id,
// ARGV[2] = TTL ms. Returns the new epoch, or 0 when someone holds the lease.
inline constexpr const char* kClaimScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. epoch, 'PX', ARGV[2])
return epoch
)lua";

// Renew (compare-and-pexpire). KEYS[1] = owner key; ARGV[1] = "NODE EPOCH",
// ARGV[2] = TTL ms. Returns 1 when renewed, 0 when the lease is not ours.
inline constexpr const char* kRenewScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

// Release (compare-and-delete). KEYS[1] = owner key; ARGV[1] = "NODE EPOCH".
// Returns 1 when released, 0 when the lease was not ours.
inline constexpr const char* kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

}  // namespace relais::cluster
