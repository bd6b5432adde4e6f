// A child process (a real server the test needs), killed when the handle dies.
#pragma once

#include <gio/gio.h>

#include <string>
#include <vector>

namespace relais::test {

class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { stop(); }

  // Starts argv[0] (looked up in PATH) with the given arguments; output goes to
  // `log_path` when set, else is discarded. Returns false with `error` set.
  bool start(const std::vector<std::string>& argv, const std::string& log_path, std::string* error);
  // Waits for the process to exit on its own; true with its exit status when it
  // did within the timeout.
  bool wait_exit(int timeout_ms, int* exit_status = nullptr);
  // Sends SIGTERM, waits up to 5 s, then SIGKILL.
  void stop();
  // Sends SIGKILL and waits.
  void kill();
  bool running() const;
  // The child's process id, or 0 when it is not running.
  int pid() const;

 private:
  GSubprocess* proc_ = nullptr;
};

}  // namespace relais::test
