#include "whep_viewers_server.h"

#include <cstdlib>

namespace relais::bench {

using relais::server::HttpRequest;
using relais::server::HttpResponse;
using relais::webrtc::WhepService;

WhepBenchServer::WhepBenchServer(bool shared, size_t max_viewers)
    : shared_(shared), max_viewers_(max_viewers) {}

WhepBenchServer::~WhepBenchServer() {
  if (server_) soup_server_disconnect(server_.get());
  services_.clear();
}

bool WhepBenchServer::listen(std::string* error) {
  server_ = GstRef<SoupServer>::adopt(soup_server_new(nullptr, nullptr));
  soup_server_add_handler(
      server_.get(), "/whep/",
      [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self) {
        static_cast<WhepBenchServer*>(self)->handle(msg, path);
      },
      this, nullptr);
  GError* err = nullptr;
  if (!soup_server_listen_local(server_.get(), 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err)) {
    *error = std::string("listening on loopback: ") + (err ? err->message : "?");
    if (err) g_error_free(err);
    return false;
  }
  GSList* uris = soup_server_get_uris(server_.get());
  gchar* base = g_uri_to_string(static_cast<GUri*>(uris->data));
  url_ = base;
  g_free(base);
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  if (!url_.empty() && url_.back() == '/') url_.pop_back();
  return true;
}

WhepService& WhepBenchServer::service_for(const std::string& method, const std::string& path) {
  if (method == "POST" && (services_.empty() || !shared_)) {
    relais::webrtc::WhepOptions options;
    options.max_sessions = max_viewers_ + 1;
    services_.push_back(std::make_unique<WhepService>(
        "memory://", std::vector<relais::webrtc::IceServer>{}, "", 64 * 1024, options));
    return *services_.back();
  }
  if (method == "POST") return *services_.back();
  auto it = owner_.find(path);
  return *services_[it == owner_.end() ? 0 : it->second];
}

void WhepBenchServer::handle(SoupServerMessage* msg, const char* path) {
  HttpRequest req;
  req.method = soup_server_message_get_method(msg);
  req.path = path;
  if (services_.empty() && req.method != "POST") {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, nullptr);
    return;
  }
  const char* type =
      soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
  if (type) req.headers["content-type"] = type;
  if (GBytes* body = soup_message_body_flatten(soup_server_message_get_request_body(msg))) {
    gsize size = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(body, &size));
    req.body.assign(p ? p : "", size);
    g_bytes_unref(body);
  }
  WhepService& service = service_for(req.method, req.path);
  size_t index = 0;
  while (services_[index].get() != &service) index++;
  // 0: handle() still running, 1: the message was paused, 2: answered.
  auto state = std::make_shared<int>(0);
  g_object_ref(msg);
  service.handle(req, [this, msg, state, index](HttpResponse r) {
    soup_server_message_set_status(msg, static_cast<guint>(r.status), nullptr);
    for (const auto& [k, v] : r.headers) {
      soup_message_headers_append(soup_server_message_get_response_headers(msg), k.c_str(),
                                  v.c_str());
      if (k == "Location") owner_[v] = index;
    }
    if (!r.content_type.empty())
      soup_server_message_set_response(msg, r.content_type.c_str(), SOUP_MEMORY_COPY, r.body.data(),
                                       r.body.size());
    if (*state == 1) soup_server_message_unpause(msg);
    *state = 2;
    g_object_unref(msg);
  });
  if (*state == 0) {
    *state = 1;
    soup_server_message_pause(msg);
  }
}

size_t WhepBenchServer::connected() const {
  size_t n = 0;
  for (const auto& s : services_) n += s->connected_count();
  return n;
}

double WhepBenchServer::bytes_sent() const {
  double total = 0;
  const std::string key = "relais_whep_bytes_sent_total{";
  for (const auto& s : services_) {
    std::string text = s->prometheus_metrics();
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 1)) {
      auto space = text.find(' ', pos);
      if (space != std::string::npos) total += std::atof(text.c_str() + space + 1);
    }
  }
  return total;
}

}  // namespace relais::bench
