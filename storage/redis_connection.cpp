#include "redis_connection.h"

#include <pthread.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <csignal>
#include <cerrno>
#include <cstring>

namespace relais::store {
namespace {

// hiredis writes with write(2): to a Redis that has gone that raises SIGPIPE,
// which would end the process. SIGPIPE is blocked on this thread while
// hiredis writes, and one raised meanwhile is taken, so it is an error only.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocked() {
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

}  // namespace

Status RedisConnection::connect(std::chrono::milliseconds timeout,
                                std::chrono::milliseconds command_timeout) {
  reset(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeout)));
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    reset(nullptr);
    return {StatusCode::kUnavailable, "cannot connect to Redis at " + address() + ": " + why};
  }
  set_timeout(command_timeout);
  RedisReplyPtr reply;
  if (!endpoint_.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
    auth.push_back(endpoint_.password);
    Status st = command(auth, &reply);
    if (!st.is_ok()) return st;
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string why = reply->str;
      reset(nullptr);
      return {StatusCode::kInvalidArgument, "Redis at " + address() + " refused AUTH: " + why};
    }
  }
  if (endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    Status st = command({"SELECT", db}, &reply);
    if (!st.is_ok()) return st;
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string why = reply->str;
      reset(nullptr);
      return {StatusCode::kInvalidArgument,
              "Redis at " + address() + " refused SELECT " + db + ": " + why};
    }
  }
  Status st = command({"PING"}, &reply);
  if (!st.is_ok()) return st;
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string why = reply->str;
    reset(nullptr);
    return {StatusCode::kInvalidArgument, "Redis at " + address() + " answered PING with: " + why};
  }
  return Status::ok();
}

void RedisConnection::set_timeout(std::chrono::milliseconds timeout) {
  timeout_ = timeout;
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout));
}

void RedisConnection::set_deadline(std::chrono::steady_clock::time_point deadline) {
  deadline_ = deadline;
}

void RedisConnection::clear_deadline() {
  deadline_.reset();
  set_timeout(timeout_);
}

bool RedisConnection::apply_deadline() {
  if (!deadline_ || !ctx_) return true;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      *deadline_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  redisSetTimeout(ctx_.get(), to_timeval(timeout_.count() > 0 ? std::min(left, timeout_) : left));
  return true;
}

void RedisConnection::reset(redisContext* ctx) {
  std::unique_ptr<redisContext, RedisContextDeleter> old;
  {
    std::lock_guard lock(ctx_mutex_);
    old = std::move(ctx_);
    ctx_.reset(ctx);
  }
}

void RedisConnection::interrupt() {
  std::lock_guard lock(ctx_mutex_);
  if (ctx_) shutdown(ctx_->fd, SHUT_RDWR);
}

Status RedisConnection::io_error(const char* what) {
  std::string why = ctx_ && ctx_->errstr[0] ? ctx_->errstr : "connection lost";
  reset(nullptr);
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

Status RedisConnection::send_direct(const std::vector<std::vector<std::string_view>>& commands) {
  if (!ctx_) return {StatusCode::kUnavailable, "not connected to Redis at " + address()};
  {
    SigpipeBlocked no_sigpipe;
    for (int done = 0; !done;) {  // commands queued by append() go first
      if (redisBufferWrite(ctx_.get(), &done) != REDIS_OK) return io_error("write failed");
    }
  }
  // RESP framing: "*<n>\r\n", then "$<len>\r\n<arg>\r\n" per argument. The
  // framing lives in frame_ (offsets first: frame_ may move while it grows);
  // the arguments are written from where they are.
  frame_.clear();
  struct Piece {
    size_t begin, end;     // framing before the argument, in frame_
    std::string_view arg;  // what follows it (none for the piece closing a command)
  };
  std::vector<Piece> pieces;
  for (const auto& args : commands) {
    size_t begin = frame_.size();
    frame_ += "*" + std::to_string(args.size()) + "\r\n";
    for (std::string_view arg : args) {
      frame_ += "$" + std::to_string(arg.size()) + "\r\n";
      pieces.push_back({begin, frame_.size(), arg});
      begin = frame_.size();
      frame_ += "\r\n";
    }
    pieces.push_back({begin, frame_.size(), {}});
  }
  std::vector<iovec> iov;
  iov.reserve(2 * pieces.size());
  for (const Piece& p : pieces) {
    iov.push_back({frame_.data() + p.begin, p.end - p.begin});
    if (!p.arg.empty()) iov.push_back({const_cast<char*>(p.arg.data()), p.arg.size()});
  }

  size_t next = 0;
  while (next < iov.size()) {
    if (!apply_deadline()) {
      reset(nullptr);
      return {StatusCode::kUnavailable, "write timed out on Redis at " + address()};
    }
    msghdr msg{};
    msg.msg_iov = iov.data() + next;
    msg.msg_iovlen = std::min<size_t>(iov.size() - next, IOV_MAX);
    ssize_t n = sendmsg(ctx_->fd, &msg, MSG_NOSIGNAL);  // a closed peer is an error, not SIGPIPE
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = errno == EAGAIN ? "timed out" : std::strerror(errno);
      reset(nullptr);
      return {StatusCode::kUnavailable, "write failed on Redis at " + address() + ": " + why};
    }
    auto left = static_cast<size_t>(n);
    while (next < iov.size() && left >= iov[next].iov_len) left -= iov[next++].iov_len;
    if (left > 0) {
      iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + left;
      iov[next].iov_len -= left;
    }
  }
  return Status::ok();
}

Status RedisConnection::read_reply(RedisReplyPtr* reply) {
  if (!ctx_) return {StatusCode::kUnavailable, "not connected to Redis at " + address()};
  if (!apply_deadline()) {
    reset(nullptr);
    return {StatusCode::kUnavailable, "read timed out on Redis at " + address()};
  }
  void* r = nullptr;
  SigpipeBlocked no_sigpipe;  // redisGetReply first writes what append() queued
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
