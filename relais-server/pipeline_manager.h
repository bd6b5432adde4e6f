// Runs pipelines from their definitions: starts them, watches their bus,
// restarts them with capped exponential back-off per their restart policy,
// and reports their state. Lives on one GMainContext; call it only there.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backoff.h"
#include "pipeline_definition.h"

namespace relais::server {

enum class PipelineState {
  kStarting,    // built, on its way to PLAYING
  kPlaying,     // running
  kRestarting,  // failed or ended; waiting out the back-off before the next start
  kFailed,      // failed and not restarted (policy, or a description that does not parse)
  kStopped,     // ended (end of stream) and not restarted
  kStopping,    // being removed: draining (EOS sent, waiting for it), then to NULL
};
const char* pipeline_state_name(PipelineState state);
constexpr PipelineState kAllPipelineStates[] = {
    PipelineState::kStarting, PipelineState::kPlaying, PipelineState::kRestarting,
    PipelineState::kFailed,   PipelineState::kStopped, PipelineState::kStopping};

struct PipelineStatus {
  PipelineDefinition definition;
  PipelineState state = PipelineState::kStarting;
  double uptime_seconds = 0;  // time in PLAYING since the last start, 0 otherwise
  uint32_t restarts = 0;
  std::string last_error;      // empty if none
  double next_restart_in = 0;  // seconds, when restarting
  uint64_t store_errors = 0;   // store outages its store elements reported
  uint32_t hangs = 0;          // state changes that did not return in time (watchdog)
};

// Counters of one relaisstoresink or relaisstoresrc.
struct StoreElementStats {
  std::string pipeline;
  std::string element;
  std::string kind;  // "sink" or "src"
  std::string stream;
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t dropped = 0;  // sink: frames not stored; src: frames skipped
  uint64_t reconnects = 0;
};

enum class AddResult { kAdded, kDuplicate, kInvalid, kShuttingDown };

// How long a graceful stop may take: EOS to drain, then each state change.
constexpr int64_t kDefaultStopTimeoutMs = 10000;

class PipelineManager {
 public:
  // `stop_timeout_ms` bounds how long a stopping pipeline may drain (EOS sent,
  // not yet seen on the bus) and how long any state change may take before
  // the pipeline counts as hung.
  explicit PipelineManager(GMainContext* context, BackoffPolicy backoff = {},
                           int64_t stop_timeout_ms = kDefaultStopTimeoutMs);
  ~PipelineManager();
  PipelineManager(const PipelineManager&) = delete;
  PipelineManager& operator=(const PipelineManager&) = delete;

  // Adds a definition and starts it. A name in use is refused (kDuplicate).
  // A description that does not parse is refused with GStreamer's reason
  // (kInvalid), unless keep_unparsable is set: then it is kept in state
  // kFailed so the reason shows in the listing (used for definition files).
  AddResult add(const PipelineDefinition& definition, bool keep_unparsable, std::string* error);
  // Stops a pipeline gracefully and forgets it: a playing pipeline gets EOS
  // and drains (recordings finalise their files and uploads) until EOS or an
  // error reaches the bus, or the stop timeout, then goes to NULL. The name
  // stays taken (state "stopping") until then; `removed` runs on the context
  // once it is gone. False if there is no pipeline of that name.
  // StopMode::kNow skips the drain (a cluster node that lost a lease must stop
  // before the lease can have expired).
  enum class StopMode { kDrain, kNow };
  bool remove(const std::string& name, std::function<void()> removed = {},
              StopMode mode = StopMode::kDrain);
  // Refuses new pipelines (kShuttingDown) and removes every pipeline as
  // remove() does; `done` runs on the context once all are gone.
  void stop_all(std::function<void()> done);
  // Stops every pipeline at once (state NULL, no draining) and forgets them,
  // waiting at most the stop timeout for their state changes.
  void clear();
  // Whether a pipeline was ever abandoned in a hung state change (its thread
  // may still be stuck; the process should not tear GStreamer down).
  bool abandoned_any() const { return abandoned_ > 0; }

  std::vector<PipelineStatus> list() const;
  std::optional<PipelineStatus> get(const std::string& name) const;
  std::vector<StoreElementStats> store_stats() const;

 private:
  struct Entry;
  void start(Entry* entry);
  void on_failure(Entry* entry, const std::string& reason, bool is_error);
  void teardown(Entry* entry);
  // Runs `job` on the entry's worker under the hang watchdog; `then` on the
  // context when it returned (not if the entry is gone or was abandoned).
  void submit(Entry* entry, std::function<void()> job, std::function<void()> then);
  void arm_hang_timer(Entry* entry);
  void on_hung(Entry* entry);
  void finish_stop(Entry* entry);
  void forget(Entry* entry);
  static gboolean on_hang_timeout(gpointer user_data);
  static gboolean on_drain_timeout(gpointer user_data);
  PipelineStatus status_of(const Entry& entry) const;
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer user_data);
  static gboolean on_retry(gpointer user_data);

  GMainContext* context_;
  BackoffPolicy backoff_;
  int64_t stop_timeout_ms_;
  bool closing_ = false;
  uint32_t abandoned_ = 0;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace relais::server
