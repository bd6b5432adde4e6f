// redis:// writes and reads through the relais elements, against
// redis-benchmark sending the same commands with the same payload to the same
// redis-server (one we start ourselves).
#include <gst/app/gstappsrc.h>

#include "bench_util.h"
#include "redis_schema.h"
#include "store_bench.h"

namespace relais::bench {
namespace {

// Frames read per XREAD by the relais reader (storage/redis_reader.cpp).
constexpr uint64_t kReadCount = 64;
// Retention of the write benchmark, on both sides.
constexpr uint64_t kWriteRetention = 600;
// redis-benchmark runs shorter than this are repeated with more requests.
constexpr double kMinAnchorSeconds = 0.3;

// Runs redis-benchmark with `requests`, growing it until a run lasts long
// enough to be measured.
std::optional<double> redis_benchmark(const RedisServer& redis, int clients, uint64_t requests,
                                      const std::vector<std::string>& command,
                                      const std::string& stdin_path, std::string* error) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<std::string> argv = {"redis-benchmark",
                                     "-p",
                                     std::to_string(redis.port()),
                                     "-c",
                                     std::to_string(clients),
                                     "-P",
                                     "1",
                                     "-n",
                                     std::to_string(requests),
                                     "-q"};
    if (!stdin_path.empty()) argv.push_back("-x");
    argv.insert(argv.end(), command.begin(), command.end());
    auto start = Clock::now();
    auto out = run_capture(argv, stdin_path, error);
    double elapsed = seconds_since(start);
    if (!out) return std::nullopt;
    auto rps = parse_requests_per_second(*out);
    if (!rps || *rps <= 0) {
      *error = "no requests-per-second figure in redis-benchmark's output: " + *out;
      return std::nullopt;
    }
    if (elapsed >= kMinAnchorSeconds) return rps;
    requests = static_cast<uint64_t>(static_cast<double>(requests) * 2 * kMinAnchorSeconds /
                                     std::max(elapsed, 0.01)) +
               1;
  }
  *error = "redis-benchmark runs stay too short to measure";
  return std::nullopt;
}

// appsrc ! relaisstoresink: frames/s from the first push to EOS.
// `retention` holds relaisstoresink's max-frames (and max-age, max-bytes) settings.
std::optional<double> write_stream(const RedisServer& redis, const std::string& stream,
                                   const Payload& payload, uint64_t frames,
                                   const std::string& retention, std::string* error) {
  auto p = Pipeline::launch(bench_appsrc() + " ! relaisstoresink name=sink store=" + redis.uri() +
                                " stream=" + stream + " sync=false " + retention,
                            error);
  if (!p || !p->play(error)) return std::nullopt;
  ElementRef src = p->element("src");
  auto start = Clock::now();
  if (!push_frames(GST_APP_SRC(src.get()), payload, frames, error)) return std::nullopt;
  if (!p->wait_eos(kCaseTimeout, error)) return std::nullopt;
  double fps = static_cast<double>(frames) / seconds_since(start);
  GstStructure* raw = nullptr;
  g_object_get(p->element("sink").get(), "stats", &raw, nullptr);
  StructurePtr stats(raw);
  guint64 written = 0, dropped = 0;
  gst_structure_get_uint64(stats.get(), "frames", &written);
  gst_structure_get_uint64(stats.get(), "dropped", &dropped);
  if (written != frames || dropped != 0) {
    *error = "relaisstoresink stored " + std::to_string(written) + " of " + std::to_string(frames) +
             " frames (" + std::to_string(dropped) + " dropped)";
    return std::nullopt;
  }
  return fps;
}

// N x relaisstoresrc start=earliest num-buffers=F ! fakesink, all at once:
// frames/s per reader from PLAYING until the last one ends.
std::optional<double> read_stream(const RedisServer& redis, const std::string& stream, int readers,
                                  uint64_t frames, std::string* error) {
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  for (int i = 0; i < readers; ++i) {
    auto p = Pipeline::launch("relaisstoresrc store=" + redis.uri() + " stream=" + stream +
                                  " start=earliest timestamps=original num-buffers=" +
                                  std::to_string(frames) + " ! fakesink sync=false async=false",
                              error);
    if (!p) return std::nullopt;
    pipelines.push_back(std::move(p));
  }
  auto start = Clock::now();
  for (auto& p : pipelines)
    if (!p->play(error)) return std::nullopt;
  for (auto& p : pipelines)
    if (!p->wait_eos(kCaseTimeout, error)) return std::nullopt;
  return static_cast<double>(frames) / seconds_since(start);
}

bool bench_write(RedisServer& redis, const StoreBenchCase& c, const Payload& payload,
                 const std::string& payload_file, std::string* error) {
  std::string stream = "w" + std::to_string(c.size);
  auto relais = [&]() {
    redis.cli({"DEL", store::redis_schema::frames_key(stream)}, error);
    return write_stream(redis, stream, payload, c.redis_write_frames,
                        "max-bytes=0 max-frames=" + std::to_string(kWriteRetention), error);
  };
  // One XADD per round trip (-P 1), as relaisstoresink does: it pipelines
  // only the occasional HSET/ZADD of the stream's metadata with its XADD.
  auto anchor = [&]() {
    redis.cli({"DEL", "benchkey"}, error);
    return redis_benchmark(
        redis, 1, c.redis_write_frames,
        {"XADD", "benchkey", "MAXLEN", "~", std::to_string(kWriteRetention), "*", "d"},
        payload_file, error);
  };
  double relais_fps = 0, anchor_fps = 0;
  if (!best_of(relais, anchor, &relais_fps, &anchor_fps)) return false;
  redis.cli({"DEL", "benchkey", store::redis_schema::frames_key(stream)}, error);
  std::string metric = "store_redis_write_" + c.label;
  print_result(metric, "frames_per_s", relais_fps, "redis-benchmark_XADD_P1", anchor_fps);
  double mb = static_cast<double>(c.size) / 1e6;
  print_result(metric + "_MBps", "MB_per_s", relais_fps * mb, "redis-benchmark_XADD_P1",
               anchor_fps * mb);
  return true;
}

bool bench_read(RedisServer& redis, const StoreBenchCase& c, const Payload& payload,
                std::string* error) {
  std::string stream = "r" + std::to_string(c.size);
  uint64_t frames = c.redis_read_frames;
  // Everything stays: every reader reads all `frames` from the start.
  if (!write_stream(redis, stream, payload, frames,
                    "max-age=0 max-bytes=0 max-frames=" + std::to_string(frames + 1), error))
    return false;
  // Entries one XREAD returns (the stream may hold fewer than the reader asks for).
  const uint64_t per_request = std::min(kReadCount, frames);
  for (int readers : kReaderCounts) {
    // Whole XREADs: the relais reader fetches a full one even for its last frames.
    uint64_t count = readers == 1 ? frames : std::min(c.redis_read_frames_8, frames);
    count = std::max<uint64_t>(count / per_request, 1) * per_request;
    auto relais = [&]() { return read_stream(redis, stream, readers, count, error); };
    // The relais reader's own command, from the start of the same stream:
    // XREAD COUNT 64 returns the same entries (payload, flags, timestamps).
    auto anchor = [&]() -> std::optional<double> {
      uint64_t requests = count / per_request * readers;
      auto rps = redis_benchmark(redis, readers, requests,
                                 {"XREAD", "COUNT", std::to_string(kReadCount), "STREAMS",
                                  store::redis_schema::frames_key(stream), "0-0"},
                                 "", error);
      if (!rps) return std::nullopt;
      return *rps * static_cast<double>(per_request) / readers;
    };
    double relais_fps = 0, anchor_fps = 0;
    if (!best_of(relais, anchor, &relais_fps, &anchor_fps)) return false;
    std::string metric = "store_redis_read" + std::to_string(readers) + "_" + c.label;
    print_result(metric, "frames_per_s_per_reader", relais_fps, "redis-benchmark_XREAD_COUNT64",
                 anchor_fps);
    double mb = static_cast<double>(c.size) / 1e6;
    print_result(metric + "_MBps", "MB_per_s_per_reader", relais_fps * mb,
                 "redis-benchmark_XREAD_COUNT64", anchor_fps * mb);
  }
  redis.cli({"DEL", store::redis_schema::frames_key(stream)}, error);
  return true;
}

}  // namespace

bool run_redis_benches(const std::vector<StoreBenchCase>& cases, std::string* error) {
  RedisServer redis;
  if (!redis.start(error)) return false;
  TempDir dir;
  for (const auto& c : cases) {
    Payload payload(c.size, c.label);
    std::string payload_file = dir.file("payload-" + c.label);
    if (!payload.write_to(payload_file)) {
      *error = "cannot write " + payload_file;
      return false;
    }
    if (!bench_write(redis, c, payload, payload_file, error)) return false;
    if (!bench_read(redis, c, payload, error)) return false;
  }
  return true;
}

}  // namespace relais::bench
