// relaiss3sink in real pipelines against a real s3rver (through the
// fault-injecting proxy where requests are counted or failed): objects read
// back byte for byte, splitmuxsink segments, retries, and every failure
// ending with a clear error and no object.
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "fault_proxy.h"
#include "s3rver.h"
#include "sigv4.h"

using relais::test::FaultProxy;
using relais::test::S3rver;

namespace {

constexpr char kBucket[] = "sink-bucket";
constexpr gsize kMiB = 1024 * 1024;

struct RunResult {
  bool eos = false;
  bool error = false;
  std::string message;  // error text
  std::string debug;
  GQuark domain = 0;
  int code = 0;
  std::vector<std::string> warnings;
  bool object_at_eos = false;  // the object could be read when EOS arrived
  std::string object_at_eos_bytes;
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class RelaisS3SinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = S3rver::start_for_suite(kBucket); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "s3rver did not start";
    // Only what a test sets counts, never the caller's AWS environment.
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
          "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"})
      g_unsetenv(v);
  }

  std::map<std::string, std::string> props(const std::string& endpoint,
                                           const std::string& key) const {
    return {{"uri", "s3://" + std::string(kBucket) + "/" + key},
            {"endpoint-uri", endpoint},
            {"access-key", S3rver::kAccessKey},
            {"secret-access-key", S3rver::kSecretKey},
            {"request-timeout", "5000"}};
  }

  relais::test::HttpResult get(const std::string& key) const {
    return relais::test::http_get(server_->endpoint() + "/" + kBucket + "/" +
                                  relais::s3::sigv4::uri_encode(key, false));
  }

  // Waits for EOS or ERROR on a running pipeline; reads `key` back at EOS.
  static RunResult wait(GstElement* pipeline, const std::string& check_key, int timeout_s) {
    RunResult r;
    GstBus* bus = gst_element_get_bus(pipeline);
    gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
    while (!r.eos && !r.error) {
      gint64 left = deadline - g_get_monotonic_time();
      if (left <= 0) {
        r.message = "timed out waiting for EOS or ERROR";
        r.error = true;
        break;
      }
      GstMessage* m = gst_bus_timed_pop_filtered(
          bus, left * 1000,
          static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING));
      if (!m) continue;
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
        r.eos = true;
        if (!check_key.empty()) {
          auto got = relais::test::http_get(server_->endpoint() + "/" + kBucket + "/" +
                                            relais::s3::sigv4::uri_encode(check_key, false));
          r.object_at_eos = got.status == 200;
          r.object_at_eos_bytes = got.body;
        }
      } else {
        GError* err = nullptr;
        gchar* dbg = nullptr;
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
          gst_message_parse_error(m, &err, &dbg);
          if (!r.error) {
            r.error = true;
            r.message = err->message;
            r.debug = dbg ? dbg : "";
            r.domain = err->domain;
            r.code = err->code;
          }
        } else {
          gst_message_parse_warning(m, &err, &dbg);
          r.warnings.push_back(err->message);
        }
        g_clear_error(&err);
        g_free(dbg);
      }
      gst_message_unref(m);
    }
    gst_object_unref(bus);
    return r;
  }

  // appsrc ! relaiss3sink with `properties`, `data` pushed in 64 KiB buffers
  // from another thread, then EOS. With `while_running`, that runs on this
  // thread meanwhile, and the pipeline is stopped after it without EOS
  // (unless `then_eos`).
  static RunResult push(const std::map<std::string, std::string>& properties,
                        const std::string& data, const std::string& check_key,
                        const std::string& caps = "",
                        std::function<void(GstElement*)> while_running = nullptr,
                        bool then_eos = false) {
    std::string desc = "appsrc name=src format=bytes block=true max-bytes=1048576";
    if (!caps.empty()) desc += " caps=\"" + caps + "\"";
    desc += " ! relaiss3sink name=sink";
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
    RunResult r;
    if (!pipeline || err) {
      ADD_FAILURE() << "cannot build '" << desc << "': " << (err ? err->message : "");
      g_clear_error(&err);
      if (pipeline) gst_object_unref(pipeline);
      r.error = true;
      r.message = "no pipeline";
      return r;
    }
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    for (const auto& [k, v] : properties)
      gst_util_set_object_arg(G_OBJECT(sink), k.c_str(), v.c_str());
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      r = wait(pipeline, "", 5);
    } else {
      std::thread pusher([&] {
        for (gsize off = 0; off < data.size(); off += 65536) {
          gsize n = std::min<gsize>(65536, data.size() - off);
          GstBuffer* b = gst_buffer_new_memdup(data.data() + off, n);
          if (gst_app_src_push_buffer(GST_APP_SRC(src), b) != GST_FLOW_OK) return;
        }
        if (!while_running || then_eos) gst_app_src_end_of_stream(GST_APP_SRC(src));
      });
      if (while_running) while_running(pipeline);
      r = wait(pipeline, check_key, while_running && !then_eos ? 1 : 30);
      // READY ends the object; the bus drops pending messages on the way to NULL.
      gst_element_set_state(pipeline, GST_STATE_READY);
      pusher.join();
      // Warnings posted while stopping.
      GstBus* bus = gst_element_get_bus(pipeline);
      while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
        GError* e = nullptr;
        gst_message_parse_warning(m, &e, nullptr);
        r.warnings.push_back(e->message);
        g_error_free(e);
        gst_message_unref(m);
      }
      gst_object_unref(bus);
    }
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
    return r;
  }

  static void expect_all_signed(const FaultProxy& proxy) {
    for (const auto& e : proxy.log()) {
      EXPECT_TRUE(e.signature_ok) << e.operation << " " << e.target;
      EXPECT_TRUE(e.payload_hash_ok) << e.operation;
    }
  }

  static std::vector<std::string> operations(const FaultProxy& proxy) {
    std::vector<std::string> ops;
    for (const auto& e : proxy.log()) ops.push_back(e.operation);
    return ops;
  }

  static std::unique_ptr<S3rver> server_;
};

std::unique_ptr<S3rver> RelaisS3SinkTest::server_;

#define START_PROXY(proxy)                   \
  FaultProxy proxy(server_->port());         \
  {                                          \
    std::string perr;                        \
    ASSERT_TRUE(proxy.start(&perr)) << perr; \
  }

TEST_F(RelaisS3SinkTest, SmallObjectIsOnePutAndCompleteAtEos) {
  START_PROXY(proxy);
  std::string data = relais::test::test_bytes(300 * 1024 + 7, 11);
  RunResult r = push(props(proxy.endpoint(), "small/one.bin"), data, "small/one.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos);
  EXPECT_EQ(r.object_at_eos_bytes, data);
  EXPECT_EQ(operations(proxy), std::vector<std::string>{"PutObject"});
  expect_all_signed(proxy);
  EXPECT_EQ(get("small/one.bin").content_type, "binary/octet-stream");
}

TEST_F(RelaisS3SinkTest, LargeObjectIsMultipartInPartSizedParts) {
  START_PROXY(proxy);
  std::string data = relais::test::test_bytes(13 * kMiB + 5, 12);
  RunResult r = push(props(proxy.endpoint(), "large/obj.bin"), data, "large/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  ASSERT_TRUE(r.object_at_eos);
  EXPECT_EQ(r.object_at_eos_bytes.size(), data.size());
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(operations(proxy),
            (std::vector<std::string>{"CreateMultipartUpload", "UploadPart", "UploadPart",
                                      "UploadPart", "CompleteMultipartUpload"}));
  expect_all_signed(proxy);
}

TEST_F(RelaisS3SinkTest, PartSizeTakesS3sLimitsIn64Bits) {
  GstElement* sink = gst_element_factory_make("relaiss3sink", nullptr);
  ASSERT_TRUE(sink);
  auto* spec =
      G_PARAM_SPEC_UINT64(g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "part-size"));
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->minimum, 5ull << 20);
  EXPECT_EQ(spec->maximum, 5ull << 30);
  g_object_set(sink, "part-size", guint64{4608} << 20, nullptr);  // 4.5 GiB: past 32 bits
  guint64 part = 0;
  g_object_get(sink, "part-size", &part, nullptr);
  EXPECT_EQ(part, guint64{4608} << 20);
  gst_object_unref(sink);
  // An object smaller than such a part is one PUT.
  START_PROXY(proxy);
  auto p = props(proxy.endpoint(), "bigpart/obj.bin");
  p["part-size"] = std::to_string(guint64{4608} << 20);
  std::string data = relais::test::test_bytes(6 * kMiB + 1, 22);
  RunResult r = push(p, data, "bigpart/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(operations(proxy), std::vector<std::string>{"PutObject"});
}

TEST_F(RelaisS3SinkTest, ContentTypeComesFromCapsUnlessSet) {
  RunResult r = push(props(server_->endpoint(), "ct/a.ts"), "tsdata", "ct/a.ts",
                     "video/mpegts,systemstream=true,packetsize=188");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_EQ(get("ct/a.ts").content_type, "video/MP2T");
  auto p = props(server_->endpoint(), "ct/b.ts");
  p["content-type"] = "application/x-custom";
  r = push(p, "tsdata", "ct/b.ts", "video/mpegts,systemstream=true,packetsize=188");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_EQ(get("ct/b.ts").content_type, "application/x-custom");
}

TEST_F(RelaisS3SinkTest, VirtualHostedEndpoint) {
  std::string data = relais::test::test_bytes(6 * kMiB, 13);
  RunResult r = push(props("http://s3.localhost:" + std::to_string(server_->port()), "vh/x.bin"),
                     data, "vh/x.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
}

TEST_F(RelaisS3SinkTest, EmptyStreamWritesAnEmptyObject) {
  RunResult r = push(props(server_->endpoint(), "empty.bin"), "", "empty.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos);
  EXPECT_EQ(r.object_at_eos_bytes, "");
}

// The same deterministic encode, once to files as the reference.
std::string segment_pipeline(const std::string& tail) {
  return "videotestsrc num-buffers=90 ! video/x-raw,width=160,height=120,framerate=30/1 ! "
         "x264enc threads=1 key-int-max=30 ! h264parse ! " +
         tail;
}

class SegmentTest : public RelaisS3SinkTest {
 protected:
  void SetUp() override {
    RelaisS3SinkTest::SetUp();
    std::string desc = segment_pipeline(
        "splitmuxsink muxer=mpegtsmux max-size-time=1000000000 "
        "location=" +
        dir_.file("%05d.ts"));
    GstElement* p = gst_parse_launch(desc.c_str(), nullptr);
    ASSERT_TRUE(p);
    gst_element_set_state(p, GST_STATE_PLAYING);
    RunResult r = wait(p, "", 30);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    ASSERT_TRUE(r.eos) << r.message;
    for (int i = 0;; ++i) {
      gchar* name = g_strdup_printf("%05d.ts", i);
      std::string path = dir_.file(name);
      g_free(name);
      if (!g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) break;
      reference_.push_back(read_file(path));
    }
    ASSERT_EQ(reference_.size(), 3u);
  }
  void expect_segments(const std::string& prefix) {
    auto keys = relais::test::list_keys(server_->endpoint(), kBucket, prefix);
    ASSERT_EQ(keys.size(), reference_.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      gchar* name = g_strdup_printf("%s%05zu.ts", prefix.c_str(), i);
      EXPECT_EQ(keys[i], name);
      auto got = get(keys[i]);
      EXPECT_EQ(got.status, 200u);
      EXPECT_TRUE(got.body == reference_[i]) << "segment " << i << " differs";
      EXPECT_EQ(got.content_type, "video/MP2T");
      g_free(name);
    }
  }
  relais::test::TempDir dir_;
  std::vector<std::string> reference_;
};

TEST_F(SegmentTest, SplitmuxsinkReusesOneSinkPerFragment) {
  std::string desc = segment_pipeline(
      "splitmuxsink name=split muxer=mpegtsmux max-size-time=1000000000 "
      "location=s3://" +
      std::string(kBucket) + "/seg-a/%05d.ts");
  GstElement* p = gst_parse_launch(desc.c_str(), nullptr);
  ASSERT_TRUE(p);
  GstElement* split = gst_bin_get_by_name(GST_BIN(p), "split");
  GstElement* sink = gst_element_factory_make("relaiss3sink", nullptr);
  ASSERT_TRUE(sink);
  g_object_set(sink, "endpoint-uri", server_->endpoint().c_str(), "access-key", S3rver::kAccessKey,
               "secret-access-key", S3rver::kSecretKey, nullptr);
  g_object_set(split, "sink", sink, nullptr);
  gst_element_set_state(p, GST_STATE_PLAYING);
  RunResult r = wait(p, "", 30);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(split);
  gst_object_unref(p);
  ASSERT_TRUE(r.eos) << r.message;
  expect_segments("seg-a/");
}

TEST_F(SegmentTest, SplitmuxsinkCreatesASinkPerFragmentFromTheFactory) {
  // splitmuxsink 1.22 only uses sink-factory with async-finalize=true.
  std::string desc = segment_pipeline(
      "splitmuxsink muxer-factory=mpegtsmux async-finalize=true max-size-time=1000000000 "
      "sink-factory=relaiss3sink sink-properties=\"props,endpoint-uri=" +
      server_->endpoint() + ",access-key=S3RVER,secret-access-key=S3RVER\" location=s3://" +
      kBucket + "/seg-b/%05d.ts");
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(desc.c_str(), &err);
  ASSERT_TRUE(p) << (err ? err->message : "");
  gst_element_set_state(p, GST_STATE_PLAYING);
  RunResult r = wait(p, "", 30);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  ASSERT_TRUE(r.eos) << r.message;
  expect_segments("seg-b/");
}

TEST_F(RelaisS3SinkTest, RetriedFailuresStillGiveTheSameBytes) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::fail("CreateMultipartUpload", 1, 500, "InternalError"));
  proxy.add_rule(FaultProxy::Rule::fail("UploadPart", 2, 503, "SlowDown"));
  proxy.add_rule(FaultProxy::Rule::fail("CompleteMultipartUpload", 1, 503, "SlowDown"));
  auto p = props(proxy.endpoint(), "retry/obj.bin");
  std::string data = relais::test::test_bytes(12 * kMiB, 14);
  RunResult r = push(p, data, "retry/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(proxy.count("UploadPart"), 3 + 2);
  EXPECT_EQ(proxy.count("CompleteMultipartUpload"), 2);
}

TEST_F(RelaisS3SinkTest, EosWaitsUntilRetriesHaveCompletedTheObject) {
  START_PROXY(proxy);
  // The completion hangs past request-timeout (it may: S3 can take minutes to
  // answer it) and fails, then is refused twice, then goes through.
  proxy.add_rule(FaultProxy::Rule::stall("CompleteMultipartUpload", 1, 5000));
  proxy.add_rule(FaultProxy::Rule::fail("CompleteMultipartUpload", 2, 503, "SlowDown"));
  auto p = props(proxy.endpoint(), "eos/obj.bin");
  p["request-timeout"] = "1500";
  std::string data = relais::test::test_bytes(7 * kMiB, 15);
  RunResult r = push(p, data, "eos/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos) << "EOS was posted before the object existed";
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(proxy.count("CompleteMultipartUpload"), 4);
  EXPECT_EQ(proxy.count("UploadPart"), 2);
  expect_all_signed(proxy);
}

guint64 bytes_received(GstElement* pipeline) {
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstStructure* st = nullptr;
  g_object_get(sink, "stats", &st, nullptr);
  guint64 n = 0;
  gst_structure_get_uint64(st, "bytes-received", &n);
  gst_structure_free(st);
  gst_object_unref(sink);
  return n;
}

// PLAYING -> PAUSED -> PLAYING; the pause completes.
void pause_and_resume(GstElement* pipeline) {
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  EXPECT_EQ(gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND),
            GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
}

TEST_F(RelaisS3SinkTest, PausingWhileWaitingForRoomLosesNothing) {
  START_PROXY(proxy);
  // The first part of each thread hangs (then 503, retried): the streaming
  // thread waits for room in the part queue when the pipeline pauses.
  proxy.add_rule(FaultProxy::Rule::stall("UploadPart", 4, 3000));
  std::string data = relais::test::test_bytes(41 * kMiB, 23);
  RunResult r = push(
      props(proxy.endpoint(), "pause/room.bin"), data, "pause/room.bin", "",
      [&](GstElement* pipeline) {
        // 4 parts in flight, 2 queued, 1 filling.
        for (int i = 0; i < 1000 && bytes_received(pipeline) < 7 * 5 * kMiB; ++i) g_usleep(10000);
        EXPECT_GE(bytes_received(pipeline), 7 * 5 * kMiB);
        pause_and_resume(pipeline);
      },
      true);
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
}

TEST_F(RelaisS3SinkTest, PausingWhileEosWaitsForTheUploadLosesNothing) {
  START_PROXY(proxy);
  // The completion hangs (then 503, retried) when the pipeline pauses.
  proxy.add_rule(FaultProxy::Rule::stall("CompleteMultipartUpload", 1, 3000));
  std::string data = relais::test::test_bytes(7 * kMiB, 24);
  RunResult r = push(
      props(proxy.endpoint(), "pause/eos.bin"), data, "pause/eos.bin", "",
      [&](GstElement* pipeline) {
        for (int i = 0; i < 1000 && proxy.count("CompleteMultipartUpload") < 1; ++i)
          g_usleep(10000);
        EXPECT_EQ(proxy.count("CompleteMultipartUpload"), 1);
        pause_and_resume(pipeline);
      },
      true);
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos) << "EOS was posted before the object existed";
  EXPECT_TRUE(r.object_at_eos_bytes == data);
}

TEST_F(RelaisS3SinkTest, SlowUplinkLongerThanTheTimeoutStillCompletes) {
  START_PROXY(proxy);
  // Each request body comes in at 1 MiB/s: a 5 MiB part takes about 5 s,
  // far past request-timeout, but its bytes never stop moving.
  proxy.set_upload_rate(kMiB);
  auto p = props(proxy.endpoint(), "slow/obj.bin");
  p["request-timeout"] = "1000";
  std::string data = relais::test::test_bytes(11 * kMiB, 25);
  RunResult r = push(p, data, "slow/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(proxy.count("UploadPart"), 3);  // no attempt timed out
}

TEST_F(RelaisS3SinkTest, ASlowCompletionIsWaitedFor) {
  START_PROXY(proxy);
  // s3rver completes at once, but its answer arrives 3 s later, silent all
  // along: longer than request-timeout, which does not apply to it.
  proxy.add_rule(FaultProxy::Rule::slow_answer("CompleteMultipartUpload", 1, 3000));
  auto p = props(proxy.endpoint(), "slow/complete.bin");
  p["request-timeout"] = "1000";
  std::string data = relais::test::test_bytes(7 * kMiB, 32);
  RunResult r = push(p, data, "slow/complete.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(proxy.count("CompleteMultipartUpload"), 1);
  EXPECT_EQ(proxy.count("HeadObject"), 0);
}

TEST_F(RelaisS3SinkTest, SmallObjectTimeoutIsRetried) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::stall("PutObject", 1, 4000));
  auto p = props(proxy.endpoint(), "timeout/obj.bin");
  p["request-timeout"] = "1000";
  std::string data = relais::test::test_bytes(1000, 16);
  RunResult r = push(p, data, "timeout/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_EQ(r.object_at_eos_bytes, data);
  EXPECT_EQ(proxy.count("PutObject"), 2);
}

TEST_F(RelaisS3SinkTest, WrongCredentialsFailAtOnceWithoutObject) {
  START_PROXY(proxy);
  auto p = props(proxy.endpoint(), "denied/obj.bin");
  p["access-key"] = "WRONG";
  RunResult r = push(p, relais::test::test_bytes(1000, 17), "denied/obj.bin");
  ASSERT_TRUE(r.error);
  EXPECT_FALSE(r.eos);
  EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  EXPECT_NE(r.message.find(kBucket), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("denied/obj.bin"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("InvalidAccessKeyId"), std::string::npos) << r.message;
  EXPECT_EQ(proxy.log().size(), 1u);  // a 4xx is not retried
  EXPECT_EQ(get("denied/obj.bin").status, 404u);
}

TEST_F(RelaisS3SinkTest, MissingBucketFailsWithoutObject) {
  auto p = props(server_->endpoint(), "x.bin");
  p["uri"] = "s3://no-such-bucket/rec/x.bin";
  RunResult r = push(p, relais::test::test_bytes(6 * kMiB, 18), "");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_NOT_FOUND);
  EXPECT_NE(r.message.find("no-such-bucket"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("rec/x.bin"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("NoSuchBucket"), std::string::npos) << r.message;
}

TEST_F(RelaisS3SinkTest, CompletionWhoseAnswerIsLostIsNotAFailure) {
  START_PROXY(proxy);
  // s3rver completes the object, but the answer never arrives: the retries
  // fail (s3rver answers 500 where AWS says 404 NoSuchUpload), and HEAD shows
  // the object, its size and ETag ours.
  proxy.add_rule(FaultProxy::Rule::lose_answer("CompleteMultipartUpload", 1));
  std::string data = relais::test::test_bytes(12 * kMiB, 26);
  RunResult r = push(props(proxy.endpoint(), "lost/complete.bin"), data, "lost/complete.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_GE(proxy.count("CompleteMultipartUpload"), 2);
  EXPECT_EQ(proxy.count("HeadObject"), 1);
  EXPECT_EQ(proxy.count("AbortMultipartUpload"), 0);
}

TEST_F(RelaisS3SinkTest, CreationWhoseAnswerIsLostLooksForWhatItLeft) {
  START_PROXY(proxy);
  // s3rver creates an upload whose id never arrives; the retry creates
  // another. The sink lists the key's uploads to abort the first; s3rver
  // cannot list (501), so it says what to do instead.
  proxy.add_rule(FaultProxy::Rule::lose_answer("CreateMultipartUpload", 1));
  std::string data = relais::test::test_bytes(7 * kMiB, 31);
  RunResult r = push(props(proxy.endpoint(), "lost/create.bin"), data, "lost/create.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  EXPECT_EQ(proxy.count("CreateMultipartUpload"), 2);
  EXPECT_EQ(proxy.count("ListMultipartUploads"), 1);
  bool warned = false;
  for (const auto& w : r.warnings)
    warned |= w.find("AbortIncompleteMultipartUpload") != std::string::npos &&
              w.find("lost/create.bin") != std::string::npos;
  EXPECT_TRUE(warned) << r.warnings.size() << " warnings";
  expect_all_signed(proxy);
}

TEST_F(RelaisS3SinkTest, PartsAndPutsWhoseAnswerIsLostAreSentAgain) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::lose_answer("UploadPart", 2));
  proxy.add_rule(FaultProxy::Rule::lose_answer("PutObject", 1));
  std::string data = relais::test::test_bytes(12 * kMiB, 29);
  RunResult r = push(props(proxy.endpoint(), "lost/parts.bin"), data, "lost/parts.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_EQ(r.object_at_eos_bytes.size(), data.size());
  EXPECT_TRUE(r.object_at_eos_bytes == data);
  expect_all_signed(proxy);  // every body sent is the one signed
  EXPECT_EQ(proxy.count("UploadPart"), 3 + 2);
  std::string small = relais::test::test_bytes(1000, 30);
  r = push(props(proxy.endpoint(), "lost/put.bin"), small, "lost/put.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_EQ(r.object_at_eos_bytes, small);
  EXPECT_EQ(proxy.count("PutObject"), 2);
}

TEST_F(RelaisS3SinkTest, A404IsReportedByItsS3ErrorCode) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::fail("UploadPart", -1, 404, "NoSuchUpload"));
  RunResult r = push(props(proxy.endpoint(), "gone/obj.bin"),
                     relais::test::test_bytes(12 * kMiB, 27), "gone/obj.bin");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_WRITE);
  EXPECT_NE(r.message.find("NoSuchUpload"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("aborted or expired"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("does not exist"), std::string::npos) << r.message;
}

TEST_F(RelaisS3SinkTest, AFailedAbortIsAWarning) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::fail("UploadPart", -1, 403, "AccessDenied"));
  proxy.add_rule(FaultProxy::Rule::fail("AbortMultipartUpload", -1, 503, "SlowDown"));
  RunResult r = push(props(proxy.endpoint(), "noabort/obj.bin"),
                     relais::test::test_bytes(12 * kMiB, 28), "noabort/obj.bin");
  ASSERT_TRUE(r.error);
  EXPECT_GE(proxy.count("AbortMultipartUpload"), 1);
  bool warned = false;
  for (const auto& w : r.warnings)
    warned |= w.find("Could not abort the unfinished multipart upload") != std::string::npos &&
              w.find("noabort/obj.bin") != std::string::npos;
  EXPECT_TRUE(warned) << r.warnings.size() << " warnings";
}

TEST_F(RelaisS3SinkTest, PersistentFailureAbortsTheUploadAndPostsNoEos) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::fail("UploadPart", -1, 503, "SlowDown"));
  auto p = props(proxy.endpoint(), "fail/obj.bin");
  p["retry-attempts"] = "2";
  RunResult r = push(p, relais::test::test_bytes(12 * kMiB, 19), "fail/obj.bin");
  ASSERT_TRUE(r.error);
  EXPECT_FALSE(r.eos);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_WRITE);
  EXPECT_NE(r.message.find("fail/obj.bin"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("UploadPart: HTTP 503 SlowDown"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("2 attempts"), std::string::npos) << r.message;
  EXPECT_EQ(get("fail/obj.bin").status, 404u);
  // The multipart upload is aborted, naming its upload id.
  auto log = proxy.log();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().operation, "AbortMultipartUpload");
  EXPECT_NE(log.back().target.find("uploadId="), std::string::npos);
}

TEST_F(RelaisS3SinkTest, StoppingBeforeEosLeavesNoObject) {
  START_PROXY(proxy);
  auto p = props(proxy.endpoint(), "stopped/obj.bin");
  RunResult r =
      push(p, relais::test::test_bytes(11 * kMiB, 20), "stopped/obj.bin", "", [&](GstElement*) {
        // Stop once the first part has gone up.
        for (int i = 0; i < 500 && proxy.count("UploadPart") < 1; ++i) g_usleep(10000);
      });
  EXPECT_FALSE(r.eos);
  EXPECT_GE(proxy.count("UploadPart"), 1);
  EXPECT_EQ(proxy.count("CompleteMultipartUpload"), 0);
  EXPECT_EQ(proxy.count("AbortMultipartUpload"), 1);
  EXPECT_EQ(get("stopped/obj.bin").status, 404u);
  bool warned = false;
  for (const auto& w : r.warnings) warned |= w.find("Stopped before EOS") != std::string::npos;
  EXPECT_TRUE(warned) << r.warnings.size() << " warnings; " << r.message;
}

TEST_F(RelaisS3SinkTest, UnreachableEndpointIsRetriedThenAClearError) {
  std::string endpoint = "http://127.0.0.1:" + std::to_string(relais::test::free_loopback_port());
  auto p = props(endpoint, "nowhere.bin");
  p["retry-attempts"] = "3";
  RunResult r = push(p, "some bytes", "");
  ASSERT_TRUE(r.error);
  EXPECT_FALSE(r.eos);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_WRITE);
  EXPECT_NE(r.message.find("s3://sink-bucket/nowhere.bin"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("after 3 attempts"), std::string::npos) << r.message;
  EXPECT_NE(r.debug.find(endpoint), std::string::npos) << r.debug;
}

TEST_F(RelaisS3SinkTest, GarbageAnswerIsAClearError) {
  START_PROXY(proxy);
  proxy.add_rule(FaultProxy::Rule::garbage("CreateMultipartUpload", 1));
  RunResult r =
      push(props(proxy.endpoint(), "garbage.bin"), relais::test::test_bytes(6 * kMiB, 21), "");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.message.find("CreateMultipartUpload"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("no UploadId"), std::string::npos) << r.message;
  EXPECT_EQ(get("garbage.bin").status, 404u);
}

TEST_F(RelaisS3SinkTest, BadSettingsFailAtStartSayingWhatToFix) {
  struct Case {
    std::string prop, value, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"uri", "http://bucket/key", "expected s3://bucket/key"},
           {"uri", "s3://bucket-only", "no object key"},
           {"location", "s3:///key", "no bucket"},
           {"endpoint-uri", "ftp://127.0.0.1:1", "ftp://127.0.0.1:1"},
           {"access-key", "", "AWS_ACCESS_KEY_ID"},
       }) {
    auto p = props(server_->endpoint(), "bad.bin");
    if (c.prop == "access-key") {
      p.erase("access-key");
      p.erase("secret-access-key");
    } else {
      if (c.prop == "location") p.erase("uri");
      p[c.prop] = c.value;
    }
    RunResult r = push(p, "x", "");
    ASSERT_TRUE(r.error) << c.prop;
    EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
    EXPECT_NE(r.message.find(c.expect), std::string::npos) << c.prop << ": " << r.message;
  }
}

TEST_F(RelaisS3SinkTest, CredentialsAndEndpointFromTheEnvironment) {
  g_setenv("AWS_ACCESS_KEY_ID", S3rver::kAccessKey, TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", S3rver::kSecretKey, TRUE);
  g_setenv("AWS_ENDPOINT_URL", server_->endpoint().c_str(), TRUE);
  g_setenv("AWS_REGION", "eu-west-1", TRUE);
  RunResult r = push({{"location", std::string("s3://") + kBucket + "/env/obj.bin"}}, "from env",
                     "env/obj.bin");
  ASSERT_TRUE(r.eos) << r.message;
  EXPECT_EQ(r.object_at_eos_bytes, "from env");
}

TEST(RelaisS3SinkElement, IsTheUriHandlerForS3) {
  GError* err = nullptr;
  GstElement* e = gst_element_make_from_uri(GST_URI_SINK, "s3://bkt/a/b.ts", nullptr, &err);
  ASSERT_TRUE(e) << (err ? err->message : "");
  gchar *bucket = nullptr, *key = nullptr, *location = nullptr;
  g_object_get(e, "bucket", &bucket, "key", &key, "location", &location, nullptr);
  EXPECT_STREQ(bucket, "bkt");
  EXPECT_STREQ(key, "a/b.ts");
  EXPECT_STREQ(location, "s3://bkt/a/b.ts");
  g_free(bucket);
  g_free(key);
  g_free(location);
  EXPECT_FALSE(gst_uri_handler_set_uri(GST_URI_HANDLER(e), "s3://only-bucket", &err));
  ASSERT_TRUE(err);
  EXPECT_NE(std::string(err->message).find("no object key"), std::string::npos);
  g_clear_error(&err);
  gst_object_unref(e);
}

}  // namespace

namespace {

TEST(RelaisS3SinkElement, ObjectSettingsOnlyChangeInNullOrReady) {
  GstElement* sink = gst_element_factory_make("relaiss3sink", nullptr);
  ASSERT_TRUE(sink);
  g_object_set(sink, "uri", "s3://bkt/first.ts", "endpoint-uri", "http://127.0.0.1:9", "access-key",
               "a", "secret-access-key", "b", nullptr);
  EXPECT_NE(gst_element_set_state(sink, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  g_object_set(sink, "uri", "s3://bkt/second.ts", "part-size", G_GUINT64_CONSTANT(8388608),
               nullptr);
  gchar* uri = nullptr;
  guint64 part = 0;
  g_object_get(sink, "uri", &uri, "part-size", &part, nullptr);
  EXPECT_STREQ(uri, "s3://bkt/first.ts");
  EXPECT_EQ(part, 5u * 1024 * 1024);
  g_free(uri);
  gst_element_set_state(sink, GST_STATE_READY);
  g_object_set(sink, "location", "s3://bkt/second.ts", nullptr);
  g_object_get(sink, "uri", &uri, nullptr);
  EXPECT_STREQ(uri, "s3://bkt/second.ts");
  g_free(uri);
  gst_element_set_state(sink, GST_STATE_NULL);
  gst_object_unref(sink);
}

}  // namespace
