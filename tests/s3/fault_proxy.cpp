#include "fault_proxy.h"

#include <libsoup/soup.h>

#include <condition_variable>
#include <cstring>
#include <map>

#include "sigv4.h"

namespace relais::test {

namespace {

std::string operation_of(const char* method, GHashTable* query) {
  auto has = [&](const char* k) { return query && g_hash_table_contains(query, k); };
  std::string m = method;
  if (m == "POST" && has("uploads")) return "CreateMultipartUpload";
  if (m == "POST" && has("uploadId")) return "CompleteMultipartUpload";
  if (m == "PUT" && has("partNumber")) return "UploadPart";
  if (m == "PUT") return "PutObject";
  if (m == "DELETE" && has("uploadId")) return "AbortMultipartUpload";
  if (m == "DELETE") return "DeleteObject";
  if (m == "GET" && has("uploads")) return "ListMultipartUploads";
  if (m == "GET") return "Get";
  if (m == "HEAD") return "HeadObject";
  return m;
}

std::string target_of(SoupServerMessage* msg) {
  GUri* uri = soup_server_message_get_uri(msg);
  std::string t = g_uri_get_path(uri);
  if (g_uri_get_query(uri)) t += std::string("?") + g_uri_get_query(uri);
  return t;
}

std::string unescape(const std::string& s) {
  gchar* u = g_uri_unescape_string(s.c_str(), nullptr);
  std::string out = u ? u : s;
  g_free(u);
  return out;
}

// Verifies the SigV4 Authorization of `msg` as received.
void check_signature(SoupServerMessage* msg, const std::string& access_key,
                     const std::string& secret, FaultProxy::Entry* entry) {
  SoupMessageHeaders* h = soup_server_message_get_request_headers(msg);
  const char* authz = soup_message_headers_get_one(h, "Authorization");
  if (!authz || !g_str_has_prefix(authz, "AWS4-HMAC-SHA256 ")) return;
  entry->signed_v4 = true;
  const char* token = soup_message_headers_get_one(h, "x-amz-security-token");
  entry->security_token = token ? token : "";
  std::map<std::string, std::string> parts;
  gchar** fields = g_strsplit(authz + strlen("AWS4-HMAC-SHA256 "), ",", -1);
  for (gchar** f = fields; *f; ++f) {
    std::string field = g_strstrip(*f);
    size_t eq = field.find('=');
    if (eq != std::string::npos) parts[field.substr(0, eq)] = field.substr(eq + 1);
  }
  g_strfreev(fields);
  entry->signed_headers = parts["SignedHeaders"];
  gchar** cred = g_strsplit(parts["Credential"].c_str(), "/", -1);
  bool cred_ok = g_strv_length(cred) == 5 && access_key == cred[0];
  relais::s3::sigv4::Scope scope;
  if (cred_ok) scope = {cred[1], cred[2], cred[3]};
  g_strfreev(cred);
  const char* date = soup_message_headers_get_one(h, "x-amz-date");
  const char* payload = soup_message_headers_get_one(h, "x-amz-content-sha256");
  GBytes* body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  gsize size = 0;
  const void* data = g_bytes_get_data(body, &size);
  entry->payload_hash_ok = payload && relais::s3::sigv4::sha256_hex(data, size) == payload;
  g_bytes_unref(body);
  if (!cred_ok || !date || !payload) return;

  relais::s3::sigv4::Request req;
  req.method = soup_server_message_get_method(msg);
  GUri* uri = soup_server_message_get_uri(msg);
  req.path = unescape(g_uri_get_path(uri));
  if (const char* q = g_uri_get_query(uri)) {
    gchar** pairs = g_strsplit(q, "&", -1);
    for (gchar** p = pairs; *p; ++p) {
      std::string pair = *p;
      size_t eq = pair.find('=');
      req.query.emplace_back(unescape(pair.substr(0, eq)),
                             eq == std::string::npos ? "" : unescape(pair.substr(eq + 1)));
    }
    g_strfreev(pairs);
  }
  gchar** names = g_strsplit(entry->signed_headers.c_str(), ";", -1);
  for (gchar** n = names; *n; ++n) {
    const char* v = soup_message_headers_get_list(h, *n);
    req.headers.emplace_back(*n, v ? v : "");
  }
  g_strfreev(names);
  req.payload_hash = payload;
  entry->canonical_request = relais::s3::sigv4::canonical_request(req);
  std::string expected = relais::s3::sigv4::authorization(access_key, secret, date, scope, req);
  entry->authorization = authz;
  entry->expected_authorization = expected;
  entry->signature_ok = expected == authz;
}

struct Forward {
  FaultProxy* proxy;
  SoupServerMessage* msg;
  SoupMessage* upstream;
  FaultProxy::Entry entry;
  bool lose_answer = false;
  int answer_delay_ms = 0;
};

void close_without_answer(SoupServerMessage* msg) {
  GIOStream* stream = soup_server_message_steal_connection(msg);
  if (stream) {
    g_io_stream_close(stream, nullptr, nullptr);
    g_object_unref(stream);
  }
}

// Resumes a paused message (a capped upload's next chunk, a slow answer).
gboolean on_pause_done(gpointer msg) {
  soup_server_message_unpause(SOUP_SERVER_MESSAGE(msg));
  g_object_unref(msg);
  return G_SOURCE_REMOVE;
}

// The bandwidth cap: after each chunk of a request body, reading pauses for
// as long as the chunk takes at the capped rate.
void on_forwarded(GObject* source, GAsyncResult* result, gpointer data) {
  auto* f = static_cast<Forward*>(data);
  GError* err = nullptr;
  GBytes* body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &err);
  if (f->lose_answer) {
    f->entry.status = body ? soup_message_get_status(f->upstream) : 502;
    if (body) g_bytes_unref(body);
    g_clear_error(&err);
    f->proxy->record(f->entry);
    close_without_answer(f->msg);
    g_object_unref(f->upstream);
    g_object_unref(f->msg);
    delete f;
    return;
  }
  if (!body) {
    soup_server_message_set_status(f->msg, 502, nullptr);
    g_clear_error(&err);
  } else {
    guint status = soup_message_get_status(f->upstream);
    soup_server_message_set_status(f->msg, status, nullptr);
    SoupMessageHeadersIter it;
    const char *name, *value;
    soup_message_headers_iter_init(&it, soup_message_get_response_headers(f->upstream));
    SoupMessageHeaders* out = soup_server_message_get_response_headers(f->msg);
    while (soup_message_headers_iter_next(&it, &name, &value)) {
      if (g_ascii_strcasecmp(name, "Content-Length") == 0 ||
          g_ascii_strcasecmp(name, "Transfer-Encoding") == 0 ||
          g_ascii_strcasecmp(name, "Connection") == 0)
        continue;
      soup_message_headers_append(out, name, value);
    }
    // A HEAD answer has no body but says how long the object is.
    goffset length =
        soup_message_headers_get_content_length(soup_message_get_response_headers(f->upstream));
    if (soup_server_message_get_method(f->msg) == SOUP_METHOD_HEAD)
      soup_message_headers_set_content_length(out, length);
    gsize size = 0;
    const void* data_ptr = g_bytes_get_data(body, &size);
    soup_message_body_append(soup_server_message_get_response_body(f->msg), SOUP_MEMORY_COPY,
                             data_ptr, size);
    g_bytes_unref(body);
    f->entry.status = status;
  }
  f->proxy->record(f->entry);
  if (f->answer_delay_ms > 0) {
    GSource* src = g_timeout_source_new(static_cast<guint>(f->answer_delay_ms));
    g_source_set_callback(src, on_pause_done, g_object_ref(f->msg), nullptr);
    g_source_attach(src, g_main_context_get_thread_default());
    g_source_unref(src);
  } else {
    soup_server_message_unpause(f->msg);
  }
  g_object_unref(f->upstream);
  g_object_unref(f->msg);
  delete f;
}

struct Stall {
  SoupServerMessage* msg;
};

gboolean on_stall_done(gpointer data) {
  auto* s = static_cast<Stall*>(data);
  soup_server_message_set_status(s->msg, 503, nullptr);
  soup_server_message_unpause(s->msg);
  g_object_unref(s->msg);
  delete s;
  return G_SOURCE_REMOVE;
}

void on_got_chunk(SoupServerMessage* msg, GBytes* chunk, gpointer data) {
  guint64 rate = static_cast<FaultProxy*>(data)->upload_rate();
  if (rate == 0) return;
  guint ms = static_cast<guint>(g_bytes_get_size(chunk) * 1000 / rate);
  soup_server_message_pause(msg);
  GSource* src = g_timeout_source_new(ms);
  g_source_set_callback(src, on_pause_done, g_object_ref(msg), nullptr);
  g_source_attach(src, g_main_context_get_thread_default());
  g_source_unref(src);
}

void on_headers(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
  if (static_cast<FaultProxy*>(data)->upload_rate() > 0)
    g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), data);
}

void on_request(SoupServer*, SoupServerMessage* msg, const char*, GHashTable* query,
                gpointer data) {
  auto* proxy = static_cast<FaultProxy*>(data);
  const char* method = soup_server_message_get_method(msg);
  proxy->handle(msg, method, operation_of(method, query));
}

}  // namespace

FaultProxy::~FaultProxy() {
  if (loop_) {
    g_main_context_invoke(
        context_,
        [](gpointer l) -> gboolean {
          g_main_loop_quit(static_cast<GMainLoop*>(l));
          return G_SOURCE_REMOVE;
        },
        loop_);
  }
  if (thread_.joinable()) thread_.join();
}

bool FaultProxy::start(std::string* error) {
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  thread_ = std::thread([&] {
    context_ = g_main_context_new();
    g_main_context_push_thread_default(context_);
    loop_ = g_main_loop_new(context_, FALSE);
    server_ = soup_server_new(nullptr, nullptr);
    session_ = soup_session_new();
    soup_server_add_early_handler(server_, nullptr, on_headers, this, nullptr);
    soup_server_add_handler(server_, nullptr, on_request, this, nullptr);
    GError* err = nullptr;
    if (soup_server_listen_local(server_, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err)) {
      GSList* uris = soup_server_get_uris(server_);
      port_ = g_uri_get_port(static_cast<GUri*>(uris->data));
      g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
    } else {
      start_error_ = err->message;
      g_error_free(err);
    }
    {
      std::lock_guard lock(m);
      ready = true;
    }
    cv.notify_all();
    if (port_ > 0) g_main_loop_run(loop_);
    soup_server_disconnect(server_);
    g_object_unref(server_);
    soup_session_abort(session_);
    g_object_unref(session_);
    while (g_main_context_iteration(context_, FALSE)) {
    }
    g_main_loop_unref(loop_);
    loop_ = nullptr;
    g_main_context_pop_thread_default(context_);
    g_main_context_unref(context_);
  });
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return ready; });
  if (port_ <= 0) {
    *error = "proxy could not listen: " + start_error_;
    return false;
  }
  return true;
}

void FaultProxy::add_rule(const Rule& rule) {
  std::lock_guard lock(mutex_);
  rules_.push_back(rule);
}

std::vector<FaultProxy::Entry> FaultProxy::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

int FaultProxy::count(const std::string& operation) const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& e : log_) n += e.operation == operation;
  return n;
}

void FaultProxy::record(const Entry& entry) {
  std::lock_guard lock(mutex_);
  log_.push_back(entry);
}

void FaultProxy::handle(void* m, const char* method, const std::string& operation) {
  auto* msg = static_cast<SoupServerMessage*>(m);
  Entry entry;
  entry.operation = operation;
  entry.method = method;
  entry.target = target_of(msg);
  check_signature(msg, access_key_, secret_, &entry);
  Rule rule;
  bool inject = false;
  {
    std::lock_guard lock(mutex_);
    for (auto& r : rules_) {
      if (r.operation == operation && r.times != 0) {
        if (r.times > 0) r.times--;
        rule = r;
        inject = true;
        break;
      }
    }
  }
  if (inject) {
    entry.injected = true;
    switch (rule.action) {
      case Action::kStatus: {
        std::string body = rule.body.empty()
                               ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" +
                                     rule.code + "</Code><Message>Injected by the test proxy" +
                                     "</Message><RequestId>proxy</RequestId></Error>"
                               : rule.body;
        soup_server_message_set_status(msg, rule.status, nullptr);
        soup_server_message_set_response(msg, "application/xml", SOUP_MEMORY_COPY, body.data(),
                                         body.size());
        entry.status = rule.status;
        record(entry);
        return;
      }
      case Action::kGarbage: {
        static const char kGarbage[] = "this is not what an S3 server says";
        soup_server_message_set_status(msg, 200, nullptr);
        soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, kGarbage,
                                         sizeof(kGarbage) - 1);
        entry.status = 200;
        record(entry);
        return;
      }
      case Action::kReset: {
        record(entry);
        close_without_answer(msg);
        return;
      }
      case Action::kLoseAnswer:
      case Action::kSlowAnswer:
        break;  // forwarded below
      case Action::kStall: {
        record(entry);
        soup_server_message_pause(msg);
        GSource* src = g_timeout_source_new(rule.stall_ms);
        g_source_set_callback(src, on_stall_done, new Stall{SOUP_SERVER_MESSAGE(g_object_ref(msg))},
                              nullptr);
        g_source_attach(src, context_);
        g_source_unref(src);
        return;
      }
    }
  }
  // Forward to s3rver.
  GUri* in = soup_server_message_get_uri(msg);
  std::string url = "http://127.0.0.1:" + std::to_string(upstream_port_) + g_uri_get_path(in);
  if (g_uri_get_query(in)) url += std::string("?") + g_uri_get_query(in);
  SoupMessage* up = soup_message_new(method, url.c_str());
  SoupMessageHeadersIter it;
  const char *name, *value;
  soup_message_headers_iter_init(&it, soup_server_message_get_request_headers(msg));
  SoupMessageHeaders* out = soup_message_get_request_headers(up);
  while (soup_message_headers_iter_next(&it, &name, &value)) {
    if (g_ascii_strcasecmp(name, "Host") == 0 || g_ascii_strcasecmp(name, "Content-Length") == 0 ||
        g_ascii_strcasecmp(name, "Connection") == 0 ||
        g_ascii_strcasecmp(name, "Content-Type") == 0)
      continue;
    soup_message_headers_append(out, name, value);
  }
  GBytes* body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  const char* ctype =
      soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
  if (g_bytes_get_size(body) > 0 || g_strcmp0(method, "PUT") == 0 || g_strcmp0(method, "POST") == 0)
    soup_message_set_request_body_from_bytes(up, ctype, body);
  g_bytes_unref(body);
  soup_server_message_pause(msg);
  auto* f = new Forward{this,
                        SOUP_SERVER_MESSAGE(g_object_ref(msg)),
                        up,
                        entry,
                        inject && rule.action == Action::kLoseAnswer,
                        inject && rule.action == Action::kSlowAnswer ? rule.stall_ms : 0};
  soup_session_send_and_read_async(session_, up, G_PRIORITY_DEFAULT, nullptr, on_forwarded, f);
}

}  // namespace relais::test
