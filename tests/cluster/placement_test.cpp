#include "cluster/placement.h"

#include <gtest/gtest.h>

using relais::cluster::claims_allowed;
using relais::cluster::fair_share;
using relais::cluster::NodeLoad;

TEST(Placement, FairShareIsCeiling) {
  EXPECT_EQ(fair_share(4, 3), 2u);
  EXPECT_EQ(fair_share(3, 3), 1u);
  EXPECT_EQ(fair_share(0, 3), 0u);
  EXPECT_EQ(fair_share(5, 0), 0u);
}

TEST(Placement, LeastLoadedClaimsFirst) {
  std::vector<NodeLoad> nodes{{"a", 1, 0.1}, {"b", 0, 0.5}, {"c", 0, 0.2}};
  EXPECT_EQ(claims_allowed(nodes, "c", 4, 3), 2u);
  EXPECT_EQ(claims_allowed(nodes, "b", 4, 3), 0u);
  EXPECT_EQ(claims_allowed(nodes, "a", 4, 3), 0u);
}

TEST(Placement, NoNodePastItsFairShare) {
  std::vector<NodeLoad> nodes{{"a", 2, 0.0}, {"b", 1, 0.0}, {"c", 1, 0.0}};
  EXPECT_EQ(claims_allowed(nodes, "a", 5, 1), 0u);
  EXPECT_EQ(claims_allowed(nodes, "b", 5, 1), 1u);
}

TEST(Placement, UnknownNodeOrNothingUnownedClaimsNothing) {
  std::vector<NodeLoad> nodes{{"a", 0, 0.0}};
  EXPECT_EQ(claims_allowed(nodes, "z", 1, 1), 0u);
  EXPECT_EQ(claims_allowed(nodes, "a", 1, 0), 0u);
  EXPECT_EQ(claims_allowed(nodes, "a", 1, 1), 1u);
}
