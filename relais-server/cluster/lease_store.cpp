#include "lease_store.h"

#include "lease_scripts.h"

namespace relais::cluster {

using store::Status;
using store::StatusCode;

namespace {
std::string owner_value(const std::string& node, int64_t epoch) {
  return node + " " + std::to_string(epoch);
}
}  // namespace

Status LeaseStore::eval(const char* script, const std::vector<std::string>& keys_and_args,
                        int num_keys, int64_t* result) {
  const std::string nkeys = std::to_string(num_keys);
  std::vector<std::string_view> args{"EVAL", script, nkeys};
  for (const std::string& a : keys_and_args) args.emplace_back(a);
  store::RedisReplyPtr reply;
  Status st = connection_->command(args, &reply);
  if (!st.is_ok()) return st;
  if (!reply || reply->type != REDIS_REPLY_INTEGER) {
    std::string what = reply && reply->type == REDIS_REPLY_ERROR
                           ? std::string(reply->str, reply->len)
                           : std::string("unexpected reply");
    return Status(StatusCode::kInternal, "lease script failed: " + what);
  }
  *result = reply->integer;
  return Status::ok();
}

Status LeaseStore::claim(const std::string& name, const std::string& node, int64_t ttl_ms,
                         int64_t* epoch) {
  return eval(kClaimScript,
              {lease_owner_key(name), lease_epoch_key(name), node, std::to_string(ttl_ms)}, 2,
              epoch);
}

Status LeaseStore::renew(const std::string& name, const std::string& node, int64_t epoch,
                         int64_t ttl_ms, bool* ours) {
  int64_t r = 0;
  Status st =
      eval(kRenewScript, {lease_owner_key(name), owner_value(node, epoch), std::to_string(ttl_ms)},
           1, &r);
  *ours = st.is_ok() && r == 1;
  return st;
}

Status LeaseStore::release(const std::string& name, const std::string& node, int64_t epoch,
                           bool* ours) {
  int64_t r = 0;
  Status st = eval(kReleaseScript, {lease_owner_key(name), owner_value(node, epoch)}, 1, &r);
  *ours = st.is_ok() && r == 1;
  return st;
}

}  // namespace relais::cluster
