// No server a test starts outlives the test program: a real redis-server,
// started by a small test program (leak_child) that then crashes, is killed
// (SIGTERM, as meson's timeout does, or SIGKILL), forgets to stop it, or
// started it as a daemon, is gone soon after.
#include "child_guard.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace relais::test {
namespace {

// True when `pid` no longer runs (absent, or a zombie: dead but not reaped).
bool gone(int pid) {
  waitpid(pid, nullptr, WNOHANG);  // our child now, if it was orphaned to us
  gchar* stat = nullptr;
  if (!g_file_get_contents(("/proc/" + std::to_string(pid) + "/stat").c_str(), &stat, nullptr,
                           nullptr))
    return true;
  std::string text = stat;
  g_free(stat);
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

bool eventually_gone(int pid) {
  for (int i = 0; i < 1000; ++i) {  // a hang-guard, not a timing requirement
    if (gone(pid)) return true;
    g_usleep(10000);
  }
  return false;
}

struct Started {
  GSubprocess* child = nullptr;
  int server_pid = 0;
};

Started start_leak_child(const std::string& mode) {
  std::string bin = std::string(g_getenv("RELAIS_BUILD_DIR")) + "/tests/relais-leak-child";
  GSubprocessLauncher* launcher = test_launcher(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  GError* err = nullptr;
  Started s;
  s.child = g_subprocess_launcher_spawn(launcher, &err, bin.c_str(), mode.c_str(), nullptr);
  g_object_unref(launcher);
  if (!s.child) {
    ADD_FAILURE() << err->message;
    g_clear_error(&err);
    return s;
  }
  GDataInputStream* out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s.child));
  gchar* line = g_data_input_stream_read_line_utf8(out, nullptr, nullptr, nullptr);
  if (line && g_str_has_prefix(line, "pid ")) s.server_pid = atoi(line + 4);
  g_free(line);
  g_object_unref(out);
  EXPECT_GT(s.server_pid, 0) << "leak child (" << mode << ") printed no pid";
  return s;
}

void finish(Started& s) {
  if (!s.child) return;
  g_subprocess_wait(s.child, nullptr, nullptr);
  g_object_unref(s.child);
  s.child = nullptr;
}

class ChildGuard : public ::testing::TestWithParam<std::string> {};

TEST_P(ChildGuard, ServerStartedByAFailingTestProgramDoesNotOutliveIt) {
  const std::string mode = GetParam();
  Started s = start_leak_child(mode == "sigterm" || mode == "sigkill" ? "wait" : mode);
  ASSERT_GT(s.server_pid, 0);
  // Programs that end by themselves (abort, leak, daemon) may already be gone
  // with their server; the ones killed from here must still be running now.
  if (mode == "sigterm" || mode == "sigkill") {
    ASSERT_FALSE(gone(s.server_pid)) << "redis-server should run while its test program does";
  }
  if (mode == "sigterm") g_subprocess_send_signal(s.child, SIGTERM);
  if (mode == "sigkill") g_subprocess_force_exit(s.child);
  finish(s);
  bool ended = eventually_gone(s.server_pid);
  if (!ended) kill(s.server_pid, SIGKILL);
  EXPECT_TRUE(ended) << "redis-server (pid " << s.server_pid << ") outlived a test program that "
                     << "ended by " << mode;
}

INSTANTIATE_TEST_SUITE_P(Endings, ChildGuard,
                         ::testing::Values("abort", "sigterm", "sigkill", "leak", "daemon"));

}  // namespace
}  // namespace relais::test
