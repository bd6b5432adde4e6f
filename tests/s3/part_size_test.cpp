// The part-size schedule: the first parts are the configured size, no part
// is outside S3's limits, and 10,000 parts hold S3's largest object.
#include <gtest/gtest.h>

#include "part_size.h"

using relais::s3::kMaxObjectSize;
using relais::s3::kMaxParts;
using relais::s3::kMaxPartSize;
using relais::s3::kMinPartSize;
using relais::s3::part_size_for;

namespace {

constexpr guint64 kMiB = 1ull << 20;

TEST(PartSize, TenThousandPartsHoldFiveTiBForEveryAllowedBase) {
  for (guint64 base : {kMinPartSize, 6 * kMiB, 8 * kMiB, 64 * kMiB, 100 * kMiB + 1, 1024 * kMiB,
                       4608 * kMiB, kMaxPartSize}) {
    guint64 sum = 0;
    guint64 previous = 0;
    for (int n = 1; n <= kMaxParts; ++n) {
      guint64 size = part_size_for(n, base);
      EXPECT_LE(size, kMaxPartSize) << "base " << base << " part " << n;
      EXPECT_GE(size, kMinPartSize) << "base " << base << " part " << n;
      EXPECT_GE(size, previous) << "base " << base << " part " << n;
      if (n <= 900) {
        EXPECT_EQ(size, base) << "base " << base << " part " << n;
      }
      previous = size;
      sum += size;
    }
    EXPECT_GE(sum, kMaxObjectSize) << "base " << base;
  }
}

TEST(PartSize, DoublesEveryStepUpToTheMaximum) {
  EXPECT_EQ(part_size_for(900, kMinPartSize), kMinPartSize);
  EXPECT_EQ(part_size_for(901, kMinPartSize), 2 * kMinPartSize);
  EXPECT_EQ(part_size_for(1801, kMinPartSize), 4 * kMinPartSize);
  EXPECT_EQ(part_size_for(9001, kMinPartSize), kMaxPartSize);
  EXPECT_EQ(part_size_for(kMaxParts, kMinPartSize), kMaxPartSize);
  EXPECT_EQ(part_size_for(3, kMinPartSize, 2), 2 * kMinPartSize);
  EXPECT_EQ(part_size_for(1000000, kMinPartSize, 1), kMaxPartSize);  // no overflow
}

}  // namespace
