#include "redis_reader.h"

#include "redis_entry.h"

#include <charconv>
#include <utility>

namespace relais::store {
namespace {

constexpr auto kConnectTimeout = std::chrono::milliseconds(500);
// Opening waits this long for answers: Redis busy sending large replies to
// other readers can take longer than kConnectTimeout to answer a PING.
constexpr auto kOpenTimeout = std::chrono::milliseconds(2000);
// XREAD blocks in slices so cancel() takes effect within one slice.
constexpr auto kBlockSlice = std::chrono::milliseconds(100);
constexpr const char* kReadCount = "64";

// Whether retention trimmed entries the reader has not read yet. KEYS[1] the
// frames stream, ARGV[1] the id last read. Trimming removes the oldest
// entries, so while an entry at or before ARGV[1] is retained nothing after
// it was trimmed (0); when none is, the entry read last went and entries
// after it may have gone too (1: Redis does not count trimmed entries, so a
// reader at the very tail of retention is treated as lapped). Only the
// answer leaves the server.
constexpr const char* kLapCheckScript = R"lua(
local before = redis.pcall('XREVRANGE', KEYS[1], ARGV[1], '-', 'COUNT', 1)
if type(before) == 'table' and not before.err and #before == 0 and
   redis.call('EXISTS', KEYS[1]) == 1 then
  return 1
end
return 0
)lua";

}  // namespace

RedisReader::RedisReader(RedisEndpoint endpoint, std::string stream, StartPosition start)
    : conn_(std::move(endpoint)),
      stream_(std::move(stream)),
      frames_key_(redis_schema::frames_key(stream_)),
      meta_key_(redis_schema::meta_key(stream_)),
      start_(start) {}

Status RedisReader::open() {
  Status st = conn_.connect(kConnectTimeout, kOpenTimeout);
  if (!st.is_ok()) return st;
  return resolve_start();
}

// Whether `id` names an entry of the stream that is a keyframe. The meta's
// keyframe field is only a hint: anyone may have written it, and a stale one
// may name a trimmed entry (XREAD would then start at a delta), a future one
// would stall the reader.
Status RedisReader::is_keyframe_entry(const StreamId& id, bool* yes) {
  *yes = false;
  RedisReplyPtr reply;
  std::string s = id.str();
  Status st = conn_.command({"XRANGE", frames_key_, s, s, "COUNT", "1"}, &reply);
  if (!st.is_ok()) return st;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1) return Status::ok();
  StreamId found;
  Frame frame;
  bool has_frame = false;
  CapsString caps;
  if (decode_entry(reply->element[0], &caps, &found, &frame, &has_frame) && found == id)
    *yes = has_frame && frame.is_keyframe();
  return Status::ok();
}

Status RedisReader::resolve_start() {
  RedisReplyPtr reply;
  Status st = conn_.command({"HMGET", meta_key_, "caps", "keyframe"}, &reply);
  if (!st.is_ok()) return st;
  StreamId keyframe;
  bool have_keyframe = false;
  // A meta of another type (WRONGTYPE) or with garbage fields is ignored.
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
    if (reply->element[0]->type == REDIS_REPLY_STRING && reply->element[0]->len > 0)
      caps_ = make_caps(std::string(reply->element[0]->str, reply->element[0]->len));
    have_keyframe = reply->element[1]->type == REDIS_REPLY_STRING &&
                    StreamId::parse({reply->element[1]->str, reply->element[1]->len}, &keyframe);
  }
  if (start_ == StartPosition::kKeyframe) {
    // Whatever the meta says, nothing before a keyframe goes out.
    need_keyframe_ = true;
    bool valid = false;
    if (have_keyframe) {
      st = is_keyframe_entry(keyframe, &valid);
      if (!st.is_ok()) return st;
    }
    // Not a keyframe of the stream: from the oldest retained keyframe instead.
    last_id_ = valid ? keyframe.predecessor() : StreamId{};
  }
  if (start_ == StartPosition::kEarliest) last_id_ = {};
  if (start_ == StartPosition::kLive) {
    st = conn_.command({"XREVRANGE", frames_key_, "+", "-", "COUNT", "1"}, &reply);
    if (!st.is_ok()) return st;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements >= 1) {
      const redisReply* id = reply->element[0]->element[0];
      if (id->type == REDIS_REPLY_STRING)
        positioned_ = StreamId::parse({id->str, id->len}, &last_id_);
    }
  }
  return Status::ok();
}

void RedisReader::parse_entries(redisReply* entries) {
  for (size_t i = 0; i < entries->elements; ++i) {
    Entry e;
    bool has_frame = false;
    if (!decode_entry(entries->element[i], &caps_, &e.id, &e.frame, &has_frame)) continue;
    last_id_ = e.id;
    positioned_ = true;
    if (has_frame) pending_.push_back(std::move(e));
  }
}

Status RedisReader::read_some(std::chrono::milliseconds block) {
  std::string last = last_id_.str();
  std::string block_ms = std::to_string(std::max<int64_t>(block.count(), 1));
  conn_.set_timeout(block + std::chrono::milliseconds(2000));
  // The lap check runs just before the read, in the same round trip.
  bool check = positioned_;
  if (check) conn_.append({"EVAL", kLapCheckScript, "1", frames_key_, last});
  RedisReplyPtr reply;
  Status st = conn_.command(
      {"XREAD", "COUNT", kReadCount, "BLOCK", block_ms, "STREAMS", frames_key_, last}, &reply);
  if (!st.is_ok()) return st;
  if (check) {
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
      // Frames after last_id_ are gone: resume at a keyframe, marked discont.
      need_keyframe_ = true;
      discont_ = true;
    }
    st = conn_.read_reply(&reply);
    if (!st.is_ok()) return st;
  }
  if (reply->type == REDIS_REPLY_ERROR)
    return {StatusCode::kInternal, std::string("Redis refused XREAD: ") + reply->str};
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return Status::ok();  // timeout
  redisReply* stream = reply->element[0];
  if (stream->type == REDIS_REPLY_ARRAY && stream->elements == 2 &&
      stream->element[1]->type == REDIS_REPLY_ARRAY)
    parse_entries(stream->element[1]);
  return Status::ok();
}

bool RedisReader::sleep_until(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, until, [this] { return cancelled_; });
  return !cancelled_;
}

ReadResult RedisReader::next(Frame* out, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return ReadResult::kCancelled;
    }
    while (!pending_.empty()) {
      Entry e = std::move(pending_.front());
      pending_.pop_front();
      if (need_keyframe_ && !e.frame.is_keyframe()) {
        std::lock_guard lock(mutex_);
        stats_.skipped++;
        continue;
      }
      need_keyframe_ = false;
      *out = std::move(e.frame);
      if (std::exchange(discont_, false)) out->flags |= kFlagDiscont;
      std::lock_guard lock(mutex_);
      stats_.frames++;
      stats_.bytes += out->payload.size();
      return ReadResult::kFrame;
    }
    auto now = std::chrono::steady_clock::now();
    if (!conn_.connected()) {
      if (!lost_) {
        lost_ = true;
        backoff_.schedule(now);
        return ReadResult::kDisconnected;
      }
      if (!backoff_.due(now)) {
        if (!sleep_until(std::min(backoff_.next(), deadline))) return ReadResult::kCancelled;
        if (std::chrono::steady_clock::now() >= deadline) return ReadResult::kTimeout;
        continue;
      }
      if (!conn_.connect(kConnectTimeout).is_ok()) {
        backoff_.schedule(std::chrono::steady_clock::now());
        continue;
      }
      lost_ = false;
      backoff_.reset();
      std::lock_guard lock(mutex_);
      stats_.reconnects++;
      return ReadResult::kReconnected;
    }
    if (now >= deadline) return ReadResult::kTimeout;
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    Status st = read_some(std::min(remaining, kBlockSlice));
    if (!st.is_ok() && st.code() != StatusCode::kUnavailable) {
      // A refused read (e.g. the key holds another type): wait and try again.
      if (!sleep_until(std::min(now + kBlockSlice, deadline))) return ReadResult::kCancelled;
    }
  }
}

void RedisReader::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  wake_.notify_all();
}

void RedisReader::reset_cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = false;
}

ReaderStats RedisReader::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace relais::store
