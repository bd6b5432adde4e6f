// Placement: which cluster pipelines this node may claim, from a snapshot of
// live nodes' loads. Pure logic (no Redis, no clock), unit-tested alone.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace relais::cluster {

struct NodeLoad {
  std::string id;
  std::size_t pipelines = 0;  // leases the node holds now
  double cpu = 0.0;           // 0..1, breaks ties between equal pipeline counts
};

// ceil(pipelines / live nodes); 0 when there are no nodes.
std::size_t fair_share(std::size_t pipelines, std::size_t live_nodes);

// How many unowned pipelines node `self` should try to claim now: none while a
// less-loaded node (fewer leases, then lower CPU, then smaller id) exists that
// is still under its fair share, and never past its own fair share.
std::size_t claims_allowed(const std::vector<NodeLoad>& nodes, const std::string& self,
                           std::size_t total_pipelines, std::size_t unowned);

}  // namespace relais::cluster
