// A test program in miniature for child_guard_test: it starts a real
// redis-server the way suites do, prints its pid, then ends as a broken test
// would (argv[1]): "abort" (a crash), "wait" (until killed from outside),
// "leak" (returns without stopping it, as an ASSERT that skips clean-up does),
// "daemon" (redis-server --daemonize yes: the server's parent exits at once).
#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "child_guard.h"
#include "process.h"
#include "redis_server.h"
#include "temp_dir.h"

using namespace relais::test;

int main(int argc, char** argv) {
  install_child_guard();
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "daemon") {
    auto* dir = new TempDir();  // never deleted: the daemon still runs in it
    std::string pidfile = dir->file("redis.pid");
    Process launcher;
    std::string error;
    if (!launcher.start(
            {"redis-server", "--port", std::to_string(free_loopback_port()), "--bind", "127.0.0.1",
             "--daemonize", "yes", "--pidfile", pidfile, "--dir", dir->path(), "--save", ""},
            "", &error) ||
        !launcher.wait_exit(10000))
      return 2;
    // The pidfile may exist before redis-server has written the pid into it.
    int pid = 0;
    for (int i = 0; i < 500 && pid <= 0; ++i) {
      gchar* text = nullptr;
      if (g_file_get_contents(pidfile.c_str(), &text, nullptr, nullptr)) pid = atoi(text);
      g_free(text);
      if (pid <= 0) g_usleep(10000);
    }
    if (pid <= 0) return 3;
    printf("pid %d\n", pid);
    fflush(stdout);
    return 0;
  }
  auto* redis = new RedisServer();  // never deleted: nothing stops it on the way out
  std::string error;
  if (!redis->start(&error)) {
    fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  printf("pid %d\n", redis->pid());
  fflush(stdout);
  if (mode == "abort") abort();
  if (mode == "wait") pause();
  return 0;
}
