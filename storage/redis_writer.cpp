#include "redis_writer.h"

#include <cstring>

namespace relais::store {
namespace {

constexpr auto kConnectTimeout = std::chrono::milliseconds(500);
constexpr auto kCommandTimeout = std::chrono::milliseconds(2000);
// A whole write() (reconnecting, XADD, meta update) ends within this.
constexpr auto kWriteTimeout = std::chrono::milliseconds(2000);
constexpr int64_t kMetaIntervalMs = 1000;

bool is_id_conflict(const redisReply* r) {
  return r->type == REDIS_REPLY_ERROR && std::strstr(r->str, "equal or smaller") != nullptr;
}

bool is_fenced(const redisReply* r) {
  return r->type == REDIS_REPLY_ERROR && std::strncmp(r->str, "FENCED", 6) == 0;
}

}  // namespace

RedisWriter::RedisWriter(RedisEndpoint endpoint, std::string stream, Retention retention,
                         std::string node)
    : conn_(std::move(endpoint)),
      stream_(std::move(stream)),
      frames_key_(redis_schema::frames_key(stream_)),
      meta_key_(redis_schema::meta_key(stream_)),
      retention_(retention),
      node_(std::move(node)) {}

Status RedisWriter::open() {
  return connect_and_sync();
}

Status RedisWriter::connect_and_sync() {
  Status st = conn_.connect(kConnectTimeout);
  if (!st.is_ok()) return st;
  conn_.set_timeout(kCommandTimeout);
  // Continue after the newest entry already there, so ids keep increasing.
  RedisReplyPtr reply;
  st = conn_.command({"XREVRANGE", frames_key_, "+", "-", "COUNT", "1"}, &reply);
  if (!st.is_ok()) return st;
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
    redisReply* entry = reply->element[0];
    StreamId id;
    if (entry->type == REDIS_REPLY_ARRAY && entry->elements >= 1 &&
        StreamId::parse({entry->element[0]->str, entry->element[0]->len}, &id) && last_id_ < id)
      last_id_ = id;
  }
  return Status::ok();
}

RedisWriter::StreamId RedisWriter::next_id(int64_t now_ms) {
  auto ms = static_cast<uint64_t>(now_ms);
  if (ms > last_id_.ms) return {ms, 0};
  return {last_id_.ms, last_id_.seq + 1};
}

void RedisWriter::forget_oldest() {
  retained_bytes_ -= ids_.front().bytes;
  ids_.pop_front();
}

// MINID for XADD: drop what is beyond max_frames or older than max_age, but
// never the newest keyframe -- unless the payload bytes retained with this
// frame (of `bytes`) exceed max_bytes, which cuts into the newest GOP (counted
// in gop_cuts). Empty when nothing needs trimming.
std::string RedisWriter::trim_threshold(int64_t now_ms, const StreamId& id, bool keyframe,
                                        uint64_t bytes) {
  std::optional<StreamId> threshold;
  size_t keep = std::max<uint32_t>(retention_.max_frames, 1);
  if (ids_.size() + 1 > keep) threshold = ids_[ids_.size() + 1 - keep].id;
  if (retention_.max_age.count() > 0 && now_ms > retention_.max_age.count()) {
    StreamId by_age{static_cast<uint64_t>(now_ms - retention_.max_age.count()), 0};
    if (!threshold || *threshold < by_age) threshold = by_age;
  }
  StreamId keyframe_id = keyframe ? id : newest_keyframe_.value_or(id);
  if (threshold && keyframe_id < *threshold) threshold = keyframe_id;
  if (threshold) {
    while (!ids_.empty() && ids_.front().id < *threshold) forget_oldest();
  }
  if (retention_.max_bytes > 0) {
    while (!ids_.empty() && retained_bytes_ + bytes > retention_.max_bytes) {
      if (!(ids_.front().id < keyframe_id)) gop_cuts_.fetch_add(1, std::memory_order_relaxed);
      forget_oldest();
      threshold = ids_.empty() ? id : ids_.front().id;
    }
  }
  return threshold ? threshold->str() : std::string();
}

Status RedisWriter::send(const Frame& frame, const StreamId& id, bool* id_conflict, bool* fenced) {
  *id_conflict = false;
  *fenced = false;
  int64_t now = wall_clock_ms();
  bool keyframe = frame.is_keyframe();
  std::string id_str = id.str();
  std::string minid = trim_threshold(now, id, keyframe, frame.payload.size());
  uint32_t flags = frame.flags;
  if (need_keyframe_) flags |= kFlagDiscont;  // first frame after an outage
  std::string flags_str = std::to_string(flags);
  std::string pts = std::to_string(frame.pts), dts = std::to_string(frame.dts),
              dur = std::to_string(frame.duration);
  bool caps_changed = frame.caps && (!caps_sent_ || *caps_sent_ != *frame.caps);
  bool with_caps = frame.caps && (caps_changed || keyframe || (frame.flags & kFlagHeader));

  std::vector<std::string_view> xadd = {"XADD", frames_key_};
  if (!minid.empty()) {
    xadd.insert(xadd.end(), {"MINID", "~", minid});
  }
  xadd.push_back(id_str);
  xadd.insert(xadd.end(), {redis_schema::kPayload,
                           std::string_view(reinterpret_cast<const char*>(frame.payload.data()),
                                            frame.payload.size()),
                           redis_schema::kFlags, flags_str});
  if (frame.pts != kTimeNone) xadd.insert(xadd.end(), {redis_schema::kPts, pts});
  if (frame.dts != kTimeNone) xadd.insert(xadd.end(), {redis_schema::kDts, dts});
  if (frame.duration != kTimeNone) xadd.insert(xadd.end(), {redis_schema::kDuration, dur});
  if (with_caps) xadd.insert(xadd.end(), {redis_schema::kCaps, *frame.caps});
  std::string epoch_str;
  if (fence_epoch_ > 0) {
    // EVAL script 2 frames meta epoch <XADD's arguments after the key>.
    epoch_str = std::to_string(fence_epoch_);
    xadd[0] = frames_key_;
    xadd[1] = meta_key_;
    xadd.insert(xadd.begin(), {"EVAL", redis_schema::kFencedXaddScript, "2"});
    xadd.insert(xadd.begin() + 5, epoch_str);
  }
  // One write, and the payload goes out without being copied.
  Status sent = conn_.send_direct({std::move(xadd)});
  if (!sent.is_ok()) return sent;
  RedisReplyPtr reply;
  Status st = conn_.read_reply(&reply);
  if (!st.is_ok()) return st;  // connection closed by read_reply
  if (is_id_conflict(reply.get())) {
    *id_conflict = true;
    return Status::ok();
  }
  if (is_fenced(reply.get())) {
    *fenced = true;
    set_error(std::string("Redis refused a frame of stream '") + stream_ + "': " + reply->str);
    return Status::ok();
  }
  if (reply->type == REDIS_REPLY_ERROR)
    return {StatusCode::kInternal, "Redis refused XADD to '" + frames_key_ + "': " + reply->str};

  last_id_ = id;
  ids_.push_back({id, frame.payload.size()});
  retained_bytes_ += frame.payload.size();
  if (keyframe) newest_keyframe_ = id;
  if (with_caps) caps_sent_ = frame.caps;

  // The meta names the entry only once Redis has stored it: a failed XADD
  // must not leave readers a keyframe id that does not exist.
  rates_.record(now, frame.payload.size());
  bool publish = keyframe || caps_changed || now - meta_published_ms_ >= kMetaIntervalMs;
  if (publish) {
    std::string now_str = std::to_string(now);
    std::string fps = std::to_string(rates_.frame_rate(now));
    std::string bitrate = std::to_string(rates_.bitrate(now));
    std::vector<std::string_view> hset = {"HSET",  meta_key_, "writer", node_,     "updated",
                                          now_str, "fps",     fps,      "bitrate", bitrate};
    if (frame.caps) hset.insert(hset.end(), {"caps", *frame.caps});
    if (keyframe) hset.insert(hset.end(), {"keyframe", id_str});
    conn_.append(hset);
    conn_.append({"ZADD", redis_schema::kStreamsIndex, now_str, stream_});
    Status result = Status::ok();
    for (int i = 0; i < 2; ++i) {
      st = conn_.read_reply(&reply);
      if (!st.is_ok()) return st;
      if (reply->type == REDIS_REPLY_ERROR && result.is_ok())
        result = {StatusCode::kInternal, std::string("Redis refused a meta update: ") + reply->str};
    }
    // The frame is stored; readers validate the meta, so a refused meta
    // update (a key of another type) is reported but loses nothing.
    if (!result.is_ok()) set_error(result.message());
    meta_published_ms_ = now;
  }
  return Status::ok();
}

WriteResult RedisWriter::fail(const Status& st) {
  dropped_.fetch_add(1, std::memory_order_relaxed);
  if (cancelled_.load()) {
    // Interrupted by cancel(): not an outage. Resume at a keyframe, and
    // reconnect at the first write after reset_cancel().
    need_keyframe_ = true;
    return WriteResult::kDropped;
  }
  set_error(st.message());
  bool first = !outage_;
  outage_ = true;
  need_keyframe_ = true;
  backoff_.schedule(Backoff::Clock::now());
  return first ? WriteResult::kLost : WriteResult::kDropped;
}

// What a person does about an error reply to XADD.
std::string RedisWriter::what_to_fix(const std::string& redis_error) const {
  auto has = [&](const char* s) { return redis_error.find(s) != std::string::npos; };
  std::string del = "redis-cli DEL '" + frames_key_ + "'";
  if (has("WRONGTYPE"))
    return "the key '" + frames_key_ +
           "' holds another type, so another program uses it: " + "remove it (" + del +
           ") or write under another stream name";
  if (has("exhausted") || has("last possible"))
    return "the stream '" + frames_key_ + "' has reached the last possible entry id: delete it (" +
           del + ")";
  if (has("OOM") || has("maxmemory"))
    return "Redis is out of memory: raise its maxmemory, or lower max-bytes, max-frames or "
           "max-age on the writers";
  if (has("NOPERM") || has("NOAUTH"))
    return "the Redis user may not write these keys: grant it +xadd +hset +zadd on ~relais:*";
  if (has("READONLY")) return "this Redis is a read-only replica: point the store at the primary";
  if (has("keep conflicting"))
    return "another writer writes stream '" + stream_ + "' (HGET '" + meta_key_ +
           "' writer names it): give each writer its own stream name";
  return "see the Redis server's log";
}

// Refused by Redis (not an outage): counted, and reported once per cause.
WriteResult RedisWriter::refuse(const std::string& why) {
  std::string message = why + "; " + what_to_fix(why);
  set_error(message);
  dropped_.fetch_add(1, std::memory_order_relaxed);
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (message == refusal_) return WriteResult::kDropped;
  refusal_ = message;
  return WriteResult::kRefused;
}

WriteResult RedisWriter::write(const Frame& frame) {
  if (cancelled_.load()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return WriteResult::kDropped;
  }
  conn_.set_deadline(std::chrono::steady_clock::now() + kWriteTimeout);
  WriteResult result = write_within_deadline(frame);
  conn_.clear_deadline();
  return result;
}

void RedisWriter::cancel() {
  cancelled_ = true;
  conn_.interrupt();
}

void RedisWriter::reset_cancel() {
  cancelled_ = false;
}

WriteResult RedisWriter::write_within_deadline(const Frame& frame) {
  bool recovering = false;
  if (!conn_.connected()) {
    if (!backoff_.due(Backoff::Clock::now())) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return WriteResult::kDropped;
    }
    Status st = connect_and_sync();
    if (!st.is_ok()) return fail(st);
    recovering = outage_;
  }
  if (need_keyframe_ && !frame.is_keyframe()) {
    // Deltas after a gap cannot be decoded: wait for the next keyframe.
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return WriteResult::kDropped;
  }
  if (last_id_ == StreamId{UINT64_MAX, UINT64_MAX})
    return refuse("stream '" + frames_key_ + "' has no id left after " + last_id_.str() +
                  " (the last possible)");
  StreamId id = next_id(wall_clock_ms());
  bool conflict = false, fenced = false;
  Status st = send(frame, id, &conflict, &fenced);
  if (st.is_ok() && conflict) {
    // Someone else wrote a newer id (another writer, or clocks): resync once.
    Status sync = connect_and_sync();
    if (!sync.is_ok()) return fail(sync);
    st = send(frame, next_id(wall_clock_ms()), &conflict, &fenced);
    if (st.is_ok() && conflict)
      st = {StatusCode::kInternal, "ids in '" + frames_key_ + "' keep conflicting"};
  }
  if (!st.is_ok()) {
    if (st.code() == StatusCode::kUnavailable) return fail(st);
    return refuse(st.message());
  }
  if (fenced) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return WriteResult::kFenced;
  }
  need_keyframe_ = false;
  refusal_.clear();
  frames_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(frame.payload.size(), std::memory_order_relaxed);
  if (outage_) {
    outage_ = false;
    backoff_.reset();
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    recovering = true;
  }
  return recovering ? WriteResult::kReconnected : WriteResult::kWritten;
}

WriterStats RedisWriter::stats() const {
  WriterStats st;
  st.frames = frames_.load(std::memory_order_relaxed);
  st.bytes = bytes_.load(std::memory_order_relaxed);
  st.dropped = dropped_.load(std::memory_order_relaxed);
  st.refused = refused_.load(std::memory_order_relaxed);
  st.gop_cuts = gop_cuts_.load(std::memory_order_relaxed);
  st.reconnects = reconnects_.load(std::memory_order_relaxed);
  return st;
}

std::string RedisWriter::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

void RedisWriter::set_error(const std::string& e) {
  std::lock_guard lock(error_mutex_);
  last_error_ = e;
}

}  // namespace relais::store
