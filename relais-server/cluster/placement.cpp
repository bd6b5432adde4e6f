#include "placement.h"

#include <algorithm>
#include <tuple>

namespace relais::cluster {

std::size_t fair_share(std::size_t pipelines, std::size_t live_nodes) {
  if (live_nodes == 0) return 0;
  return (pipelines + live_nodes - 1) / live_nodes;
}

namespace {
bool less_loaded(const NodeLoad& a, const NodeLoad& b) {
  return std::tie(a.pipelines, a.cpu, a.id) < std::tie(b.pipelines, b.cpu, b.id);
}
}  // namespace

std::size_t claims_allowed(const std::vector<NodeLoad>& nodes, const std::string& self,
                           std::size_t total_pipelines, std::size_t unowned) {
  auto me =
      std::find_if(nodes.begin(), nodes.end(), [&](const NodeLoad& n) { return n.id == self; });
  if (me == nodes.end() || unowned == 0) return 0;
  const std::size_t share = fair_share(total_pipelines, nodes.size());
  if (me->pipelines >= share) return 0;
  for (const NodeLoad& other : nodes) {
    if (other.id != self && other.pipelines < share && less_loaded(other, *me)) return 0;
  }
  return std::min(unowned, share - me->pipelines);
}

}  // namespace relais::cluster
