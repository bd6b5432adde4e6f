// Where a node at its viewer budget (RELAIS_MAX_VIEWERS) sends a new WHEP
// viewer: the decision only, from the registry's node records (no sockets).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "node_record.h"

namespace relais::cluster {

// Whether a node holding `viewers` sessions is at its budget (0 = unlimited).
bool at_viewer_budget(int64_t viewers, int64_t max_viewers);

// The base URL (public_url without a trailing '/') of the live node, other
// than `self_id`, that has room (below its own budget) and the fewest viewers,
// the lowest id first on a tie; "" when no node has room (then the answer is
// 503). `nodes` are the registry's live records.
std::string redirect_base(const std::vector<NodeRecord>& nodes, const std::string& self_id);

}  // namespace relais::cluster
