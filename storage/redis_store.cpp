#include "redis_store.h"

#include <unistd.h>

#include <charconv>
#include <mutex>

#include "redis_connection.h"
#include "redis_reader.h"
#include "redis_schema.h"
#include "redis_writer.h"

namespace relais::store {
namespace {

constexpr auto kAdminTimeout = std::chrono::milliseconds(1000);

std::string node_name() {
  if (const char* n = g_getenv("RELAIS_NODE_NAME"); n && *n) return n;
  return std::string(g_get_host_name()) + ":" + std::to_string(getpid());
}

std::string reply_string(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

double to_double(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

class RedisStore : public Store {
 public:
  RedisStore(std::string uri, RedisEndpoint endpoint)
      : uri_(std::move(uri)), endpoint_(endpoint), admin_(std::move(endpoint)) {}

  const std::string& uri() const override { return uri_; }

  Status ping() override {
    std::lock_guard lock(admin_mutex_);
    RedisReplyPtr reply;
    return admin_command({"PING"}, &reply);
  }

  Status open_writer(const std::string& stream, const Retention& retention,
                     std::unique_ptr<Writer>* out) override {
    if (!is_valid_stream_name(stream)) return invalid_name(stream);
    auto writer = std::make_unique<RedisWriter>(endpoint_, stream, retention, node_name());
    Status st = writer->open();
    if (!st.is_ok()) return st;
    *out = std::move(writer);
    return Status::ok();
  }

  Status open_reader(const std::string& stream, StartPosition start,
                     std::unique_ptr<Reader>* out) override {
    if (!is_valid_stream_name(stream)) return invalid_name(stream);
    auto reader = std::make_unique<RedisReader>(endpoint_, stream, start);
    Status st = reader->open();
    if (!st.is_ok()) return st;
    *out = std::move(reader);
    return Status::ok();
  }

  Status list_streams(std::vector<StreamInfo>* out) override {
    out->clear();
    std::lock_guard lock(admin_mutex_);
    RedisReplyPtr names;
    Status st = admin_command({"ZRANGE", redis_schema::kStreamsIndex, "0", "-1"}, &names);
    if (!st.is_ok()) return st;
    if (names->type != REDIS_REPLY_ARRAY) return Status::ok();
    std::vector<std::string> streams;
    for (size_t i = 0; i < names->elements; ++i) streams.push_back(reply_string(names->element[i]));
    // One round trip for all streams: HGETALL meta and XLEN frames each.
    std::vector<std::string> keys;
    for (const auto& s : streams) {
      keys.push_back(redis_schema::meta_key(s));
      keys.push_back(redis_schema::frames_key(s));
    }
    for (size_t i = 0; i < streams.size(); ++i) {
      admin_.append({"HGETALL", keys[2 * i]});
      admin_.append({"XLEN", keys[2 * i + 1]});
    }
    for (const auto& s : streams) {
      RedisReplyPtr meta, len;
      if (!(st = admin_.read_reply(&meta)).is_ok() || !(st = admin_.read_reply(&len)).is_ok())
        return st;
      if (meta->type != REDIS_REPLY_ARRAY || meta->elements == 0) continue;  // deleted meanwhile
      StreamInfo info;
      info.name = s;
      for (size_t f = 0; f + 1 < meta->elements; f += 2) {
        std::string k = reply_string(meta->element[f]), v = reply_string(meta->element[f + 1]);
        if (k == "caps")
          info.caps = v;
        else if (k == "updated")
          info.updated_unix_ms = static_cast<int64_t>(to_double(v));
        else if (k == "fps")
          info.frame_rate = to_double(v);
        else if (k == "bitrate")
          info.bitrate = to_double(v);
      }
      if (len->type == REDIS_REPLY_INTEGER)
        info.frames_retained = static_cast<uint64_t>(len->integer);
      out->push_back(std::move(info));
    }
    return Status::ok();
  }

  Status delete_stream(const std::string& stream) override {
    if (!is_valid_stream_name(stream)) return invalid_name(stream);
    std::lock_guard lock(admin_mutex_);
    RedisReplyPtr reply;
    std::string frames = redis_schema::frames_key(stream), meta = redis_schema::meta_key(stream);
    Status st = admin_command({"DEL", frames, meta}, &reply);
    if (!st.is_ok()) return st;
    return admin_command({"ZREM", redis_schema::kStreamsIndex, stream}, &reply);
  }

  Status connect_admin() {
    std::lock_guard lock(admin_mutex_);
    return admin_.connect(kAdminTimeout);
  }

 private:
  static Status invalid_name(const std::string& stream) {
    return {StatusCode::kInvalidArgument,
            "invalid stream name '" + stream + "': use 1-64 characters of a-z, 0-9, _ and -"};
  }

  // Runs a command on the admin connection, connecting first if needed.
  // Caller holds admin_mutex_.
  Status admin_command(const std::vector<std::string_view>& args, RedisReplyPtr* reply) {
    if (!admin_.connected()) {
      Status st = admin_.connect(kAdminTimeout);
      if (!st.is_ok()) return st;
    }
    Status st = admin_.command(args, reply);
    if (!st.is_ok()) return st;
    if ((*reply)->type == REDIS_REPLY_ERROR)
      return {StatusCode::kInternal, std::string("Redis error: ") + (*reply)->str};
    return Status::ok();
  }

  const std::string uri_;
  const RedisEndpoint endpoint_;
  std::mutex admin_mutex_;  // guards admin_ (held across its round trips by design:
                            // the admin connection serves one request at a time)
  RedisConnection admin_;
};

}  // namespace

Status open_redis_store(const std::string& uri, std::shared_ptr<Store>* out) {
  RedisEndpoint endpoint;
  Status st = parse_redis_uri(uri, &endpoint);
  if (!st.is_ok()) return st;
  auto store = std::make_shared<RedisStore>(uri, endpoint);
  st = store->connect_admin();
  if (!st.is_ok()) return st;
  *out = std::move(store);
  return Status::ok();
}

}  // namespace relais::store
