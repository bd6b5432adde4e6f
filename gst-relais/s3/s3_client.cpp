#include "s3_client.h"

#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "s3_xml.h"

namespace relais::s3 {

namespace {

constexpr char kService[] = "s3";

std::string amz_now() {
  GDateTime* now = g_date_time_new_now_utc();
  gchar* s = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
  std::string out = s;
  g_free(s);
  g_date_time_unref(now);
  return out;
}

bool is_ip_literal(const std::string& host) {
  return g_hostname_is_ip_address(host.c_str());
}

// Virtual-host style needs the bucket to be a DNS label sequence.
bool dns_compatible_bucket(const std::string& bucket, bool https) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '-' || c == '.')) return false;
    if (c == '.' && https) return false;  // the certificate is *.s3...: one label only
  }
  return true;
}

std::string printable_excerpt(const Bytes& body) {
  std::string s(reinterpret_cast<const char*>(body.data()), std::min<gsize>(body.size(), 160));
  for (char& c : s)
    if (!g_ascii_isprint(c)) c = ' ';
  return s;
}

bool retryable_status(guint status, const std::string& code) {
  // 501 (the server lacks the operation) answers the same on every retry.
  return (status >= 500 && status != 501) || status == 429 || status == 408 ||
         code == "RequestTimeout" || code == "SlowDown" || code == "InternalError";
}

}  // namespace

std::string multipart_etag(const std::vector<CompletedPart>& parts) {
  GChecksum* md5 = g_checksum_new(G_CHECKSUM_MD5);
  bool ok = !parts.empty();
  for (const auto& p : parts) {
    std::string hex = p.etag;
    if (hex.size() == 34 && hex.front() == '"' && hex.back() == '"') hex = hex.substr(1, 32);
    if (hex.size() != 32) ok = false;
    guint8 digest[16];
    for (size_t i = 0; ok && i < 16; ++i) {
      int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) ok = false;
      digest[i] = static_cast<guint8>(hi * 16 + lo);
    }
    if (!ok) break;
    g_checksum_update(md5, digest, sizeof digest);
  }
  std::string out = ok ? "\"" + std::string(g_checksum_get_string(md5)) + "-" +
                             std::to_string(parts.size()) + "\""
                       : "";
  g_checksum_free(md5);
  return out;
}

std::vector<std::string> orphan_upload_ids(std::string_view list_xml, const std::string& key,
                                           const std::string& keep_id, gint64 from, gint64 to) {
  std::vector<std::string> ids;
  size_t pos = 0;
  while ((pos = list_xml.find("<Upload>", pos)) != std::string_view::npos) {
    size_t end = list_xml.find("</Upload>", pos);
    if (end == std::string_view::npos) break;
    std::string_view upload = list_xml.substr(pos, end - pos);
    pos = end;
    auto k = xml_text(upload, "Key");
    auto id = xml_text(upload, "UploadId");
    auto initiated = xml_text(upload, "Initiated");
    if (!k || *k != key || !id || id->empty() || *id == keep_id || !initiated) continue;
    GDateTime* t = g_date_time_new_from_iso8601(initiated->c_str(), nullptr);
    if (!t) continue;
    gint64 when = g_date_time_to_unix(t);
    g_date_time_unref(t);
    if (when >= from && when <= to) ids.push_back(*id);
  }
  return ids;
}

struct S3Client::Call {
  const char* operation;
  const char* method;
  std::string bucket;
  std::string key;
  sigv4::Pairs query;
  Bytes body;
  std::string content_type;
  gint64 answer_timeout_ms = 0;  // wait for the answer to begin beyond request_timeout_ms
};

struct S3Client::Response {
  guint status = 0;
  Bytes body;
  std::string etag;
  std::string request_id;
  guint64 content_length = 0;
  gint64 server_time = 0;
};

std::string S3Error::describe() const {
  std::string out = operation + ": ";
  if (status) out += "HTTP " + std::to_string(status);
  if (!code.empty()) out += (status ? " " : "") + code;
  if (!message.empty()) out += (status || !code.empty() ? ": " : "") + message;
  if (!request_id.empty()) out += " (request id " + request_id + ")";
  if (attempts > 1) out += " after " + std::to_string(attempts) + " attempts";
  return out;
}

S3Client::S3Client(const ClientConfig& config) : config_(config) {}

std::unique_ptr<S3Client> S3Client::create(const ClientConfig& config, std::string* error) {
  std::unique_ptr<S3Client> client(new S3Client(config));
  ClientConfig& c = client->config_;
  if (c.region.empty()) c.region = "us-east-1";
  if (c.endpoint.empty()) c.endpoint = "https://s3." + c.region + ".amazonaws.com";
  if (c.retry_attempts == 0) c.retry_attempts = 1;
  if (c.access_key.empty() || c.secret_key.empty()) {
    *error =
        "No S3 credentials: set access-key and secret-access-key, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY";
    return nullptr;
  }
  GError* err = nullptr;
  GUri* uri = g_uri_parse(c.endpoint.c_str(), G_URI_FLAGS_ENCODED, &err);
  if (!uri) {
    *error = "Invalid endpoint URI '" + c.endpoint + "': " + err->message;
    g_error_free(err);
    return nullptr;
  }
  GUriPtr guard(uri);
  std::string scheme = g_uri_get_scheme(uri) ? g_uri_get_scheme(uri) : "";
  const char* host = g_uri_get_host(uri);
  const char* path = g_uri_get_path(uri);
  if ((scheme != "http" && scheme != "https") || !host || !*host) {
    *error = "Invalid endpoint URI '" + c.endpoint +
             "': expected http://host[:port] or https://host[:port]";
    return nullptr;
  }
  if (path && *path && std::string(path) != "/") {
    *error = "Invalid endpoint URI '" + c.endpoint + "': it must not have a path";
    return nullptr;
  }
  client->scheme_ = scheme;
  client->host_ = host;
  client->port_ = g_uri_get_port(uri);

  client->context_.reset(g_main_context_new());
  g_main_context_push_thread_default(client->context_.get());
  client->session_.reset(soup_session_new_with_options("user-agent", "relais/0.1 relaiss3sink",
                                                       "max-conns-per-host", 4, nullptr));
  g_main_context_pop_thread_default(client->context_.get());
  client->cancellable_.reset(g_cancellable_new());
  return client;
}

S3Client::~S3Client() {
  if (!session_) return;
  g_main_context_push_thread_default(context_.get());
  soup_session_abort(session_.get());
  session_.reset();
  // Let libsoup finish closing connections on this context.
  while (g_main_context_iteration(context_.get(), FALSE)) {
  }
  g_main_context_pop_thread_default(context_.get());
}

void S3Client::cancel() {
  g_cancellable_cancel(cancellable_.get());
}

void S3Client::reset_cancel() {
  g_cancellable_reset(cancellable_.get());
}

bool S3Client::use_path_style(const std::string& bucket) const {
  return config_.force_path_style || is_ip_literal(host_) || host_ == "localhost" ||
         !dns_compatible_bucket(bucket, scheme_ == "https");
}

std::string S3Client::object_url(const std::string& bucket, const std::string& key) const {
  std::string authority = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  if (port_ > 0) authority += ":" + std::to_string(port_);
  if (use_path_style(bucket))
    return scheme_ + "://" + authority + sigv4::uri_encode("/" + bucket + "/" + key, false);
  return scheme_ + "://" + bucket + "." + authority + sigv4::uri_encode("/" + key, false);
}

bool S3Client::sleep_cancellable(guint ms) {
  GPollFD pfd;
  if (!g_cancellable_make_pollfd(cancellable_.get(), &pfd)) {
    g_usleep(static_cast<gulong>(ms) * 1000);
    return !g_cancellable_is_cancelled(cancellable_.get());
  }
  gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(ms) * 1000;
  while (!g_cancellable_is_cancelled(cancellable_.get())) {
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    if (left <= 0) break;
    g_poll(&pfd, 1, static_cast<gint>(left));
  }
  g_cancellable_release_fd(cancellable_.get());
  return !g_cancellable_is_cancelled(cancellable_.get());
}

namespace {

// One attempt in flight on the client's context. The deadline is moved on
// whenever a byte moves, so it bounds inactivity, not the whole request.
struct Pending {
  bool done = false;
  bool timed_out = false;
  GInputStream* stream = nullptr;  // the answer's body, once headers are in
  GBytes* chunk = nullptr;         // the last chunk read
  GError* error = nullptr;
  GCancellable* op = nullptr;  // owned by send_once()
  GSource* deadline = nullptr;
  gint64 idle_us = -1;    // < 0: no limit
  gint64 answer_us = -1;  // from the end of the request to the answer's headers
};

void touch(Pending* p, gint64 limit_us) {
  if (p->deadline && limit_us >= 0)
    g_source_set_ready_time(p->deadline, g_get_monotonic_time() + limit_us);
}

void on_wrote_data(SoupMessage*, guint, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  touch(p, p->idle_us);
}

void on_wrote_headers(SoupMessage*, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  touch(p, p->idle_us);
}

void on_wrote_body(SoupMessage*, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  touch(p, std::max(p->idle_us, p->answer_us));
}

void on_got_headers(SoupMessage*, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  touch(p, p->idle_us);
}

// Bytes the kernel may hold unsent per connection. Without a bound it takes
// megabytes at once, and a request on a slow link would look written long
// before its bytes have gone out (then idle while they drain).
constexpr int kUnsentLimit = 128 * 1024;

void on_network_event(SoupMessage*, GSocketClientEvent event, GIOStream* connection, gpointer) {
  if (event != G_SOCKET_CLIENT_CONNECTED || !G_IS_SOCKET_CONNECTION(connection)) return;
  GSocket* socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(connection));
  g_socket_set_option(socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT, kUnsentLimit, nullptr);
}

struct RestartBody {
  GBytes* body;
  std::string content_type;
};

void on_restarted(SoupMessage* msg, gpointer data) {
  auto* r = static_cast<RestartBody*>(data);
  soup_message_set_request_body_from_bytes(
      msg, r->content_type.empty() ? nullptr : r->content_type.c_str(), r->body);
}

void on_sent(GObject* source, GAsyncResult* result, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  p->stream = soup_session_send_finish(SOUP_SESSION(source), result, &p->error);
  p->done = true;
}

void on_read(GObject* source, GAsyncResult* result, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  p->chunk = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &p->error);
  p->done = true;
}

gboolean on_deadline(GSource*, GSourceFunc, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  p->timed_out = true;
  g_cancellable_cancel(p->op);
  g_source_set_ready_time(p->deadline, -1);
  return G_SOURCE_CONTINUE;
}

GSourceFuncs kDeadlineFuncs = {nullptr, nullptr, on_deadline, nullptr, nullptr, nullptr};

void forward_cancel(GCancellable*, gpointer op) {
  g_cancellable_cancel(G_CANCELLABLE(op));
}

}  // namespace

bool S3Client::send_once(const Call& call, const std::string& payload_hash, Response* response,
                         S3Error* error) {
  const bool path_style = use_path_style(call.bucket);
  std::string raw_path = path_style ? "/" + call.bucket + "/" + call.key : "/" + call.key;
  std::string host = path_style ? host_ : call.bucket + "." + host_;
  std::string query = sigv4::canonical_query(call.query);
  GUri* uri = g_uri_build(G_URI_FLAGS_ENCODED, scheme_.c_str(), nullptr, host.c_str(), port_,
                          sigv4::uri_encode(raw_path, false).c_str(),
                          query.empty() ? nullptr : query.c_str(), nullptr);
  ObjectPtr<SoupMessage> message(soup_message_new_from_uri(call.method, uri));
  g_uri_unref(uri);
  SoupMessage* msg = message.get();
  SoupMessageHeaders* headers = soup_message_get_request_headers(msg);
  const Bytes& body = call.body;
  std::string amz_date = amz_now();

  Bytes b;
  if (body || g_strcmp0(call.method, "PUT") == 0 || g_strcmp0(call.method, "POST") == 0) {
    b = body ? body : Bytes::copy_of("", 0);
    soup_message_set_request_body_from_bytes(
        msg, call.content_type.empty() ? nullptr : call.content_type.c_str(), b.get());
  }
  // libsoup re-sends a request by itself when a reused connection closes
  // before the answer, but (3.2) with the body already consumed: an empty
  // body under the signature of the full one. Set the body again.
  RestartBody restart{b.get(), call.content_type};
  if (b) g_signal_connect(msg, "restarted", G_CALLBACK(on_restarted), &restart);
  soup_message_headers_replace(headers, "x-amz-date", amz_date.c_str());
  soup_message_headers_replace(headers, "x-amz-content-sha256", payload_hash.c_str());
  if (!config_.session_token.empty())
    soup_message_headers_replace(headers, "x-amz-security-token", config_.session_token.c_str());

  sigv4::Request req;
  req.method = call.method;
  req.path = raw_path;
  req.query = call.query;
  req.payload_hash = payload_hash;
  // libsoup only adds Host when writing the request; set it now so that the
  // signed value is the one sent (with the port unless it is the default).
  std::string host_header = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port_ > 0 && !(scheme_ == "http" && port_ == 80) && !(scheme_ == "https" && port_ == 443))
    host_header += ":" + std::to_string(port_);
  soup_message_headers_replace(headers, "Host", host_header.c_str());
  req.headers.emplace_back("host", host_header);
  req.headers.emplace_back("x-amz-date", amz_date);
  req.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!config_.session_token.empty())
    req.headers.emplace_back("x-amz-security-token", config_.session_token);
  if (!call.content_type.empty()) req.headers.emplace_back("content-type", call.content_type);
  sigv4::Scope scope{amz_date.substr(0, 8), config_.region, kService};
  std::string authz =
      sigv4::authorization(config_.access_key, config_.secret_key, amz_date, scope, req);
  soup_message_headers_replace(headers, "Authorization", authz.c_str());

  Pending p;
  ObjectPtr<GCancellable> op(g_cancellable_new());
  p.op = op.get();
  // Cancelling the client cancels this request (from any thread).
  gulong handler =
      g_cancellable_connect(cancellable_.get(), G_CALLBACK(forward_cancel), p.op, nullptr);
  GSourcePtr deadline;
  if (config_.request_timeout_ms >= 0) {
    p.idle_us = config_.request_timeout_ms * 1000;
    p.answer_us = call.answer_timeout_ms * 1000;
    deadline.reset(g_source_new(&kDeadlineFuncs, sizeof(GSource)));
    g_source_set_callback(deadline.get(), nullptr, &p, nullptr);
    p.deadline = deadline.get();
    touch(&p, p.idle_us);
    g_source_attach(deadline.get(), context_.get());
  }
  g_signal_connect(msg, "network-event", G_CALLBACK(on_network_event), nullptr);
  g_signal_connect(msg, "wrote-headers", G_CALLBACK(on_wrote_headers), &p);
  g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_data), &p);
  g_signal_connect(msg, "wrote-body", G_CALLBACK(on_wrote_body), &p);
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), &p);
  soup_session_send_async(session_.get(), msg, G_PRIORITY_DEFAULT, p.op, on_sent, &p);
  while (!p.done) g_main_context_iteration(context_.get(), TRUE);
  // The answer's body, chunk by chunk (AWS keeps a slow completion alive
  // with whitespace).
  ObjectPtr<GInputStream> stream(p.stream);
  GByteArray* body_bytes = g_byte_array_new();
  while (stream && !p.error) {
    p.done = false;
    g_input_stream_read_bytes_async(stream.get(), 65536, G_PRIORITY_DEFAULT, p.op, on_read, &p);
    while (!p.done) g_main_context_iteration(context_.get(), TRUE);
    if (!p.chunk) break;
    gsize n = 0;
    const void* d = g_bytes_get_data(p.chunk, &n);
    g_byte_array_append(body_bytes, static_cast<const guint8*>(d), static_cast<guint>(n));
    g_bytes_unref(p.chunk);
    p.chunk = nullptr;
    if (n == 0) break;
    touch(&p, p.idle_us);
  }
  if (stream) g_input_stream_close(stream.get(), nullptr, nullptr);
  GBytes* received = g_byte_array_free_to_bytes(body_bytes);
  g_signal_handlers_disconnect_by_data(msg, &p);
  g_signal_handlers_disconnect_by_data(msg, &restart);
  deadline.reset();
  g_cancellable_disconnect(cancellable_.get(), handler);

  error->status = 0;
  error->code.clear();
  error->message.clear();
  error->request_id.clear();
  bool ok = false;
  if (p.error) {
    g_bytes_unref(received);
    if (p.timed_out) {
      error->kind = ErrorKind::kTimeout;
      error->message = "no byte moved for " + std::to_string(config_.request_timeout_ms) +
                       " ms (request-timeout)";
    } else if (g_cancellable_is_cancelled(cancellable_.get())) {
      error->kind = ErrorKind::kCancelled;
      error->message = "cancelled";
    } else {
      error->kind = ErrorKind::kNetwork;
      error->message = p.error->message;
    }
    g_error_free(p.error);
  } else {
    response->status = soup_message_get_status(msg);
    response->body = Bytes::adopt(received);
    SoupMessageHeaders* rh = soup_message_get_response_headers(msg);
    const char* etag = soup_message_headers_get_one(rh, "ETag");
    const char* rid = soup_message_headers_get_one(rh, "x-amz-request-id");
    response->etag = etag ? etag : "";
    if (const char* date = soup_message_headers_get_one(rh, "Date")) {
      if (GDateTime* t = soup_date_time_new_from_http_string(date)) {
        response->server_time = g_date_time_to_unix(t);
        g_date_time_unref(t);
      }
    }
    response->content_length =
        static_cast<guint64>(std::max<goffset>(soup_message_headers_get_content_length(rh), 0));
    response->request_id = rid ? rid : "";
    std::string doc(reinterpret_cast<const char*>(response->body.data()), response->body.size());
    // CompleteMultipartUpload may answer 200 with an <Error> document.
    bool error_doc = doc.find("<Error>") != std::string::npos;
    if (SOUP_STATUS_IS_SUCCESSFUL(response->status) && !error_doc) {
      ok = true;
    } else {
      error->status = response->status;
      error->code = xml_text(doc, "Code").value_or("");
      error->message = xml_text(doc, "Message")
                           .value_or(error->code.empty() ? printable_excerpt(response->body) : "");
      error->request_id = xml_text(doc, "RequestId").value_or(response->request_id);
      if (error->message.empty()) error->message = soup_message_get_reason_phrase(msg);
      error->kind = retryable_status(response->status, error->code) ? ErrorKind::kServer
                                                                    : ErrorKind::kRejected;
    }
  }
  return ok;
}

bool S3Client::execute(const Call& call, Response* response, S3Error* error) {
  g_main_context_push_thread_default(context_.get());
  S3Error last;
  last.operation = call.operation;
  bool ok = false;
  guint delay = config_.backoff_initial_ms;
  // Every attempt sends the same bytes: hash them once.
  const std::string payload_hash = call.body ? sigv4::sha256_hex(call.body.data(), call.body.size())
                                             : sigv4::sha256_hex(nullptr, 0);
  for (guint attempt = 1; attempt <= config_.retry_attempts; ++attempt) {
    last.attempts = attempt;
    if (g_cancellable_is_cancelled(cancellable_.get())) {
      last.kind = ErrorKind::kCancelled;
      last.message = "cancelled";
      break;
    }
    *response = Response();
    if (send_once(call, payload_hash, response, &last)) {
      ok = true;
      break;
    }
    bool retry = last.kind == ErrorKind::kServer || last.kind == ErrorKind::kNetwork ||
                 last.kind == ErrorKind::kTimeout;
    if (!retry || attempt == config_.retry_attempts) break;
    // Full jitter between half and all of the current back-off step.
    guint wait = delay / 2 + g_random_int_range(0, static_cast<gint32>(delay / 2 + 1));
    if (on_retry) on_retry(last, attempt + 1, wait);
    if (!sleep_cancellable(wait)) {
      last.kind = ErrorKind::kCancelled;
      last.message = "cancelled";
      break;
    }
    delay = std::min(delay * 2, config_.backoff_max_ms);
  }
  g_main_context_pop_thread_default(context_.get());
  last_attempts_ = last.attempts;
  last_server_time_ = response->server_time;
  if (!ok) *error = last;
  return ok;
}

bool S3Client::put_object(const std::string& bucket, const std::string& key, const Bytes& body,
                          const std::string& content_type, S3Error* error) {
  Call call{"PutObject", "PUT", bucket, key, {}, body, content_type};
  Response r;
  return execute(call, &r, error);
}

bool S3Client::create_multipart_upload(const std::string& bucket, const std::string& key,
                                       const std::string& content_type, std::string* upload_id,
                                       S3Error* error) {
  Call call{"CreateMultipartUpload", "POST", bucket, key, {{"uploads", ""}}, Bytes(), content_type};
  Response r;
  if (!execute(call, &r, error)) return false;
  std::string doc(reinterpret_cast<const char*>(r.body.data()), r.body.size());
  auto id = xml_text(doc, "UploadId");
  if (!id || id->empty()) {
    error->kind = ErrorKind::kProtocol;
    error->operation = call.operation;
    error->status = r.status;
    error->message = "the answer has no UploadId: '" + printable_excerpt(r.body) + "'";
    return false;
  }
  *upload_id = *id;
  return true;
}

bool S3Client::upload_part(const std::string& bucket, const std::string& key,
                           const std::string& upload_id, int part_number, const Bytes& body,
                           std::string* etag, S3Error* error) {
  Call call{"UploadPart",
            "PUT",
            bucket,
            key,
            {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
            body,
            ""};
  Response r;
  if (!execute(call, &r, error)) return false;
  if (r.etag.empty()) {
    error->kind = ErrorKind::kProtocol;
    error->operation = call.operation;
    error->status = r.status;
    error->message = "the answer to part " + std::to_string(part_number) + " has no ETag";
    return false;
  }
  *etag = r.etag;
  return true;
}

bool S3Client::complete_multipart_upload(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts, S3Error* error) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& p : parts)
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
           xml_escape(p.etag) + "</ETag></Part>";
  xml += "</CompleteMultipartUpload>";
  Call call{"CompleteMultipartUpload",
            "POST",
            bucket,
            key,
            {{"uploadId", upload_id}},
            Bytes::copy_of(xml.data(), xml.size()),
            "application/xml",
            kCompleteAnswerMs};
  Response r;
  return execute(call, &r, error);
}

bool S3Client::abort_multipart_upload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id, S3Error* error) {
  Call call{"AbortMultipartUpload", "DELETE", bucket, key, {{"uploadId", upload_id}}, Bytes(), ""};
  Response r;
  return execute(call, &r, error);
}

bool S3Client::list_multipart_uploads(const std::string& bucket, const std::string& key,
                                      std::string* xml, S3Error* error) {
  Call call{
      "ListMultipartUploads", "GET", bucket, "", {{"prefix", key}, {"uploads", ""}}, Bytes(), ""};
  Response r;
  if (!execute(call, &r, error)) return false;
  xml->assign(reinterpret_cast<const char*>(r.body.data()), r.body.size());
  return true;
}

bool S3Client::head_object(const std::string& bucket, const std::string& key, guint64* size,
                           std::string* etag, S3Error* error) {
  Call call{"HeadObject", "HEAD", bucket, key, {}, Bytes(), ""};
  Response r;
  if (!execute(call, &r, error)) {
    if (error->status == 404 && error->code.empty()) error->code = "NoSuchKey";
    return false;
  }
  *size = r.content_length;
  *etag = r.etag;
  return true;
}

bool S3Client::get_object(const std::string& bucket, const std::string& key, Bytes* body,
                          S3Error* error) {
  Call call{"GetObject", "GET", bucket, key, {}, Bytes(), ""};
  Response r;
  if (!execute(call, &r, error)) return false;
  *body = r.body;
  return true;
}

}  // namespace relais::s3
