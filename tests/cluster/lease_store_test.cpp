// Leases against a real redis-server: exactly one claimant, epochs only grow,
// renew and release only by the owner, expiry frees the lease.
#include "cluster/lease_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "redis_server.h"

using relais::cluster::LeaseStore;
using relais::store::RedisConnection;
using relais::store::RedisEndpoint;

namespace {
class LeaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(redis_.start(&error)) << error;
    RedisEndpoint ep;
    ep.host = "127.0.0.1";
    ep.port = redis_.port();
    connection_ = std::make_unique<RedisConnection>(ep);
    ASSERT_TRUE(connection_->connect(std::chrono::seconds(5)).is_ok());
  }
  relais::test::RedisServer redis_;
  std::unique_ptr<RedisConnection> connection_;
};
}  // namespace

TEST_F(LeaseStoreTest, OneOwnerAtATimeAndEpochsGrow) {
  LeaseStore leases(connection_.get());
  int64_t a = 0, b = 0;
  ASSERT_TRUE(leases.claim("cam1", "node-a", 60000, &a).is_ok());
  ASSERT_TRUE(leases.claim("cam1", "node-b", 60000, &b).is_ok());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(redis_.cli("GET relais:{lease:cam1}:owner"), "node-a 1");

  bool ours = false;
  ASSERT_TRUE(leases.release("cam1", "node-b", 1, &ours).is_ok());
  EXPECT_FALSE(ours);
  ASSERT_TRUE(leases.release("cam1", "node-a", 1, &ours).is_ok());
  EXPECT_TRUE(ours);
  ASSERT_TRUE(leases.claim("cam1", "node-b", 60000, &b).is_ok());
  EXPECT_EQ(b, 2);
}

TEST_F(LeaseStoreTest, RenewOnlyByOwnerAndExpiryFreesTheLease) {
  LeaseStore leases(connection_.get());
  int64_t epoch = 0;
  ASSERT_TRUE(leases.claim("cam1", "node-a", 300, &epoch).is_ok());
  bool ours = false;
  ASSERT_TRUE(leases.renew("cam1", "node-b", epoch, 60000, &ours).is_ok());
  EXPECT_FALSE(ours);
  ASSERT_TRUE(leases.renew("cam1", "node-a", epoch + 1, 60000, &ours).is_ok());
  EXPECT_FALSE(ours);
  ASSERT_TRUE(leases.renew("cam1", "node-a", epoch, 60000, &ours).is_ok());
  EXPECT_TRUE(ours);
  EXPECT_GT(std::stoll(redis_.cli("PTTL relais:{lease:cam1}:owner")), 1000);

  ASSERT_TRUE(leases.claim("cam2", "node-a", 100, &epoch).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // let it expire
  ASSERT_TRUE(leases.renew("cam2", "node-a", epoch, 60000, &ours).is_ok());
  EXPECT_FALSE(ours);
  int64_t next = 0;
  ASSERT_TRUE(leases.claim("cam2", "node-b", 60000, &next).is_ok());
  EXPECT_EQ(next, epoch + 1);
}

TEST_F(LeaseStoreTest, UnreachableRedisIsAnErrorNotAClaim) {
  LeaseStore leases(connection_.get());
  redis_.stop();
  int64_t epoch = -1;
  EXPECT_FALSE(leases.claim("cam1", "node-a", 1000, &epoch).is_ok());
  bool ours = true;
  EXPECT_FALSE(leases.renew("cam1", "node-a", 1, 1000, &ours).is_ok());
  EXPECT_FALSE(ours);
}
