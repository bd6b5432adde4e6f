// One lease round of a node, as pure logic (no Redis, no clock): from the
// cluster's pipeline names, the current lease owners and the live nodes,
// which held leases to release and which unowned pipeline to claim.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node_record.h"

namespace relais::cluster {

struct LeaseOwner {
  std::string node;
  int64_t epoch = 0;
};

// The owner key's value "NODE EPOCH" (the node id may contain spaces).
std::optional<LeaseOwner> parse_lease_owner(const std::string& value);

struct LeaseRound {
  std::string self;
  std::set<std::string> defined;             // pipelines defined for the cluster
  std::map<std::string, LeaseOwner> owners;  // current owner of each leased one
  std::vector<NodeRecord> live_nodes;        // the registry's view
  std::set<std::string> held;                // leases this node holds
};

struct LeasePlan {
  std::vector<std::string> release;  // held, but no longer defined
  std::vector<std::string> claim;    // unowned pipelines to claim now (at most one a round)
};

// Claims one pipeline a round at most, so that nodes whose rounds interleave
// see each other's claims and pipelines spread (also while nodes are still
// joining: a node alone in the registry would otherwise take everything). Nodes absent from
// live_nodes do not count; their leases are counted until they expire.
LeasePlan plan_lease_round(const LeaseRound& round);

}  // namespace relais::cluster
