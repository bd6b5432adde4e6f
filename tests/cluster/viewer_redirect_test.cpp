// The viewer redirect decision without sockets: which node a full node sends
// a new viewer to, and when there is none.
#include "cluster/viewer_redirect.h"

#include <gtest/gtest.h>

namespace relais::cluster {
namespace {

NodeRecord node(const std::string& id, int64_t viewers, int64_t max_viewers,
                const std::string& url = "") {
  NodeRecord n;
  n.id = id;
  n.public_url = url.empty() ? "http://" + id + ":8080" : url;
  n.viewers = viewers;
  n.max_viewers = max_viewers;
  return n;
}

TEST(ViewerRedirect, BudgetZeroIsUnlimited) {
  EXPECT_FALSE(at_viewer_budget(0, 0));
  EXPECT_FALSE(at_viewer_budget(100000, 0));
  EXPECT_FALSE(at_viewer_budget(0, 1));
  EXPECT_TRUE(at_viewer_budget(1, 1));
  EXPECT_TRUE(at_viewer_budget(7, 5));
}

TEST(ViewerRedirect, PicksTheLeastLoadedOtherNodeWithRoom) {
  std::vector<NodeRecord> nodes = {node("a", 1, 1), node("b", 3, 10), node("c", 2, 10)};
  EXPECT_EQ(redirect_base(nodes, "a"), "http://c:8080");
  nodes[2].viewers = 10;  // c is full now
  EXPECT_EQ(redirect_base(nodes, "a"), "http://b:8080");
}

TEST(ViewerRedirect, NeverItself) {
  EXPECT_EQ(redirect_base({node("a", 0, 5)}, "a"), "");
  EXPECT_EQ(redirect_base({node("a", 0, 0), node("b", 4, 0)}, "a"), "http://b:8080");
}

TEST(ViewerRedirect, UnlimitedNodesHaveRoomAndTiesGoToTheLowestId) {
  EXPECT_EQ(redirect_base({node("a", 1, 1), node("c", 5, 0), node("b", 5, 0)}, "a"),
            "http://b:8080");
}

TEST(ViewerRedirect, EmptyWhenEveryOtherNodeIsFullOrUnreachable) {
  EXPECT_EQ(redirect_base({}, "a"), "");
  EXPECT_EQ(redirect_base({node("a", 1, 1), node("b", 2, 2), node("c", 9, 3)}, "a"), "");
  NodeRecord no_url = node("b", 0, 0);
  no_url.public_url.clear();
  EXPECT_EQ(redirect_base({node("a", 1, 1), no_url}, "a"), "");
}

TEST(ViewerRedirect, BaseHasNoTrailingSlash) {
  EXPECT_EQ(redirect_base({node("b", 0, 0, "https://b.example/")}, "a"), "https://b.example");
}

TEST(ViewerRedirect, TheBudgetTravelsInTheRecord) {
  NodeRecord n = node("a", 2, 7);
  auto back = decode_node_record(encode_node_record(n));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->max_viewers, 7);
  EXPECT_EQ(back->viewers, 2);
}

}  // namespace
}  // namespace relais::cluster
