// S3 requests over libsoup 3, signed with SigV4, with retries.
//
// One client belongs to one thread: it owns a GMainContext and a SoupSession
// created on that context, and each request runs there until it completes
// (so a request timeout and cancellation from another thread both work).
// Only cancel() may be called from other threads.
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "glib_handles.h"
#include "sigv4.h"

typedef struct _SoupSession SoupSession;

namespace relais::s3 {

struct GObjectUnref {
  void operator()(gpointer obj) const { g_object_unref(obj); }
};
template <typename T>
using ObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct ClientConfig {
  std::string endpoint;  // http(s)://host[:port]; empty: https://s3.<region>.amazonaws.com
  std::string region = "us-east-1";
  bool force_path_style = false;
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent as x-amz-security-token when set
  // Inactivity limit per attempt: the attempt fails when no byte has moved
  // (request written, answer read) for this long; < 0: no limit. A slow
  // request whose bytes keep moving is never cut off. CompleteMultipartUpload
  // may wait up to kCompleteAnswerMs for its answer to begin.
  gint64 request_timeout_ms = 15000;
  guint retry_attempts = 5;        // attempts per request (>= 1)
  guint backoff_initial_ms = 100;  // doubled per attempt, with jitter
  guint backoff_max_ms = 5000;
};

// How long S3 may take to begin answering CompleteMultipartUpload once the
// request is written (it can take minutes on AWS).
inline constexpr gint64 kCompleteAnswerMs = 10 * 60 * 1000;

enum class ErrorKind {
  kNone,
  kRejected,   // 4xx: credentials, missing bucket, bad request; not retried
  kServer,     // 5xx (or 429/RequestTimeout) on every attempt
  kNetwork,    // connection refused/reset, DNS, TLS, on every attempt
  kTimeout,    // no byte moved for request_timeout_ms, on every attempt
  kProtocol,   // an answer that is not what S3 sends (no UploadId, ...)
  kCancelled,  // cancel() was called
};

struct S3Error {
  ErrorKind kind = ErrorKind::kNone;
  std::string operation;  // PutObject, UploadPart, ...
  guint status = 0;       // HTTP status of the last attempt, 0 if none
  std::string code;       // S3 error code (NoSuchBucket, ...) when the server sent one
  std::string message;    // S3 error message, or the transport error
  std::string request_id;
  guint attempts = 0;
  // One line for people: "UploadPart: HTTP 503 SlowDown: Reduce your request rate (3 attempts)".
  std::string describe() const;
};

struct CompletedPart {
  int number = 0;
  std::string etag;
};

// The ETag S3 gives an object assembled from `parts` (sorted by number): the
// MD5 of their MD5s, then -N, quoted. Empty when a part's ETag is not an MD5
// (SSE-KMS, some S3-compatible servers).
std::string multipart_etag(const std::vector<CompletedPart>& parts);

// Upload ids in a ListMultipartUploads answer for exactly `key`, other than
// `keep_id`, initiated between `from` and `to` (Unix seconds, inclusive): the
// uploads a retried CreateMultipartUpload may have created.
std::vector<std::string> orphan_upload_ids(std::string_view list_xml, const std::string& key,
                                           const std::string& keep_id, gint64 from, gint64 to);

class S3Client {
 public:
  // Checks the configuration (endpoint URI, credentials); on failure returns
  // null and says what to fix in `error`.
  static std::unique_ptr<S3Client> create(const ClientConfig& config, std::string* error);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  bool put_object(const std::string& bucket, const std::string& key, const Bytes& body,
                  const std::string& content_type, S3Error* error);
  bool create_multipart_upload(const std::string& bucket, const std::string& key,
                               const std::string& content_type, std::string* upload_id,
                               S3Error* error);
  bool upload_part(const std::string& bucket, const std::string& key, const std::string& upload_id,
                   int part_number, const Bytes& body, std::string* etag, S3Error* error);
  bool complete_multipart_upload(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts, S3Error* error);
  bool abort_multipart_upload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id, S3Error* error);
  // The multipart uploads in progress under `key` (ListMultipartUploads, as XML).
  bool list_multipart_uploads(const std::string& bucket, const std::string& key, std::string* xml,
                              S3Error* error);
  // Of the last request: how many attempts it took, and the server's clock
  // (Unix seconds, from its Date header; 0 when absent).
  guint last_attempts() const { return last_attempts_; }
  gint64 last_server_time() const { return last_server_time_; }
  // Size and ETag of an object (404: kRejected with code NoSuchKey).
  bool head_object(const std::string& bucket, const std::string& key, guint64* size,
                   std::string* etag, S3Error* error);
  // Reads a whole object (status 404 gives kRejected with code NoSuchKey).
  bool get_object(const std::string& bucket, const std::string& key, Bytes* body, S3Error* error);

  // URL of an object as this client addresses it (path or virtual-host style).
  std::string object_url(const std::string& bucket, const std::string& key) const;
  const ClientConfig& config() const { return config_; }
  // Owner thread: caps the attempts per request from now on.
  void limit_attempts(guint attempts) { config_.retry_attempts = std::max(1u, attempts); }

  // Any thread: the request in flight and every later one fail with kCancelled.
  void cancel();
  // Owner thread, no request in flight: accept requests again.
  void reset_cancel();

  // Called on the owner thread before each retry (for logging).
  std::function<void(const S3Error& last, guint next_attempt, guint delay_ms)> on_retry;

 private:
  struct Response;
  struct Call;
  explicit S3Client(const ClientConfig& config);
  bool execute(const Call& call, Response* response, S3Error* error);
  bool send_once(const Call& call, const std::string& payload_hash, Response* response,
                 S3Error* error);
  bool sleep_cancellable(guint ms);
  bool use_path_style(const std::string& bucket) const;

  ClientConfig config_;
  std::string scheme_;
  std::string host_;
  int port_ = -1;
  GMainContextPtr context_;
  ObjectPtr<SoupSession> session_;       // used on context_ only
  ObjectPtr<GCancellable> cancellable_;  // cancel() from any thread
  guint last_attempts_ = 0;
  gint64 last_server_time_ = 0;
};

}  // namespace relais::s3
