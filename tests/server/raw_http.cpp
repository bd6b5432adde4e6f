#include "raw_http.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstdlib>

namespace relais::test {
namespace {

RawResponse parse(const std::string& data) {
  RawResponse r;
  size_t header_end = data.find("\r\n\r\n");
  if (data.compare(0, 9, "HTTP/1.1 ") != 0 || header_end == std::string::npos) return r;
  r.status = std::atoi(data.c_str() + 9);
  size_t pos = data.find("\r\n") + 2;
  while (pos < header_end) {
    size_t eol = data.find("\r\n", pos);
    std::string line = data.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(g_ascii_tolower(c));
      size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = eol + 2;
  }
  r.body = data.substr(header_end + 4);
  auto te = r.headers.find("transfer-encoding");
  if (te != r.headers.end() && te->second == "chunked") {
    std::string decoded;
    size_t p = 0;
    while (p < r.body.size()) {
      size_t eol = r.body.find("\r\n", p);
      if (eol == std::string::npos) break;
      size_t n = std::strtoul(r.body.substr(p, eol - p).c_str(), nullptr, 16);
      if (n == 0) break;
      decoded += r.body.substr(eol + 2, n);
      p = eol + 2 + n + 2;
    }
    r.body = decoded;
  }
  return r;
}

}  // namespace

RawResponse raw_exchange(int port, const std::string& request, int timeout_ms,
                         const std::string& host) {
  GSocketClient* client = g_socket_client_new();
  g_socket_client_set_timeout(client, static_cast<guint>((timeout_ms + 999) / 1000));
  GSocketConnection* conn = g_socket_client_connect_to_host(
      client, host.c_str(), static_cast<guint16>(port), nullptr, nullptr);
  g_object_unref(client);
  if (!conn) return {};
  GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  gsize written = 0;
  // The server may answer (413) and close before everything is sent.
  g_output_stream_write_all(out, request.data(), request.size(), &written, nullptr, nullptr);
  std::string data;
  char buf[16384];
  for (;;) {
    gssize n = g_input_stream_read(in, buf, sizeof(buf), nullptr, nullptr);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  g_io_stream_close(G_IO_STREAM(conn), nullptr, nullptr);
  g_object_unref(conn);
  return parse(data);
}

RawResponse http_request(int port, const std::string& method, const std::string& path,
                         const std::string& body, const std::map<std::string, std::string>& headers,
                         const std::string& host) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return raw_exchange(port, req, 10000, host);
}

std::string non_loopback_address() {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::string found;
  for (struct ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK)) {
      continue;
    }
    char text[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<struct sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text))) found = text;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace relais::test
