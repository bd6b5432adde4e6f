// One hiredis connection with its endpoint: connect (AUTH, SELECT), commands
// with binary-safe arguments, and pipelining.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_uri.h"
#include "status.h"

namespace relais::store {

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

struct RedisContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

class RedisConnection {
 public:
  explicit RedisConnection(RedisEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  Status connect(std::chrono::milliseconds timeout) { return connect(timeout, timeout); }
  // Connects within `timeout`, then gives AUTH, SELECT and PING (and later
  // commands) `command_timeout`: a busy Redis accepts at once but may answer late.
  Status connect(std::chrono::milliseconds timeout, std::chrono::milliseconds command_timeout);
  void disconnect() { reset(nullptr); }
  bool connected() const { return ctx_ != nullptr; }

  // Sets the socket read/write timeout for later commands.
  void set_timeout(std::chrono::milliseconds timeout);
  // Bounds all I/O until clear_deadline(): each blocking read or write waits
  // at most until `deadline`, so a whole exchange is bounded, not each step.
  void set_deadline(std::chrono::steady_clock::time_point deadline);
  void clear_deadline();
  // From any thread: makes a read or write blocked on the socket return at
  // once (as an I/O error that closes the connection).
  void interrupt();

  // Runs one command. On an I/O error the connection is closed and the
  // status is kUnavailable; a Redis error reply comes back as a reply of type
  // REDIS_REPLY_ERROR with an ok status.
  Status command(const std::vector<std::string_view>& args, RedisReplyPtr* reply);

  // Pipelining: queue commands, then read their replies in order.
  void append(const std::vector<std::string_view>& args);
  // Like append() for each command, but writes them to the socket at once
  // (after anything append()ed before), without copying their arguments, in
  // one system call, and without SIGPIPE when Redis has gone. For large
  // payloads: hiredis would copy each argument twice into buffers it
  // allocates and frees per command, which costs page faults every frame.
  Status send_direct(const std::vector<std::vector<std::string_view>>& commands);
  Status read_reply(RedisReplyPtr* reply);

  const RedisEndpoint& endpoint() const { return endpoint_; }
  std::string address() const { return endpoint_.host + ":" + std::to_string(endpoint_.port); }

 private:
  Status io_error(const char* what);
  // Replaces the context; the one thread using the connection calls it.
  void reset(redisContext* ctx);
  // Shrinks the socket timeout to what is left before the deadline; false
  // when nothing is left.
  bool apply_deadline();
  RedisEndpoint endpoint_;
  std::mutex ctx_mutex_;  // guards replacing ctx_ against interrupt()
  std::unique_ptr<redisContext, RedisContextDeleter> ctx_;
  std::chrono::milliseconds timeout_{0};
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::string frame_;  // send_direct's protocol framing, reused between commands
};

}  // namespace relais::store
