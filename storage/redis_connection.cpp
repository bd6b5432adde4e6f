#include "redis_connection.h"

#include <sys/time.h>

namespace relais::store {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

}  // namespace

Status RedisConnection::connect(std::chrono::milliseconds timeout) {
  ctx_.reset(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeout)));
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    ctx_.reset();
    return {StatusCode::kUnavailable, "cannot connect to Redis at " + address() + ": " + why};
  }
  set_timeout(timeout);
  RedisReplyPtr reply;
  if (!endpoint_.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
    auth.push_back(endpoint_.password);
    Status st = command(auth, &reply);
    if (!st.is_ok()) return st;
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string why = reply->str;
      ctx_.reset();
      return {StatusCode::kInvalidArgument, "Redis at " + address() + " refused AUTH: " + why};
    }
  }
  if (endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    Status st = command({"SELECT", db}, &reply);
    if (!st.is_ok()) return st;
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string why = reply->str;
      ctx_.reset();
      return {StatusCode::kInvalidArgument,
              "Redis at " + address() + " refused SELECT " + db + ": " + why};
    }
  }
  Status st = command({"PING"}, &reply);
  if (!st.is_ok()) return st;
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string why = reply->str;
    ctx_.reset();
    return {StatusCode::kInvalidArgument, "Redis at " + address() + " answered PING with: " + why};
  }
  return Status::ok();
}

void RedisConnection::set_timeout(std::chrono::milliseconds timeout) {
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout));
}

Status RedisConnection::io_error(const char* what) {
  std::string why = ctx_ && ctx_->errstr[0] ? ctx_->errstr : "connection lost";
  ctx_.reset();
  return {StatusCode::kUnavailable, std::string(what) + " on Redis at " + address() + ": " + why};
}

void RedisConnection::append(const std::vector<std::string_view>& args) {
  if (!ctx_) return;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data());
}

Status RedisConnection::read_reply(RedisReplyPtr* reply) {
  if (!ctx_) return {StatusCode::kUnavailable, "not connected to Redis at " + address()};
  void* r = nullptr;
  if (redisGetReply(ctx_.get(), &r) != REDIS_OK || !r) return io_error("read failed");
  reply->reset(static_cast<redisReply*>(r));
  return Status::ok();
}

Status RedisConnection::command(const std::vector<std::string_view>& args, RedisReplyPtr* reply) {
  if (!ctx_) return {StatusCode::kUnavailable, "not connected to Redis at " + address()};
  append(args);
  return read_reply(reply);
}

}  // namespace relais::store
