#include "turn_server.h"

#include <glib.h>

#include <cstring>

namespace relais::test {

bool TurnServer::start(const std::string& user, const std::string& password, std::string* error) {
  port_ = free_loopback_port();
  std::string err;
  // TCP and UDP on the same port; relays on loopback too, no TLS/DTLS listeners,
  // no CLI or Prometheus ports, no system files (log, pid, database) touched.
  bool ok = process_.start(
      {"turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
       "--listening-port=" + std::to_string(port_), "--min-port=49152", "--max-port=65535",
       "--lt-cred-mech", "--user=" + user + ":" + password, "--realm=relais.test", "--no-tls",
       "--no-dtls", "--no-cli", "--allow-loopback-peers", "--log-file=" + dir_.file("turn.log"),
       "--simple-log", "--pidfile=" + dir_.file("turn.pid"), "--db=" + dir_.file("turn.db"),
       "--verbose"},
      dir_.file("turnserver.out"), &err);
  if (!ok) {
    if (error) *error = "cannot start turnserver (coturn): " + err;
    return false;
  }
  if (!wait_for_port(port_, 10000)) {
    if (error) *error = "turnserver did not listen on port " + std::to_string(port_);
    return false;
  }
  return true;
}

int TurnServer::allocations() const {
  gchar* text = nullptr;
  if (!g_file_get_contents(dir_.file("turn.log").c_str(), &text, nullptr, nullptr)) return 0;
  int n = 0;
  for (const char* p = text; (p = strstr(p, "ALLOCATE processed, success")); ++p) ++n;
  g_free(text);
  return n;
}

}  // namespace relais::test
