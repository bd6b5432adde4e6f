#include "node_registry.h"

#include <sys/resource.h>

#include <chrono>

#include "redis_connection.h"

namespace relais::cluster {
namespace {

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t cpu_us() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (int64_t{u.ru_utime.tv_sec} + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec +
         u.ru_stime.tv_usec;
}

int64_t monotonic_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string reply_text(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

// Every record under the node pattern (SCAN in one slot, then MGET).
store::Status read_records(store::RedisConnection* c, std::vector<NodeRecord>* out) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  const std::string pattern = node_key_pattern();
  do {
    store::RedisReplyPtr reply;
    store::Status st = c->command({"SCAN", cursor, "MATCH", pattern, "COUNT", "200"}, &reply);
    if (!st.is_ok()) return st;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      return store::Status(store::StatusCode::kInternal, "unexpected SCAN reply");
    }
    cursor = reply_text(reply->element[0]);
    const redisReply* batch = reply->element[1];
    for (size_t i = 0; batch && i < batch->elements; ++i) {
      keys.push_back(reply_text(batch->element[i]));
    }
  } while (cursor != "0" && !cursor.empty());
  if (keys.empty()) return store::Status::ok();
  std::vector<std::string_view> args{"MGET"};
  for (const auto& k : keys) args.emplace_back(k);
  store::RedisReplyPtr reply;
  store::Status st = c->command(args, &reply);
  if (!st.is_ok()) return st;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) {
    return store::Status(store::StatusCode::kInternal, "unexpected MGET reply");
  }
  for (size_t i = 0; i < reply->elements; ++i) {
    if (auto r = decode_node_record(reply_text(reply->element[i]))) out->push_back(*r);
  }
  return store::Status::ok();
}

}  // namespace

NodeRegistry::NodeRegistry(store::RedisEndpoint endpoint, NodeRecord self, int64_t heartbeat_ms)
    : endpoint_(std::move(endpoint)), heartbeat_ms_(heartbeat_ms), self_(std::move(self)) {
  self_.ttl_ms = node_ttl_ms(heartbeat_ms_);
  thread_ = std::thread([this] { run(); });
}

NodeRegistry::~NodeRegistry() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void NodeRegistry::set_load(int64_t viewers, int64_t pipelines_running) {
  std::lock_guard<std::mutex> lock(mutex_);
  self_.viewers = viewers;
  self_.pipelines_running = pipelines_running;
}

std::vector<NodeRecord> NodeRegistry::nodes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return nodes_;
}

bool NodeRegistry::connected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connected_;
}

void NodeRegistry::run() {
  store::RedisConnection connection(endpoint_);
  // Round trips must end well within a heartbeat, so a dead Redis cannot
  // hold the thread (and the destructor) for long.
  const auto timeout = std::chrono::milliseconds(std::max<int64_t>(200, heartbeat_ms_ / 2));
  int64_t last_cpu = cpu_us(), last_mono = monotonic_us();
  std::string key;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    int64_t now_cpu = cpu_us(), now_mono = monotonic_us();
    // Over at least 100 ms: the first beat follows start-up at once.
    if (now_mono - last_mono >= 100000) {
      self_.cpu_percent = 100.0 * static_cast<double>(now_cpu - last_cpu) /
                          static_cast<double>(now_mono - last_mono);
      last_cpu = now_cpu;
      last_mono = now_mono;
    }
    self_.heartbeat_unix_ms = unix_ms();
    NodeRecord self = self_;
    lock.unlock();  // no lock across network I/O

    key = node_key(self.id);
    store::Status st = connection.connected() ? store::Status::ok() : connection.connect(timeout);
    std::vector<NodeRecord> records;
    if (st.is_ok()) {
      store::RedisReplyPtr reply;
      st = connection.command(
          {"SET", key, encode_node_record(self), "PX", std::to_string(self.ttl_ms)}, &reply);
      if (st.is_ok()) st = read_records(&connection, &records);
    }
    if (!st.is_ok()) connection.disconnect();

    lock.lock();
    connected_ = st.is_ok();
    // Unreachable: keep what was seen, minus the records that have expired since.
    nodes_ = live_nodes(st.is_ok() ? std::move(records) : std::move(nodes_), unix_ms());
    wake_.wait_for(lock, std::chrono::milliseconds(heartbeat_ms_), [this] { return stopping_; });
  }
  lock.unlock();
  if (connection.connected() && !key.empty()) {
    store::RedisReplyPtr reply;
    connection.command({"DEL", key}, &reply);
  }
}

}  // namespace relais::cluster
