#include "process.h"

#include <csignal>
#include <cstdlib>

#include "child_guard.h"

namespace relais::test {

bool Process::start(const std::vector<std::string>& argv, const std::string& log_path,
                    std::string* error) {
  stop();
  GSubprocessLauncher* launcher = test_launcher(static_cast<GSubprocessFlags>(
      G_SUBPROCESS_FLAGS_STDIN_INHERIT |
      (log_path.empty() ? G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE
                        : G_SUBPROCESS_FLAGS_STDERR_MERGE)));
  if (!log_path.empty()) g_subprocess_launcher_set_stdout_file_path(launcher, log_path.c_str());
  std::vector<const gchar*> args;
  for (const auto& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  GError* err = nullptr;
  proc_ = g_subprocess_launcher_spawnv(launcher, args.data(), &err);
  g_object_unref(launcher);
  if (!proc_) {
    if (error) *error = err ? err->message : "spawn failed";
    g_clear_error(&err);
    return false;
  }
  return true;
}

bool Process::running() const {
  // The identifier is NULL once the child has exited and been reaped.
  return proc_ && g_subprocess_get_identifier(proc_) != nullptr;
}

int Process::pid() const {
  const gchar* id = proc_ ? g_subprocess_get_identifier(proc_) : nullptr;
  return id ? atoi(id) : 0;
}

bool Process::wait_exit(int timeout_ms, int* exit_status) {
  if (!proc_) return false;
  for (int waited = 0; waited < timeout_ms && g_subprocess_get_identifier(proc_) != nullptr;
       waited += 10)
    g_usleep(10000);
  if (g_subprocess_get_identifier(proc_) != nullptr) return false;
  g_subprocess_wait(proc_, nullptr, nullptr);
  if (exit_status) *exit_status = g_subprocess_get_exit_status(proc_);
  return true;
}

void Process::stop() {
  if (!proc_) return;
  g_subprocess_send_signal(proc_, SIGTERM);
  // GLib reaps the child on its worker thread; the identifier goes away then.
  for (int i = 0; i < 500 && g_subprocess_get_identifier(proc_) != nullptr; ++i) g_usleep(10000);
  if (g_subprocess_get_identifier(proc_) != nullptr) g_subprocess_force_exit(proc_);
  g_subprocess_wait(proc_, nullptr, nullptr);
  g_object_unref(proc_);
  proc_ = nullptr;
}

void Process::kill() {
  if (!proc_) return;
  g_subprocess_force_exit(proc_);
  g_subprocess_wait(proc_, nullptr, nullptr);
  g_object_unref(proc_);
  proc_ = nullptr;
}

}  // namespace relais::test
