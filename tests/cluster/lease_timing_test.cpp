#include "cluster/lease_timing.h"

#include <gtest/gtest.h>

using relais::cluster::LeaseTiming;

TEST(LeaseTiming, RenewsEveryThirdOfTtl) {
  LeaseTiming lease(1200);
  EXPECT_FALSE(lease.renew_due(0));
  lease.confirmed(1000);
  EXPECT_FALSE(lease.renew_due(1399));
  EXPECT_TRUE(lease.renew_due(1400));
  lease.confirmed(1400);
  EXPECT_FALSE(lease.renew_due(1799));
}

TEST(LeaseTiming, StopsBeforeRedisCanExpireIt) {
  LeaseTiming lease(1200);
  lease.confirmed(1000);  // Redis expires it at 1000 + 1200 at the earliest
  EXPECT_FALSE(lease.must_stop(1899));
  EXPECT_TRUE(lease.must_stop(1900));
  EXPECT_LT(lease.stop_deadline_ms(), 1000 + 1200);
}

TEST(LeaseTiming, LateConfirmationOfAnOldRequestDoesNotExtend) {
  LeaseTiming lease(1200);
  lease.confirmed(2000);
  lease.confirmed(1500);  // reply to an earlier request arriving late
  EXPECT_EQ(lease.stop_deadline_ms(), 2000 + 900);
}

TEST(LeaseTiming, ReleasedLeaseNeedsNothing) {
  LeaseTiming lease(1200);
  lease.confirmed(0);
  lease.released();
  EXPECT_FALSE(lease.renew_due(5000));
  EXPECT_FALSE(lease.must_stop(5000));
}
