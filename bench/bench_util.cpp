#include "bench_util.h"

#include <glib/gstdio.h>

#include <cstdio>
#include <regex>
#include <thread>

#include "glib_handles.h"

namespace relais::bench {
namespace {

struct ObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <typename T>
using ObjectPtr = std::unique_ptr<T, ObjectUnref>;

std::string format_value(double v) {
  char buf[64];
  g_snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : "%.3g", v);
  return buf;
}

std::vector<const gchar*> c_argv(const std::vector<std::string>& argv) {
  std::vector<const gchar*> out;
  for (const auto& a : argv) out.push_back(a.c_str());
  out.push_back(nullptr);
  return out;
}

}  // namespace

void print_result(const std::string& metric, const std::string& unit, double relais,
                  const std::string& anchor_label, double anchor, bool higher_is_better) {
  std::printf("BENCH %s %s %s %s %s %d\n", metric.c_str(), unit.c_str(),
              format_value(relais).c_str(), anchor_label.c_str(), format_value(anchor).c_str(),
              higher_is_better ? 1 : 0);
  std::fflush(stdout);
}

int free_loopback_port() {
  ObjectPtr<GSocket> socket(
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr));
  if (!socket) return 0;
  ObjectPtr<GInetAddress> loopback(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  ObjectPtr<GSocketAddress> any(g_inet_socket_address_new(loopback.get(), 0));
  if (!g_socket_bind(socket.get(), any.get(), FALSE, nullptr)) return 0;
  ObjectPtr<GSocketAddress> bound(g_socket_get_local_address(socket.get(), nullptr));
  if (!bound) return 0;
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get()));
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  ObjectPtr<GSocketClient> client(g_socket_client_new());
  while (Clock::now() < deadline) {
    ObjectPtr<GSocketConnection> conn(g_socket_client_connect_to_host(
        client.get(), "127.0.0.1", static_cast<guint16>(port), nullptr, nullptr));
    if (conn) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<std::string> run_capture(const std::vector<std::string>& argv,
                                       const std::string& stdin_path, std::string* error) {
  ObjectPtr<GSubprocessLauncher> launcher(g_subprocess_launcher_new(static_cast<GSubprocessFlags>(
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE)));
  if (!stdin_path.empty())
    g_subprocess_launcher_set_stdin_file_path(launcher.get(), stdin_path.c_str());
  GError* raw = nullptr;
  auto args = c_argv(argv);
  ObjectPtr<GSubprocess> proc(g_subprocess_launcher_spawnv(launcher.get(), args.data(), &raw));
  GErrorPtr err(raw);
  if (!proc) {
    *error = "cannot run " + argv[0] + ": " + err->message;
    return std::nullopt;
  }
  gchar* out = nullptr;
  gchar* errout = nullptr;
  raw = nullptr;
  bool ok = g_subprocess_communicate_utf8(proc.get(), nullptr, nullptr, &out, &errout, &raw);
  GCharPtr out_ptr(out), err_ptr(errout);
  err.reset(raw);
  if (!ok) {
    *error = argv[0] + " failed: " + err->message;
    return std::nullopt;
  }
  if (!g_subprocess_get_successful(proc.get())) {
    *error = argv[0] + " exited with an error: " + (errout ? errout : "") + (out ? out : "");
    return std::nullopt;
  }
  return std::string(out ? out : "");
}

std::optional<double> parse_requests_per_second(const std::string& output) {
  static const std::regex rps(R"(([0-9]+(\.[0-9]+)?) requests per second)");
  std::optional<double> last;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), rps);
       it != std::sregex_iterator(); ++it)
    last = g_ascii_strtod((*it)[1].str().c_str(), nullptr);
  return last;
}

TempDir::TempDir() {
  GCharPtr dir(g_dir_make_tmp("relais-bench-XXXXXX", nullptr));
  if (dir) path_ = dir.get();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (GDir* dir = g_dir_open(path_.c_str(), 0, nullptr)) {
    while (const gchar* name = g_dir_read_name(dir)) g_remove(file(name).c_str());
    g_dir_close(dir);
  }
  g_rmdir(path_.c_str());
}

RedisServer::~RedisServer() {
  stop();
}

bool RedisServer::start(std::string* error) {
  if (dir_.path().empty()) {
    *error = "cannot create a temporary directory for redis-server";
    return false;
  }
  port_ = free_loopback_port();
  std::vector<std::string> argv = {"redis-server", "--port",    std::to_string(port_),
                                   "--bind",       "127.0.0.1", "--dir",
                                   dir_.path(),    "--save",    "",
                                   "--appendonly", "no",        "--daemonize",
                                   "no",           "--logfile", dir_.file("redis.log")};
  auto args = c_argv(argv);
  GError* raw = nullptr;
  process_ = g_subprocess_newv(args.data(), G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &raw);
  GErrorPtr err(raw);
  if (!process_) {
    *error = std::string("cannot start redis-server: ") + err->message;
    return false;
  }
  if (!wait_for_port(port_, std::chrono::seconds(10))) {
    *error = "redis-server did not listen on port " + std::to_string(port_);
    stop();
    return false;
  }
  return true;
}

void RedisServer::stop() {
  if (!process_) return;
  g_subprocess_send_signal(process_, SIGTERM);
  g_subprocess_wait(process_, nullptr, nullptr);
  g_object_unref(process_);
  process_ = nullptr;
}

bool RedisServer::cli(const std::vector<std::string>& args, std::string* error) {
  std::vector<std::string> argv = {"redis-cli", "-p", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, "", error).has_value();
}

}  // namespace relais::bench
