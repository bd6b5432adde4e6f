// main() for GStreamer test programs: initialises GStreamer once, and makes
// sure no process a test starts outlives the program (child_guard.h).
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "child_guard.h"

int main(int argc, char** argv) {
  relais::test::install_child_guard();
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
