#include "soup_bridge.h"

#include <memory>

#include "temp_dir.h"

namespace relais::webrtc::test {
namespace {

void send(SoupServerMessage* msg, const server::HttpResponse& r) {
  soup_server_message_set_status(msg, static_cast<guint>(r.status), nullptr);
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  for (const auto& [name, value] : r.headers)
    soup_message_headers_append(headers, name.c_str(), value.c_str());
  if (!r.content_type.empty())
    soup_server_message_set_response(msg, r.content_type.c_str(), SOUP_MEMORY_COPY, r.body.data(),
                                     r.body.size());
}

}  // namespace

SoupBridge::SoupBridge(WhepService& service) : service_(service) {
  server_ = soup_server_new(nullptr, nullptr);
  soup_server_add_handler(server_, nullptr, on_request, this, nullptr);
  int port = relais::test::free_loopback_port();
  GError* err = nullptr;
  if (soup_server_listen_local(server_, static_cast<guint>(port), SOUP_SERVER_LISTEN_IPV4_ONLY,
                               &err))
    base_url_ = "http://127.0.0.1:" + std::to_string(port);
  else
    g_clear_error(&err);
}

SoupBridge::~SoupBridge() {
  soup_server_disconnect(server_);
  g_object_unref(server_);
}

void SoupBridge::on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                            gpointer data) {
  auto* self = static_cast<SoupBridge*>(data);
  server::HttpRequest req;
  req.method = soup_server_message_get_method(msg);
  req.path = path;
  soup_message_headers_foreach(
      soup_server_message_get_request_headers(msg),
      [](const char* name, const char* value, gpointer user) {
        gchar* lower = g_ascii_strdown(name, -1);
        static_cast<server::HttpRequest*>(user)->headers[lower] = value;
        g_free(lower);
      },
      &req);
  SoupMessageBody* body = soup_server_message_get_request_body(msg);
  if (GBytes* bytes = soup_message_body_flatten(body)) {
    gsize size = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    req.body.assign(p ? p : "", size);
    g_bytes_unref(bytes);
  }
  req.from_loopback = true;
  // The answer may come at once or later (on this main context).
  auto state = std::make_shared<int>(0);  // 0 = in handler, 1 = paused, 2 = answered
  auto respond = [msg = static_cast<SoupServerMessage*>(g_object_ref(msg)),
                  state](server::HttpResponse r) {
    send(msg, r);
    if (*state == 1) soup_server_message_unpause(msg);
    *state = 2;
    g_object_unref(msg);
  };
  if (g_str_has_prefix(path, "/whep/"))
    self->service_.handle(req, respond);
  else if (g_str_has_prefix(path, "/watch/"))
    self->service_.handle_page(req, respond);
  else
    respond(server::HttpResponse{404, "application/json", {}, "{\"message\": \"not found\"}"});
  if (*state == 0) {
    *state = 1;
    soup_server_message_pause(msg);
  }
}

}  // namespace relais::webrtc::test
