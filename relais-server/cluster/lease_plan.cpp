#include "lease_plan.h"

#include <charconv>

#include "placement.h"

namespace relais::cluster {

std::optional<LeaseOwner> parse_lease_owner(const std::string& value) {
  size_t space = value.rfind(' ');
  if (space == std::string::npos || space == 0) return std::nullopt;
  LeaseOwner owner;
  owner.node = value.substr(0, space);
  const char* first = value.data() + space + 1;
  const char* last = value.data() + value.size();
  auto [end, ec] = std::from_chars(first, last, owner.epoch);
  if (ec != std::errc() || end != last || owner.epoch <= 0) return std::nullopt;
  return owner;
}

LeasePlan plan_lease_round(const LeaseRound& round) {
  LeasePlan plan;
  for (const std::string& name : round.held) {
    if (!round.defined.count(name)) plan.release.push_back(name);
  }
  std::map<std::string, NodeLoad> loads;
  for (const NodeRecord& n : round.live_nodes) {
    NodeLoad& l = loads[n.id];
    l.id = n.id;
    l.cpu = n.cpu_percent / 100.0;
  }
  std::vector<std::string> unowned;
  for (const std::string& name : round.defined) {
    auto owner = round.owners.find(name);
    if (owner == round.owners.end()) {
      if (!round.held.count(name)) unowned.push_back(name);
      continue;
    }
    auto load = loads.find(owner->second.node);
    if (load != loads.end() && owner->second.node != round.self) ++load->second.pipelines;
  }
  auto me = loads.find(round.self);
  if (me == loads.end()) return plan;  // not registered yet: claim nothing
  for (const std::string& name : round.held) {
    if (round.defined.count(name)) ++me->second.pipelines;
  }
  std::vector<NodeLoad> nodes;
  for (auto& [id, load] : loads) nodes.push_back(load);
  if (claims_allowed(nodes, round.self, round.defined.size(), unowned.size()) > 0) {
    plan.claim.push_back(unowned.front());
  }
  return plan;
}

}  // namespace relais::cluster
