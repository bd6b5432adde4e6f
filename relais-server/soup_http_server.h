// The libsoup 3 transport: a SoupServer on the main context that turns each
// request into an HttpRequest, dispatches it by longest path prefix, and
// writes the HttpResponse back (possibly later: the message is paused until
// the handler answers).
#pragma once

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <string>

#include "http_exchange.h"

namespace relais::server {

class SoupHttpServer : public RouteTable {
 public:
  explicit SoupHttpServer(size_t max_body_bytes);
  ~SoupHttpServer() override;
  SoupHttpServer(const SoupHttpServer&) = delete;
  SoupHttpServer& operator=(const SoupHttpServer&) = delete;

  void add_prefix(const std::string& prefix, HttpHandler handler) override;

  // Listens on host (an IP literal) and port; port 0 picks a free one.
  bool listen(const std::string& host, int port, std::string* error);
  // The port actually listened on.
  int port() const;
  // Closes the listening sockets and every open connection.
  void close();

 private:
  static void on_request(SoupServer* server, SoupServerMessage* msg, const char* path,
                         GHashTable* query, gpointer user_data);
  static void on_request_started(SoupServer* server, SoupServerMessage* msg, gpointer user_data);
  static void on_got_headers(SoupServerMessage* msg, gpointer user_data);
  static void on_got_chunk(SoupServerMessage* msg, GBytes* chunk, gpointer user_data);
  void refuse_oversize(SoupServerMessage* msg, const std::string& what);
  const HttpHandler* find(const std::string& path) const;

  SoupServer* server_ = nullptr;
  size_t max_body_bytes_;
  std::map<std::string, HttpHandler> routes_;
};

}  // namespace relais::server
