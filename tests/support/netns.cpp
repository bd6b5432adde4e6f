#include "netns.h"

#include <glib.h>
#include <unistd.h>

#include <cstring>

namespace relais::test {

bool run_command(const std::vector<std::string>& argv, std::string* error) {
  std::vector<const gchar*> args;
  for (const auto& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  gchar* err = nullptr;
  gint status = 0;
  GError* spawn_error = nullptr;
  bool ok = g_spawn_sync(nullptr, const_cast<gchar**>(args.data()), nullptr, G_SPAWN_SEARCH_PATH,
                         nullptr, nullptr, nullptr, &err, &status, &spawn_error) &&
            g_spawn_check_wait_status(status, nullptr);
  if (!ok && error) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    *error = cmd + ": " + (spawn_error ? spawn_error->message : (err ? err : "failed"));
  }
  g_clear_error(&spawn_error);
  g_free(err);
  return ok;
}

NetnsPair::NetnsPair() {
  // Names and a /30 of our own per process, so parallel suites do not meet.
  int id = static_cast<int>(getpid());
  std::string tag = std::to_string(id);
  server_ns_ = "relais-s" + tag;
  viewer_ns_ = "relais-v" + tag;
  std::string net = "10.231." + std::to_string((id / 64) % 256) + ".";
  int base = (id % 64) * 4;
  server_ip_ = net + std::to_string(base + 1);
  viewer_ip_ = net + std::to_string(base + 2);
  std::string veth_s = "rs" + tag, veth_v = "rv" + tag;
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", server_ns_},
      {"ip", "netns", "add", viewer_ns_},
      {"ip", "link", "add", veth_s, "netns", server_ns_, "type", "veth", "peer", "name", veth_v,
       "netns", viewer_ns_},
      // The link is IPv4 only: no tentative IPv6 addresses for libnice to meet.
      {"ip", "netns", "exec", server_ns_, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"},
      {"ip", "netns", "exec", viewer_ns_, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"},
      {"ip", "-n", server_ns_, "addr", "add", server_ip_ + "/30", "dev", veth_s},
      {"ip", "-n", viewer_ns_, "addr", "add", viewer_ip_ + "/30", "dev", veth_v},
      {"ip", "-n", server_ns_, "link", "set", veth_s, "up"},
      {"ip", "-n", viewer_ns_, "link", "set", veth_v, "up"},
      {"ip", "-n", server_ns_, "link", "set", "lo", "up"},
      {"ip", "-n", viewer_ns_, "link", "set", "lo", "up"},
  };
  for (const auto& step : steps) {
    if (!run_command(step, &error_)) return;
  }
  // A new veth has no carrier for about a second, and libnice gathers only on
  // interfaces that are running: wait until both ends are up.
  auto running = [](const std::string& ns, const std::string& dev) {
    gchar* out = nullptr;
    std::string cmd = "ip -n " + ns + " -o link show dev " + dev;
    bool up = g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, nullptr, nullptr) && out &&
              strstr(out, "state UP") != nullptr;
    g_free(out);
    return up;
  };
  for (int i = 0; i < 500; ++i) {  // a hang-guard
    if (running(server_ns_, veth_s) && running(viewer_ns_, veth_v)) return;
    g_usleep(20000);
  }
  error_ = "the veth pair between " + server_ns_ + " and " + viewer_ns_ + " never came up";
}

NetnsPair::~NetnsPair() {
  // Deleting a namespace removes its end of the veth, and so the pair.
  run_command({"ip", "netns", "del", server_ns_}, nullptr);
  run_command({"ip", "netns", "del", viewer_ns_}, nullptr);
}

std::vector<std::string> NetnsPair::in_server(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", server_ns_});
  return argv;
}

std::vector<std::string> NetnsPair::in_viewer(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", viewer_ns_});
  return argv;
}

void NetnsPair::stop_dropping() {
  run_command(in_viewer({"nft", "delete", "table", "inet", "loss"}), nullptr);
}

bool NetnsPair::drop_udp_to_viewer(int percent, std::string* error) {
  auto nft = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "nft");
    return run_command(in_viewer(args), error);
  };
  return nft({"add", "table", "inet", "loss"}) &&
         nft({"add", "chain", "inet", "loss", "in", "{ type filter hook input priority 0 ; }"}) &&
         nft({"add", "rule", "inet", "loss", "in", "udp", "dport", "0-65535", "numgen", "random",
              "mod", "100", "<", std::to_string(percent), "drop"});
}

}  // namespace relais::test
