// relais-store-bench: frames/s and MB/s of the frame store through the relais
// elements, each figure next to an anchor measured in the same run:
//   memory://  write + 1 and 8 readers  vs  tee ! queue ! proxysink -> proxysrc
//   redis://   write                    vs  redis-benchmark XADD, same payload, -P 1
//   redis://   1 and 8 readers          vs  redis-benchmark XREAD COUNT 64, same stream
// Payloads of 1 KB, 50 KB and 3 MB. Prints BENCH lines (see bench/run.sh).
//
// Usage: relais-store-bench [--quick] [--only memory|redis] [--plugin-dir DIR]
// The relais plugin is found through GST_PLUGIN_PATH or --plugin-dir.
#include <cstdio>
#include <cstring>

#include "bench_util.h"
#include "store_bench.h"

namespace relais::bench {

std::string bench_appsrc() {
  // An unbounded queue: the frames are references to one buffer, so queueing
  // them all costs nothing, and the streaming thread never waits for the
  // pusher (a bounded queue makes the two threads wake each other per frame).
  return std::string("appsrc name=src format=time caps=") + kBenchCaps +
         " max-bytes=0 max-buffers=0 max-time=0";
}

bool wait_delivered(BufferCounter& counter, const std::vector<Pipeline*>& pipelines,
                    std::string* error) {
  auto deadline = Clock::now() + kCaseTimeout;
  while (!counter.wait_all(std::chrono::milliseconds(100))) {
    for (Pipeline* p : pipelines) {
      if (auto e = p->poll_error()) {
        *error = *e;
        return false;
      }
    }
    if (Clock::now() > deadline) {
      *error = "frames did not all arrive (slowest reader at " +
               std::to_string(counter.min_count()) + ")";
      return false;
    }
  }
  return true;
}

bool best_of(const std::function<std::optional<double>()>& relais,
             const std::function<std::optional<double>()>& anchor, double* relais_best,
             double* anchor_best) {
  constexpr int kMaxRuns = 5;
  constexpr double kCaseBudgetSeconds = 3.0;
  *relais_best = 0;
  *anchor_best = 0;
  auto start = Clock::now();
  for (int run = 0; run < kMaxRuns; ++run) {
    auto r = relais();
    if (!r) return false;
    auto a = anchor();
    if (!a) return false;
    *relais_best = std::max(*relais_best, *r);
    *anchor_best = std::max(*anchor_best, *a);
    if (seconds_since(start) > kCaseBudgetSeconds) break;
  }
  return true;
}

}  // namespace relais::bench

namespace {

struct Options {
  bool quick = false;
  bool memory = true;
  bool redis = true;
};

void usage() {
  std::fprintf(stderr,
               "usage: relais-store-bench [--quick] [--only memory|redis] [--plugin-dir DIR]\n");
}

bool parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--quick") == 0) {
      o->quick = true;
    } else if (std::strcmp(a, "--only") == 0 && i + 1 < argc) {
      std::string what = argv[++i];
      if (what != "memory" && what != "redis") return false;
      o->memory = what == "memory";
      o->redis = what == "redis";
    } else if (std::strcmp(a, "--plugin-dir") == 0 && i + 1 < argc) {
      g_setenv("GST_PLUGIN_PATH", argv[++i], TRUE);
    } else {
      return false;
    }
  }
  return true;
}

std::vector<relais::bench::StoreBenchCase> bench_cases(bool quick) {
  // Frame counts so that each case runs for roughly 0.3-1 s on 2 cores.
  std::vector<relais::bench::StoreBenchCase> cases = {
      {1024, "1KB", 100000, 6000, 20000, 60000, 12800},
      {50 * 1024, "50KB", 100000, 6000, 5000, 5000, 512},
      {3 * 1024 * 1024, "3MB", 100000, 6000, 100, 16, 16},
  };
  if (quick) {
    for (auto& c : cases) {
      c.memory_frames_1 /= 10;
      c.memory_frames_8 /= 10;
      c.redis_write_frames = std::max<uint64_t>(c.redis_write_frames / 10, 30);
      c.redis_read_frames = std::max<uint64_t>(c.redis_read_frames / 10, 8);
      c.redis_read_frames_8 = std::max<uint64_t>(c.redis_read_frames_8 / 10, 8);
    }
  }
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_args(argc, argv, &options)) {
    usage();
    return 2;
  }
  gst_init(nullptr, nullptr);
  for (const char* name : {"relaisstoresink", "relaisstoresrc", "proxysink", "proxysrc"}) {
    relais::GstRef<GstElementFactory> f =
        relais::GstRef<GstElementFactory>::adopt(gst_element_factory_find(name));
    if (!f) {
      std::fprintf(stderr,
                   "relais-store-bench: element '%s' not found; point GST_PLUGIN_PATH (or "
                   "--plugin-dir) at the build's gst-relais directory\n",
                   name);
      return 1;
    }
  }
  auto cases = bench_cases(options.quick);
  std::string error;
  if (options.memory && !relais::bench::run_memory_benches(cases, &error)) {
    std::fprintf(stderr, "relais-store-bench: memory: %s\n", error.c_str());
    return 1;
  }
  if (options.redis && !relais::bench::run_redis_benches(cases, &error)) {
    std::fprintf(stderr, "relais-store-bench: redis: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
