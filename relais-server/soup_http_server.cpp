#include "soup_http_server.h"

#include <cstring>

#include "glib_handles.h"
#include "json_handles.h"
#include "server_log.h"

namespace relais::server {
namespace {

// One request in flight. Holds a reference on the message; `done` is set when
// the connection went away, so a late answer is dropped instead of written.
struct Exchange {
  SoupServerMessage* msg = nullptr;
  gulong disconnected_id = 0;
  bool paused = false;
  bool answered = false;
  bool disconnected = false;

  ~Exchange() {
    if (disconnected_id) g_signal_handler_disconnect(msg, disconnected_id);
    g_object_unref(msg);
  }
};

void set_json_error(SoupServerMessage* msg, int status, const std::string& message) {
  soup_server_message_set_status(msg, status, nullptr);
  std::string body = error_json(message);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(),
                                   body.size());
}

void write_response(SoupServerMessage* msg, const HttpResponse& response) {
  soup_server_message_set_status(msg, response.status, nullptr);
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  for (const auto& [name, value] : response.headers) {
    soup_message_headers_append(headers, name.c_str(), value.c_str());
  }
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  if (response.status == 204 || response.status == 304) return;
  soup_server_message_set_response(
      msg, response.content_type.empty() ? nullptr : response.content_type.c_str(),
      SOUP_MEMORY_COPY, response.body.data(), response.body.size());
}

bool is_loopback(GSocketAddress* address) {
  if (!address || !G_IS_INET_SOCKET_ADDRESS(address)) return false;
  GInetAddress* inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address));
  return g_inet_address_get_is_loopback(inet);
}

}  // namespace

SoupHttpServer::SoupHttpServer(size_t max_body_bytes)
    : server_(SOUP_SERVER(
          g_object_new(SOUP_TYPE_SERVER, "server-header", "relais", "raw-paths", TRUE, nullptr))),
      max_body_bytes_(max_body_bytes) {
  soup_server_add_handler(server_, nullptr, on_request, this, nullptr);
  g_signal_connect(server_, "request-started", G_CALLBACK(on_request_started), this);
}

SoupHttpServer::~SoupHttpServer() {
  close();
  g_object_unref(server_);
}

void SoupHttpServer::add_prefix(const std::string& prefix, HttpHandler handler) {
  routes_[prefix] = std::move(handler);
}

bool SoupHttpServer::listen(const std::string& host, int port, std::string* error) {
  GInetAddress* inet = g_inet_address_new_from_string(host.c_str());
  if (!inet) {
    *error = "listen address '" + host + "' is not an IP address (use e.g. 0.0.0.0 or 127.0.0.1)";
    return false;
  }
  GSocketAddress* address = g_inet_socket_address_new(inet, static_cast<guint16>(port));
  g_object_unref(inet);
  GError* raw = nullptr;
  bool ok = soup_server_listen(server_, address, static_cast<SoupServerListenOptions>(0), &raw);
  g_object_unref(address);
  if (!ok) {
    GErrorPtr err(raw);
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + err->message;
    return false;
  }
  return true;
}

int SoupHttpServer::port() const {
  GSList* uris = soup_server_get_uris(server_);
  int port = 0;
  if (uris) port = g_uri_get_port(static_cast<GUri*>(uris->data));
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  return port;
}

void SoupHttpServer::close() {
  if (server_) soup_server_disconnect(server_);
}

const HttpHandler* SoupHttpServer::find(const std::string& path) const {
  const HttpHandler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, handler] : routes_) {
    if (path.compare(0, prefix.size(), prefix) == 0 && prefix.size() >= best_len) {
      best = &handler;
      best_len = prefix.size();
    }
  }
  return best;
}

void SoupHttpServer::on_request_started(SoupServer* /*server*/, SoupServerMessage* msg,
                                        gpointer user_data) {
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), user_data);
  g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), user_data);
}

// Answers 413 on a connection taken over from libsoup, and closes it.
void SoupHttpServer::refuse_oversize(SoupServerMessage* msg, const std::string& what) {
  std::string body = error_json("request body " + what + " is over the limit of " +
                                std::to_string(max_body_bytes_) + " bytes");
  std::string response =
      "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  GIOStream* stream = soup_server_message_steal_connection(msg);
  if (!stream) return;
  gsize written = 0;
  g_output_stream_write_all(g_io_stream_get_output_stream(stream), response.data(), response.size(),
                            &written, nullptr, nullptr);
  g_io_stream_close(stream, nullptr, nullptr);
  g_object_unref(stream);
}

// Refuses an oversize body from its Content-Length before it is read (libsoup
// would otherwise read all of it first).
void SoupHttpServer::on_got_headers(SoupServerMessage* msg, gpointer user_data) {
  auto* self = static_cast<SoupHttpServer*>(user_data);
  SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
  if (soup_message_headers_get_encoding(headers) != SOUP_ENCODING_CONTENT_LENGTH) return;
  goffset length = soup_message_headers_get_content_length(headers);
  if (length <= static_cast<goffset>(self->max_body_bytes_)) return;
  self->refuse_oversize(msg, "of " + std::to_string(length) + " bytes");
}

// Chunked bodies have no length up front: count while they arrive.
void SoupHttpServer::on_got_chunk(SoupServerMessage* msg, GBytes* chunk, gpointer user_data) {
  auto* self = static_cast<SoupHttpServer*>(user_data);
  static const char kKey[] = "relais-body-bytes";
  gsize total = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(msg), kKey)) + g_bytes_get_size(chunk);
  g_object_set_data(G_OBJECT(msg), kKey, GSIZE_TO_POINTER(total));
  if (total > self->max_body_bytes_) {
    self->refuse_oversize(msg, "of at least " + std::to_string(total) + " bytes");
  }
}

void SoupHttpServer::on_request(SoupServer* /*server*/, SoupServerMessage* msg, const char* path,
                                GHashTable* /*query*/, gpointer user_data) {
  auto* self = static_cast<SoupHttpServer*>(user_data);
  if (soup_server_message_get_status(msg) != 0) return;  // refused in got-headers

  HttpRequest request;
  request.method = soup_server_message_get_method(msg);
  GUri* uri = soup_server_message_get_uri(msg);
  const char* raw_path = g_uri_get_path(uri);
  GCharPtr decoded(g_uri_unescape_string(raw_path ? raw_path : path, nullptr));
  if (!decoded) {
    set_json_error(msg, 400, "the request path is not valid percent-encoding");
    return;
  }
  request.path = decoded.get();
  if (request.path.find('\0') != std::string::npos ||
      std::strlen(decoded.get()) != request.path.size()) {
    set_json_error(msg, 400, "the request path contains a NUL byte");
    return;
  }
  if (const char* q = g_uri_get_query(uri)) request.query = q;

  SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
  SoupMessageHeadersIter iter;
  soup_message_headers_iter_init(&iter, headers);
  const char* name = nullptr;
  const char* value = nullptr;
  while (soup_message_headers_iter_next(&iter, &name, &value)) {
    GCharPtr lower(g_ascii_strdown(name, -1));
    auto [it, inserted] = request.headers.emplace(lower.get(), value);
    if (!inserted) it->second += std::string(", ") + value;
  }

  SoupMessageBody* body = soup_server_message_get_request_body(msg);
  if (body && body->length > 0) {
    if (static_cast<size_t>(body->length) > self->max_body_bytes_) {
      set_json_error(
          msg, 413,
          "request body is over the limit of " + std::to_string(self->max_body_bytes_) + " bytes");
      return;
    }
    GBytes* bytes = soup_message_body_flatten(body);
    gsize size = 0;
    const char* data = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    request.body.assign(data ? data : "", size);
    g_bytes_unref(bytes);
  }

  GSocketAddress* remote = soup_server_message_get_remote_address(msg);
  request.from_loopback = is_loopback(remote);
  if (const char* host = soup_server_message_get_remote_host(msg)) request.remote_address = host;

  const HttpHandler* handler = self->find(request.path);
  if (!handler) {
    set_json_error(msg, 404, "no such route");
    return;
  }

  auto exchange = std::make_shared<Exchange>();
  exchange->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  // The signal handler's data is a weak pointer: the Exchange disconnects
  // it in its destructor, and the shared_ptr below keeps it alive until then.
  exchange->disconnected_id = g_signal_connect_swapped(
      msg, "disconnected",
      G_CALLBACK(+[](gpointer data) { static_cast<Exchange*>(data)->disconnected = true; }),
      exchange.get());

  Responder respond = [exchange](const HttpResponse& response) {
    if (exchange->answered) return;
    exchange->answered = true;
    if (exchange->disconnected) return;
    write_response(exchange->msg, response);
    if (exchange->paused) soup_server_message_unpause(exchange->msg);
  };
  try {
    (*handler)(request, respond);
  } catch (const std::exception& e) {
    log_error("handler for %s threw: %s", request.path.c_str(), e.what());
    if (!exchange->answered) {
      exchange->answered = true;
      set_json_error(msg, 500, "internal error");
    }
    return;
  }
  if (!exchange->answered) {
    // Answered later, from the main context: hold the connection until then.
    exchange->paused = true;
    soup_server_message_pause(msg);
  }
}

}  // namespace relais::server
