// relais-store-bench: frame store throughput through the relais elements,
// side by side with an anchor measured in the same run (see store_bench.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_pipeline.h"

namespace relais::bench {

struct StoreBenchCase {
  size_t size;
  std::string label;         // in metric names: 1KB, 50KB, 3MB
  uint64_t memory_frames_1;  // memory:// with 1 reader (zero-copy: size hardly matters)
  uint64_t memory_frames_8;  // memory:// with 8 readers
  uint64_t redis_write_frames;
  uint64_t redis_read_frames;    // frames in the stream; the 1 reader reads them all
  uint64_t redis_read_frames_8;  // frames each of 8 readers reads from its start
};

inline constexpr int kReaderCounts[] = {1, 8};
inline constexpr auto kCaseTimeout = std::chrono::seconds(60);

// The launch line of the appsrc every write starts with.
std::string bench_appsrc();
// Waits until `counter` has seen every frame on each pad, failing on an
// error posted by any of `pipelines`. Returns false with `error` set.
bool wait_delivered(BufferCounter& counter, const std::vector<Pipeline*>& pipelines,
                    std::string* error);

// Runs `relais` and `anchor` alternately, up to five times each while the
// case has taken less than 3 s, and keeps the best figure of
// each (the machine is shared: the best run is the one least disturbed).
// False (with `error` set by the failing run) when a run fails.
bool best_of(const std::function<std::optional<double>()>& relais,
             const std::function<std::optional<double>()>& anchor, double* relais_best,
             double* anchor_best);

// memory:// with N readers vs tee ! queue ! proxysink -> proxysrc.
bool run_memory_benches(const std::vector<StoreBenchCase>& cases, std::string* error);
// redis:// writes and reads vs redis-benchmark on a redis-server of our own.
bool run_redis_benches(const std::vector<StoreBenchCase>& cases, std::string* error);

}  // namespace relais::bench
