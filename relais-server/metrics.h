// Prometheus text exposition (version 0.0.4) of the server's figures.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipeline_manager.h"

namespace relais::server {

// Another module's metrics, already in exposition format (names prefixed relais_).
using MetricsProvider = std::function<std::string()>;

// Pipelines by state, restarts, uptime, store element counters and store
// errors. store_reachable is empty when the store was not probed.
std::string render_metrics(const std::vector<PipelineStatus>& pipelines,
                           const std::vector<StoreElementStats>& store_elements,
                           std::optional<bool> store_reachable);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label(const std::string& value);

}  // namespace relais::server
