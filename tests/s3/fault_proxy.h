// A small HTTP proxy for failure injection, in front of s3rver: it names
// each request by its S3 operation, fails the first N requests of an
// operation as a rule says (error status, reset connection, stall, garbage
// answer, or forwarding it and losing the answer), forwards the rest, and can
// cap how fast request bodies come in (a slow uplink). Runs libsoup on its
// own thread.
#pragma once

#include <glib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

typedef struct _SoupServer SoupServer;
typedef struct _SoupSession SoupSession;

namespace relais::test {

class FaultProxy {
 public:
  enum class Action {
    kStatus,      // answer `status` with an S3 error document (or `body`)
    kReset,       // close the connection without answering
    kStall,       // answer nothing for `stall_ms`, then 503
    kGarbage,     // answer 200 with a body that is not S3 XML
    kLoseAnswer,  // forward to s3rver (which acts on it), then close without answering
    kSlowAnswer,  // forward to s3rver, then hold its answer back for `stall_ms`
  };
  struct Rule {
    std::string operation;  // PutObject, UploadPart, CreateMultipartUpload, ...
    Action action = Action::kStatus;
    int times = 1;  // how many matching requests to fail; < 0: all
    unsigned status = 503;
    std::string code = "ServiceUnavailable";
    std::string body;  // replaces the S3 error document when set
    int stall_ms = 0;

    static Rule fail(const std::string& op, int times, unsigned status, const std::string& code) {
      Rule r;
      r.operation = op;
      r.times = times;
      r.status = status;
      r.code = code;
      return r;
    }
    static Rule with_body(const std::string& op, int times, unsigned status,
                          const std::string& body) {
      Rule r = fail(op, times, status, "");
      r.body = body;
      return r;
    }
    static Rule reset(const std::string& op, int times) {
      Rule r = fail(op, times, 0, "");
      r.action = Action::kReset;
      return r;
    }
    static Rule stall(const std::string& op, int times, int ms) {
      Rule r = fail(op, times, 503, "");
      r.action = Action::kStall;
      r.stall_ms = ms;
      return r;
    }
    static Rule lose_answer(const std::string& op, int times) {
      Rule r = fail(op, times, 0, "");
      r.action = Action::kLoseAnswer;
      return r;
    }
    static Rule slow_answer(const std::string& op, int times, int ms) {
      Rule r = fail(op, times, 0, "");
      r.action = Action::kSlowAnswer;
      r.stall_ms = ms;
      return r;
    }
    static Rule garbage(const std::string& op, int times) {
      Rule r = fail(op, times, 200, "");
      r.action = Action::kGarbage;
      return r;
    }
  };
  struct Entry {
    std::string operation;
    std::string method;
    std::string target;  // path?query as received
    unsigned status = 0;
    bool injected = false;
    // SigV4 as received, checked with the secret of s3rver's account:
    bool signed_v4 = false;
    bool signature_ok = false;     // the signature matches the request as received
    bool payload_hash_ok = false;  // x-amz-content-sha256 is the SHA-256 of the body
    std::string signed_headers;
    std::string security_token;
    std::string canonical_request;  // as rebuilt from what was received
    std::string authorization;      // as received
    std::string expected_authorization;
  };
  // Checks SigV4 on each request as it arrives on the wire (s3rver itself
  // only checks the access key id).
  void set_secret(const std::string& access_key, const std::string& secret) {
    access_key_ = access_key;
    secret_ = secret;
  }

  explicit FaultProxy(int upstream_port) : upstream_port_(upstream_port) {}
  ~FaultProxy();
  bool start(std::string* error);
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void add_rule(const Rule& rule);
  // Each request body is read at most this fast (bytes per second; 0: no
  // cap): the sender sees its bytes move slowly, but steadily.
  void set_upload_rate(guint64 bytes_per_second) { upload_rate_ = bytes_per_second; }
  guint64 upload_rate() const { return upload_rate_; }
  std::vector<Entry> log() const;
  int count(const std::string& operation) const;

  // Handlers, on the proxy thread.
  void handle(void* msg, const char* method, const std::string& operation);
  void record(const Entry& entry);

 private:
  void run();

  const int upstream_port_;
  std::atomic<guint64> upload_rate_{0};
  std::string access_key_ = "S3RVER";
  std::string secret_ = "S3RVER";
  int port_ = 0;
  mutable std::mutex mutex_;  // guards rules_ and log_
  std::vector<Rule> rules_;
  std::vector<Entry> log_;
  GMainContext* context_ = nullptr;
  GMainLoop* loop_ = nullptr;
  SoupServer* server_ = nullptr;
  SoupSession* session_ = nullptr;
  std::thread thread_;
  std::string start_error_;
};

}  // namespace relais::test
