// The epoch reaches every relaisstoresink of a launch description, and
// nothing else (quoted text, property values, other element names).
#include "cluster/fenced_launch.h"

#include <gtest/gtest.h>

using relais::cluster::fenced_launch;

TEST(FencedLaunch, EverySinkGetsTheEpoch) {
  EXPECT_EQ(fenced_launch("videotestsrc ! relaisstoresink stream=a", 7),
            "videotestsrc ! relaisstoresink fence-epoch=7 stream=a");
  EXPECT_EQ(fenced_launch("relaisstoresink", 1), "relaisstoresink fence-epoch=1");
  EXPECT_EQ(fenced_launch("t. ! relaisstoresink stream=a t. ! queue !relaisstoresink stream=b", 3),
            "t. ! relaisstoresink fence-epoch=3 stream=a t. ! queue !relaisstoresink fence-epoch=3 "
            "stream=b");
}

TEST(FencedLaunch, LeavesEverythingElseAlone) {
  for (const char* launch : {"relaisstoresrc stream=a ! fakesink", "fakesink name=relaisstoresink",
                             "textoverlay text=\"relaisstoresink \\\" relaisstoresink\" ! fakesink",
                             "relaisstoresinkx ! fakesink", "my-relaisstoresink ! fakesink"}) {
    EXPECT_EQ(fenced_launch(launch, 5), launch);
  }
}
