#include "child_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <initializer_list>

namespace relais::test {
namespace {

// Parses "pid (comm) S ppid ..." from /proc/<pid>/stat without allocating.
pid_t parent_of(const char* pid_dir) {
  char path[64] = "/proc/";
  size_t n = 6;
  for (const char* p = pid_dir; *p && n < sizeof path - 6; ++p) path[n++] = *p;
  const char tail[] = "/stat";
  for (const char* p = tail; *p; ++p) path[n++] = *p;
  path[n] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = '\0';
  // comm may contain spaces and parentheses: the state follows the last ')'.
  const char* close_paren = nullptr;
  for (const char* p = buf; *p; ++p)
    if (*p == ')') close_paren = p;
  if (!close_paren || close_paren[1] != ' ' || !close_paren[2] || close_paren[3] != ' ') return -1;
  if (close_paren[2] == 'Z') return -1;  // already dead, waiting to be reaped
  pid_t ppid = 0;
  for (const char* p = close_paren + 4; *p >= '0' && *p <= '9'; ++p) ppid = ppid * 10 + (*p - '0');
  return ppid;
}

// Kills this program's live children once; returns how many it found.
int kill_children_once() {
  int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  pid_t self = getpid();
  int found = 0;
  alignas(8) char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct Entry {
        unsigned long long ino;
        long long off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const auto* e = reinterpret_cast<const Entry*>(buf + off);
      off += e->reclen;
      if (e->name[0] < '1' || e->name[0] > '9' || parent_of(e->name) != self) continue;
      pid_t pid = 0;
      for (const char* p = e->name; *p; ++p) pid = pid * 10 + (*p - '0');
      ++found;
      kill(-pid, SIGKILL);  // its process group, when it leads one
      kill(pid, SIGKILL);
    }
  }
  close(fd);
  return found;
}

void on_fatal_signal(int sig) {
  kill_all_children();
  signal(sig, SIG_DFL);
  raise(sig);
}

void at_exit() {
  kill_all_children();
}

void set_parent_death_signal(gpointer) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

}  // namespace

void kill_all_children() {
  // A killed child's own children are handed to us a moment later.
  for (int round = 0; round < 50 && kill_children_once() > 0; ++round) {
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
}

void install_child_guard() {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
    struct sigaction action = {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
  atexit(at_exit);
}

GSubprocessLauncher* test_launcher(GSubprocessFlags flags) {
  GSubprocessLauncher* launcher = g_subprocess_launcher_new(flags);
  g_subprocess_launcher_set_child_setup(launcher, set_parent_death_signal, nullptr, nullptr);
  return launcher;
}

}  // namespace relais::test
