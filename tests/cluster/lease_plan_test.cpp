// One lease round's decisions without Redis: spread, failover of a dead
// node's pipelines, release of deleted ones.
#include "cluster/lease_plan.h"

#include <gtest/gtest.h>

using namespace relais::cluster;

namespace {

NodeRecord node(const std::string& id, double cpu = 0) {
  NodeRecord r;
  r.id = id;
  r.cpu_percent = cpu;
  return r;
}

LeaseRound round_of(const std::string& self, std::set<std::string> defined) {
  LeaseRound r;
  r.self = self;
  r.defined = std::move(defined);
  r.live_nodes = {node("a"), node("b"), node("c")};
  return r;
}

// Runs rounds of a, b, c in turn, as interleaved nodes would, applying
// their claims, until nobody claims.
std::map<std::string, int> settle(std::set<std::string> defined,
                                  std::map<std::string, LeaseOwner> owners) {
  for (bool claimed = true; claimed;) {
    claimed = false;
    for (const char* self : {"a", "b", "c"}) {
      LeaseRound r = round_of(self, defined);
      r.owners = owners;
      for (auto& [name, o] : owners)
        if (o.node == self) r.held.insert(name);
      for (const auto& name : plan_lease_round(r).claim) {
        EXPECT_FALSE(owners.count(name));
        owners[name] = {self, 1};
        claimed = true;
      }
    }
  }
  std::map<std::string, int> per_node;
  for (auto& [name, o] : owners) ++per_node[o.node];
  return per_node;
}

}  // namespace

TEST(LeasePlan, ParsesOwnerValues) {
  auto o = parse_lease_owner("host name:8080 42");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->node, "host name:8080");
  EXPECT_EQ(o->epoch, 42);
  EXPECT_FALSE(parse_lease_owner("node"));
  EXPECT_FALSE(parse_lease_owner("node x"));
  EXPECT_FALSE(parse_lease_owner(" 3"));
  EXPECT_FALSE(parse_lease_owner("node 0"));
}

TEST(LeasePlan, FourPipelinesSpreadOverThreeNodes) {
  auto per_node = settle({"p1", "p2", "p3", "p4"}, {});
  int total = 0;
  for (auto& [id, n] : per_node) {
    EXPECT_LE(n, 2) << id;
    EXPECT_GE(n, 1) << id;
    total += n;
  }
  EXPECT_EQ(total, 4);
}

TEST(LeasePlan, OneClaimPerRoundAndNoneWhileALessLoadedNodeHasRoom) {
  LeaseRound r = round_of("b", {"p1", "p2", "p3"});
  EXPECT_TRUE(plan_lease_round(r).claim.empty());  // a (same load, smaller id) goes first
  r.self = "a";
  EXPECT_EQ(plan_lease_round(r).claim, std::vector<std::string>{"p1"});
}

TEST(LeasePlan, DeadNodesPipelinesAreTakenOverOnceItsLeasesExpire) {
  // c died: its record and leases expired; a and b hold one each.
  std::map<std::string, LeaseOwner> owners = {{"p1", {"a", 1}}, {"p2", {"b", 1}}};
  LeaseRound r = round_of("a", {"p1", "p2", "p3", "p4"});
  r.live_nodes = {node("a"), node("b")};
  r.owners = owners;
  r.held = {"p1"};
  EXPECT_EQ(plan_lease_round(r).claim, std::vector<std::string>{"p3"});
  // While c's lease on p4 has not expired, p4 is not claimable.
  r.owners["p4"] = {"c", 3};
  r.owners["p3"] = {"a", 2};
  r.held = {"p1", "p3"};
  EXPECT_TRUE(plan_lease_round(r).claim.empty());
}

TEST(LeasePlan, UnregisteredNodeClaimsNothing) {
  LeaseRound r = round_of("d", {"p1"});
  EXPECT_TRUE(plan_lease_round(r).claim.empty());
}

TEST(LeasePlan, ReleasesHeldLeasesOfDeletedPipelines) {
  LeaseRound r = round_of("a", {"p1"});
  r.owners = {{"p1", {"a", 1}}, {"gone", {"a", 2}}};
  r.held = {"p1", "gone"};
  LeasePlan plan = plan_lease_round(r);
  EXPECT_EQ(plan.release, std::vector<std::string>{"gone"});
  EXPECT_TRUE(plan.claim.empty());
}
