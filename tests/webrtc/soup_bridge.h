// A libsoup server on a loopback port that hands /whep/ and /watch/ to a
// WhepService, so a real browser can use the viewer page in tests. (The
// product's server does the same in relais-server.)
#pragma once

#include <libsoup/soup.h>

#include <string>

#include "whep_service.h"

namespace relais::webrtc::test {

class SoupBridge {
 public:
  explicit SoupBridge(WhepService& service);
  ~SoupBridge();
  SoupBridge(const SoupBridge&) = delete;
  SoupBridge& operator=(const SoupBridge&) = delete;

  // http://127.0.0.1:<port>, or empty if listening failed.
  const std::string& base_url() const { return base_url_; }

 private:
  static void on_request(SoupServer* server, SoupServerMessage* msg, const char* path,
                         GHashTable* query, gpointer data);
  WhepService& service_;
  SoupServer* server_ = nullptr;
  std::string base_url_;
};

}  // namespace relais::webrtc::test
