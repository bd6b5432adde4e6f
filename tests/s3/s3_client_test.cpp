// The S3 client against a real s3rver, directly and through a fault-injecting
// proxy: round trips, addressing styles, retries and what is not retried.
#include <gtest/gtest.h>

#include <thread>

#include "fault_proxy.h"
#include "s3_client.h"
#include "s3rver.h"

using relais::Bytes;
using relais::s3::ClientConfig;
using relais::s3::CompletedPart;
using relais::s3::ErrorKind;
using relais::s3::S3Client;
using relais::s3::S3Error;
using relais::test::FaultProxy;
using relais::test::S3rver;

namespace {

constexpr char kBucket[] = "client-bucket";
constexpr gsize kMiB = 1024 * 1024;

class S3ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = S3rver::start_for_suite(kBucket); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "s3rver did not start"; }

  ClientConfig config(const std::string& endpoint) const {
    ClientConfig c;
    c.endpoint = endpoint;
    c.access_key = S3rver::kAccessKey;
    c.secret_key = S3rver::kSecretKey;
    c.request_timeout_ms = 5000;
    c.backoff_initial_ms = 20;
    return c;
  }
  std::unique_ptr<S3Client> client(const ClientConfig& c) const {
    std::string error;
    auto cl = S3Client::create(c, &error);
    EXPECT_TRUE(cl) << error;
    return cl;
  }
  std::string read_back(const std::string& key) const {
    auto r = relais::test::http_get(server_->endpoint() + "/" + kBucket + "/" +
                                    relais::s3::sigv4::uri_encode(key, false));
    EXPECT_EQ(r.status, 200u) << key;
    return r.body;
  }
  static Bytes bytes(const std::string& s) { return Bytes::copy_of(s.data(), s.size()); }

  static std::unique_ptr<S3rver> server_;
};

std::unique_ptr<S3rver> S3ClientTest::server_;

TEST(MultipartEtag, IsTheMd5OfThePartMd5sAndTheCount) {
  // Parts "a" and "b": MD5 of their two binary MD5s, then -2.
  std::vector<relais::s3::CompletedPart> parts = {{1, "\"0cc175b9c0f1b6a831c399e269772661\""},
                                                  {2, "\"92eb5ffee6ae2fec3ad71c777531578f\""}};
  EXPECT_EQ(relais::s3::multipart_etag(parts), "\"96e024ba2074fe77e8e965ba43a704be-2\"");
  parts[1].etag = "\"not-an-md5\"";
  EXPECT_EQ(relais::s3::multipart_etag(parts), "");
}

TEST(OrphanUploads, AreThisKeysOtherUploadsFromTheWindow) {
  const std::string xml =
      "<ListMultipartUploadsResult><Bucket>b</Bucket>"
      "<Upload><Key>rec/a.ts</Key><UploadId>mine</UploadId>"
      "<Initiated>2026-12-02T10:00:05.000Z</Initiated></Upload>"
      "<Upload><Key>rec/a.ts</Key><UploadId>lost</UploadId>"
      "<Initiated>2026-12-02T10:00:03.000Z</Initiated></Upload>"
      "<Upload><Key>rec/a.ts</Key><UploadId>older</UploadId>"
      "<Initiated>2026-12-02T09:00:00.000Z</Initiated></Upload>"
      "<Upload><Key>rec/a.ts.bak</Key><UploadId>other-key</UploadId>"
      "<Initiated>2026-12-02T10:00:04.000Z</Initiated></Upload>"
      "</ListMultipartUploadsResult>";
  GDateTime* t = g_date_time_new_from_iso8601("2026-12-02T10:00:05Z", nullptr);
  gint64 now = g_date_time_to_unix(t);
  g_date_time_unref(t);
  EXPECT_EQ(relais::s3::orphan_upload_ids(xml, "rec/a.ts", "mine", now - 10, now + 1),
            std::vector<std::string>{"lost"});
  EXPECT_TRUE(relais::s3::orphan_upload_ids(xml, "rec/a.ts", "mine", now - 1, now + 1).empty());
}

TEST_F(S3ClientTest, PutObjectRoundTrips) {
  auto c = client(config(server_->endpoint()));
  std::string data = relais::test::test_bytes(100000, 1);
  S3Error err;
  ASSERT_TRUE(c->put_object(kBucket, "put/one.bin", bytes(data), "application/octet-stream", &err))
      << err.describe();
  EXPECT_EQ(read_back("put/one.bin"), data);
  Bytes got;
  ASSERT_TRUE(c->get_object(kBucket, "put/one.bin", &got, &err)) << err.describe();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(got.data()), got.size()), data);
}

TEST_F(S3ClientTest, MultipartUploadAssemblesPartsInOrder) {
  auto c = client(config(server_->endpoint()));
  std::string data = relais::test::test_bytes(11 * kMiB + 123, 2);
  S3Error err;
  std::string id;
  ASSERT_TRUE(c->create_multipart_upload(kBucket, "multi/obj.bin", "", &id, &err))
      << err.describe();
  std::vector<CompletedPart> parts;
  for (gsize off = 0, n = 1; off < data.size(); off += 5 * kMiB, ++n) {
    std::string etag;
    std::string part = data.substr(off, 5 * kMiB);
    ASSERT_TRUE(
        c->upload_part(kBucket, "multi/obj.bin", id, static_cast<int>(n), bytes(part), &etag, &err))
        << err.describe();
    parts.push_back({static_cast<int>(n), etag});
  }
  ASSERT_EQ(parts.size(), 3u);
  ASSERT_TRUE(c->complete_multipart_upload(kBucket, "multi/obj.bin", id, parts, &err))
      << err.describe();
  EXPECT_EQ(read_back("multi/obj.bin"), data);
}

TEST_F(S3ClientTest, KeysWithSpacesAndUtf8AreEncodedOnce) {
  auto c = client(config(server_->endpoint()));
  const std::string key = "odd keys/a b+c=d&e \xC3\xBC$.bin";
  S3Error err;
  ASSERT_TRUE(c->put_object(kBucket, key, bytes("payload"), "", &err)) << err.describe();
  EXPECT_EQ(read_back(key), "payload");
  auto keys = relais::test::list_keys(server_->endpoint(), kBucket, "odd keys/");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], key);
}

TEST_F(S3ClientTest, VirtualHostedStyleAddressesBucketInHost) {
  ClientConfig cfg = config("http://s3.localhost:" + std::to_string(server_->port()));
  auto c = client(cfg);
  EXPECT_EQ(c->object_url(kBucket, "v/k.bin"), "http://" + std::string(kBucket) + ".s3.localhost:" +
                                                   std::to_string(server_->port()) + "/v/k.bin");
  S3Error err;
  ASSERT_TRUE(c->put_object(kBucket, "v/k.bin", bytes("vhost"), "", &err)) << err.describe();
  EXPECT_EQ(read_back("v/k.bin"), "vhost");

  cfg.force_path_style = true;
  auto p = client(cfg);
  EXPECT_EQ(p->object_url(kBucket, "v/k.bin"),
            "http://s3.localhost:" + std::to_string(server_->port()) + "/" + kBucket + "/v/k.bin");
}

TEST_F(S3ClientTest, EveryRequestIsSignedAsItIsSentWithItsPayloadHash) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  ClientConfig cfg = config(proxy.endpoint());
  cfg.session_token = "session/token+value==";
  cfg.region = "eu-central-1";
  auto c = client(cfg);
  S3Error err;
  const std::string key = "signed/a b+c \xC3\xA9=&.bin";
  ASSERT_TRUE(c->put_object(kBucket, key, bytes("signed payload"), "video/MP2T", &err))
      << err.describe();
  std::string id, etag;
  ASSERT_TRUE(c->create_multipart_upload(kBucket, key, "", &id, &err)) << err.describe();
  std::string part = relais::test::test_bytes(5 * kMiB + 3, 4);
  ASSERT_TRUE(c->upload_part(kBucket, key, id, 1, bytes(part), &etag, &err)) << err.describe();
  ASSERT_TRUE(c->complete_multipart_upload(kBucket, key, id, {{1, etag}}, &err)) << err.describe();
  EXPECT_EQ(read_back(key), part);
  auto log = proxy.log();
  ASSERT_EQ(log.size(), 4u);
  for (const auto& e : log) {
    EXPECT_TRUE(e.signed_v4) << e.operation;
    EXPECT_TRUE(e.signature_ok) << e.operation << " " << e.target << "\n" << e.canonical_request;
    EXPECT_TRUE(e.payload_hash_ok) << e.operation;
    EXPECT_EQ(e.security_token, cfg.session_token) << e.operation;
  }
  EXPECT_EQ(log[0].signed_headers,
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token");

  // The check is real: a wrong secret (s3rver does not notice) is caught.
  FaultProxy proxy2(server_->port());
  ASSERT_TRUE(proxy2.start(&perr)) << perr;
  ClientConfig bad = config(proxy2.endpoint());
  bad.secret_key = "not-the-secret";
  ASSERT_TRUE(client(bad)->put_object(kBucket, "signed/bad.bin", bytes("x"), "", &err));
  ASSERT_EQ(proxy2.log().size(), 1u);
  EXPECT_TRUE(proxy2.log()[0].payload_hash_ok);
  EXPECT_FALSE(proxy2.log()[0].signature_ok);
}

TEST_F(S3ClientTest, WrongAccessKeyIsRejectedWithoutRetry) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  ClientConfig cfg = config(proxy.endpoint());
  cfg.access_key = "NOT-A-KEY";
  auto c = client(cfg);
  S3Error err;
  EXPECT_FALSE(c->put_object(kBucket, "denied.bin", bytes("x"), "", &err));
  EXPECT_EQ(err.kind, ErrorKind::kRejected);
  EXPECT_EQ(err.status, 403u);
  EXPECT_EQ(err.code, "InvalidAccessKeyId");
  EXPECT_EQ(err.attempts, 1u);
  EXPECT_EQ(proxy.count("PutObject"), 1);
  EXPECT_EQ(relais::test::http_get(server_->endpoint() + "/" + kBucket + "/denied.bin").status,
            404u);
}

TEST_F(S3ClientTest, MissingBucketIsRejected) {
  auto c = client(config(server_->endpoint()));
  S3Error err;
  EXPECT_FALSE(c->put_object("no-such-bucket", "k", bytes("x"), "", &err));
  EXPECT_EQ(err.kind, ErrorKind::kRejected);
  EXPECT_EQ(err.code, "NoSuchBucket");
  EXPECT_NE(err.describe().find("PutObject: HTTP 404 NoSuchBucket"), std::string::npos)
      << err.describe();
}

TEST_F(S3ClientTest, ServerErrorsTimeoutsAndResetsAreRetried) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  proxy.add_rule(FaultProxy::Rule::fail("PutObject", 1, 503, "SlowDown"));
  proxy.add_rule(FaultProxy::Rule::fail("PutObject", 1, 500, "InternalError"));
  proxy.add_rule(FaultProxy::Rule::reset("PutObject", 1));
  proxy.add_rule(FaultProxy::Rule::stall("PutObject", 1, 4000));
  ClientConfig cfg = config(proxy.endpoint());
  cfg.request_timeout_ms = 1000;
  cfg.retry_attempts = 6;
  auto c = client(cfg);
  guint retries = 0;
  c->on_retry = [&](const S3Error&, guint, guint) { retries++; };
  std::string data = relais::test::test_bytes(300000, 3);
  S3Error err;
  ASSERT_TRUE(c->put_object(kBucket, "retried.bin", bytes(data), "", &err)) << err.describe();
  EXPECT_EQ(read_back("retried.bin"), data);
  // libsoup itself re-sends once when a kept-alive connection closes before
  // any answer, so the reset may not cost one of our attempts.
  EXPECT_GE(retries, 3u);
  auto log = proxy.log();
  int injected = 0;
  for (const auto& e : log) injected += e.injected;
  EXPECT_EQ(injected, 4);
  EXPECT_EQ(log.back().status, 200u);
}

TEST_F(S3ClientTest, GivesUpAfterRetryAttempts) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  proxy.add_rule(FaultProxy::Rule::fail("PutObject", -1, 503, "SlowDown"));
  ClientConfig cfg = config(proxy.endpoint());
  cfg.retry_attempts = 3;
  auto c = client(cfg);
  S3Error err;
  EXPECT_FALSE(c->put_object(kBucket, "never.bin", bytes("x"), "", &err));
  EXPECT_EQ(err.kind, ErrorKind::kServer);
  EXPECT_EQ(err.status, 503u);
  EXPECT_EQ(err.code, "SlowDown");
  EXPECT_EQ(err.attempts, 3u);
  EXPECT_EQ(proxy.count("PutObject"), 3);
}

TEST_F(S3ClientTest, AnswerWithoutUploadIdIsAProtocolError) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  proxy.add_rule(FaultProxy::Rule::garbage("CreateMultipartUpload", 1));
  auto c = client(config(proxy.endpoint()));
  S3Error err;
  std::string id;
  EXPECT_FALSE(c->create_multipart_upload(kBucket, "garbage.bin", "", &id, &err));
  EXPECT_EQ(err.kind, ErrorKind::kProtocol);
  EXPECT_NE(err.message.find("no UploadId"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("this is not what an S3 server says"), std::string::npos);
}

TEST_F(S3ClientTest, ErrorWithoutXmlBodyStillSaysWhatHappened) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  proxy.add_rule(FaultProxy::Rule::with_body("PutObject", 1, 400,
                                             "<html><body>Bad gateway config</body></html>"));
  auto c = client(config(proxy.endpoint()));
  S3Error err;
  EXPECT_FALSE(c->put_object(kBucket, "html.bin", bytes("x"), "", &err));
  EXPECT_EQ(err.kind, ErrorKind::kRejected);
  EXPECT_EQ(err.status, 400u);
  EXPECT_NE(err.describe().find("Bad gateway config"), std::string::npos) << err.describe();
}

TEST_F(S3ClientTest, CancelFromAnotherThreadEndsAStalledRequest) {
  FaultProxy proxy(server_->port());
  std::string perr;
  ASSERT_TRUE(proxy.start(&perr)) << perr;
  proxy.add_rule(FaultProxy::Rule::stall("PutObject", -1, 20000));
  ClientConfig cfg = config(proxy.endpoint());
  cfg.request_timeout_ms = -1;
  auto c = client(cfg);
  std::thread canceller([&] {
    g_usleep(300 * 1000);
    c->cancel();
  });
  S3Error err;
  gint64 t0 = g_get_monotonic_time();
  EXPECT_FALSE(c->put_object(kBucket, "cancelled.bin", bytes("x"), "", &err));
  canceller.join();
  EXPECT_EQ(err.kind, ErrorKind::kCancelled);
  EXPECT_LT(g_get_monotonic_time() - t0, 15 * G_USEC_PER_SEC);  // not the 20 s stall
}

TEST(S3ClientConfig, RejectsUnusableConfiguration) {
  ClientConfig c;
  std::string error;
  EXPECT_FALSE(S3Client::create(c, &error));
  EXPECT_NE(error.find("AWS_ACCESS_KEY_ID"), std::string::npos) << error;
  c.access_key = "a";
  c.secret_key = "b";
  c.endpoint = "ftp://example.com";
  EXPECT_FALSE(S3Client::create(c, &error));
  EXPECT_NE(error.find("ftp://example.com"), std::string::npos) << error;
  c.endpoint = "http://example.com/some/path";
  EXPECT_FALSE(S3Client::create(c, &error));
  EXPECT_NE(error.find("path"), std::string::npos) << error;
  c.endpoint = "not a uri at all";
  EXPECT_FALSE(S3Client::create(c, &error));
  c.endpoint = "";
  c.region = "eu-west-3";
  auto ok = S3Client::create(c, &error);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->object_url("my-bucket", "a/b c"),
            "https://my-bucket.s3.eu-west-3.amazonaws.com/a/b%20c");
  EXPECT_EQ(ok->object_url("My_Bucket", "k"), "https://s3.eu-west-3.amazonaws.com/My_Bucket/k");
}

}  // namespace
