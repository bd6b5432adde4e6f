#include "metrics.h"

#include <cstdio>
#include <map>

namespace relais::server {

std::string escape_label(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const char* name, const std::vector<std::pair<const char*, std::string>>& labels,
              double value) {
    text_ += name;
    if (!labels.empty()) {
      text_ += "{";
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) text_ += ",";
        first = false;
        text_ += std::string(k) + "=\"" + escape_label(v) + "\"";
      }
      text_ += "}";
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %.17g\n", value);
    text_ += buf;
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string render_metrics(const std::vector<PipelineStatus>& pipelines,
                           const std::vector<StoreElementStats>& store_elements,
                           std::optional<bool> store_reachable) {
  Writer w;
  std::map<std::string, int> by_state;
  for (PipelineState s : kAllPipelineStates) by_state[pipeline_state_name(s)] = 0;
  for (const auto& p : pipelines) ++by_state[pipeline_state_name(p.state)];
  w.family("relais_pipelines", "gauge", "Pipelines by state.");
  for (const auto& [state, count] : by_state)
    w.sample("relais_pipelines", {{"state", state}}, count);

  w.family("relais_pipeline_up", "gauge", "1 while the pipeline is PLAYING, else 0.");
  for (const auto& p : pipelines) {
    w.sample("relais_pipeline_up", {{"pipeline", p.definition.name}},
             p.state == PipelineState::kPlaying ? 1 : 0);
  }
  w.family("relais_pipeline_restarts_total", "counter", "Restarts of the pipeline.");
  for (const auto& p : pipelines) {
    w.sample("relais_pipeline_restarts_total", {{"pipeline", p.definition.name}}, p.restarts);
  }
  w.family("relais_pipeline_uptime_seconds", "gauge", "Time in PLAYING since the last start.");
  for (const auto& p : pipelines) {
    w.sample("relais_pipeline_uptime_seconds", {{"pipeline", p.definition.name}}, p.uptime_seconds);
  }
  w.family("relais_store_errors_total", "counter",
           "Frame store outages reported by the pipeline's store elements.");
  for (const auto& p : pipelines) {
    w.sample("relais_store_errors_total", {{"pipeline", p.definition.name}},
             static_cast<double>(p.store_errors));
  }

  struct Family {
    const char* name;
    const char* kind;
    const char* help;
    uint64_t StoreElementStats::*field;
  };
  const Family families[] = {
      {"relais_store_sink_frames_total", "sink", "Frames written to the store.",
       &StoreElementStats::frames},
      {"relais_store_sink_bytes_total", "sink", "Payload bytes written to the store.",
       &StoreElementStats::bytes},
      {"relais_store_sink_dropped_total", "sink",
       "Frames that could not be written (store unreachable).", &StoreElementStats::dropped},
      {"relais_store_sink_reconnects_total", "sink", "Reconnections to the store.",
       &StoreElementStats::reconnects},
      {"relais_store_src_frames_total", "src", "Frames read from the store.",
       &StoreElementStats::frames},
      {"relais_store_src_bytes_total", "src", "Payload bytes read from the store.",
       &StoreElementStats::bytes},
      {"relais_store_src_skipped_total", "src",
       "Frames passed over (waiting for a keyframe, or lapped by retention).",
       &StoreElementStats::dropped},
      {"relais_store_src_reconnects_total", "src", "Reconnections to the store.",
       &StoreElementStats::reconnects},
  };
  for (const auto& f : families) {
    w.family(f.name, "counter", f.help);
    for (const auto& e : store_elements) {
      if (e.kind != f.kind) continue;
      w.sample(f.name, {{"pipeline", e.pipeline}, {"element", e.element}, {"stream", e.stream}},
               static_cast<double>(e.*(f.field)));
    }
  }
  if (store_reachable) {
    w.family("relais_store_up", "gauge", "1 if the frame store answered a ping.");
    w.sample("relais_store_up", {}, *store_reachable ? 1 : 0);
  }
  return w.take();
}

}  // namespace relais::server
