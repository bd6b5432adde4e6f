// Runs pipelines from their definitions: starts them, watches their bus,
// restarts them with capped exponential back-off per their restart policy,
// and reports their state. Lives on one GMainContext; call it only there.
#pragma once

#include <gst/gst.h>

#include <cstdint>
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
};
const char* pipeline_state_name(PipelineState state);
constexpr PipelineState kAllPipelineStates[] = {PipelineState::kStarting, PipelineState::kPlaying,
                                                PipelineState::kRestarting, PipelineState::kFailed,
                                                PipelineState::kStopped};

struct PipelineStatus {
  PipelineDefinition definition;
  PipelineState state = PipelineState::kStarting;
  double uptime_seconds = 0;  // time in PLAYING since the last start, 0 otherwise
  uint32_t restarts = 0;
  std::string last_error;      // empty if none
  double next_restart_in = 0;  // seconds, when restarting
  uint64_t store_errors = 0;   // store outages its store elements reported
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

enum class AddResult { kAdded, kDuplicate, kInvalid };

class PipelineManager {
 public:
  explicit PipelineManager(GMainContext* context, BackoffPolicy backoff = {});
  ~PipelineManager();
  PipelineManager(const PipelineManager&) = delete;
  PipelineManager& operator=(const PipelineManager&) = delete;

  // Adds a definition and starts it. A name in use is refused (kDuplicate).
  // A description that does not parse is refused with GStreamer's reason
  // (kInvalid), unless keep_unparsable is set: then it is kept in state
  // kFailed so the reason shows in the listing (used for definition files).
  AddResult add(const PipelineDefinition& definition, bool keep_unparsable, std::string* error);
  // Stops and forgets a pipeline. False if there is none of that name.
  bool remove(const std::string& name);
  // Stops every pipeline (state NULL) and forgets them all.
  void clear();

  std::vector<PipelineStatus> list() const;
  std::optional<PipelineStatus> get(const std::string& name) const;
  std::vector<StoreElementStats> store_stats() const;

 private:
  struct Entry;
  void start(Entry* entry);
  void on_failure(Entry* entry, const std::string& reason, bool is_error);
  void teardown(Entry* entry);
  PipelineStatus status_of(const Entry& entry) const;
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer user_data);
  static gboolean on_retry(gpointer user_data);

  GMainContext* context_;
  BackoffPolicy backoff_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace relais::server
