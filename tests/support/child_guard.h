// No process a test starts may outlive the test program, whether the test
// passes, fails an ASSERT that skips its clean-up, crashes, or is killed.
//
// - install_child_guard() (called by every test main) makes the test program a
//   child subreaper, so servers orphaned by a child that died (Chromium under
//   node, daemons) become its children; at exit and on fatal signals it kills
//   every child it still has.
// - test_launcher() gives children a parent-death signal (SIGTERM), which
//   covers the one case nothing in the program can run: SIGKILL.
#pragma once

#include <gio/gio.h>

namespace relais::test {

void install_child_guard();

// Kills (SIGKILL) every process whose parent is this program, repeatedly until
// none is left (killing one may hand us its children). Async-signal-safe.
void kill_all_children();

// A launcher whose children get SIGTERM when this program dies. The thread
// that spawns must outlive the child (the signal follows the spawning thread):
// start servers from the test's own thread, not from short-lived workers.
GSubprocessLauncher* test_launcher(GSubprocessFlags flags);

}  // namespace relais::test
