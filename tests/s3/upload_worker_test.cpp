// The upload worker against a real s3rver: the writer is held back only when
// the bounded part queue is full, an interrupted writer loses nothing, and
// the object comes out whole.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fault_proxy.h"
#include "s3rver.h"
#include "upload_worker.h"

using relais::s3::S3Error;
using relais::s3::UploadConfig;
using relais::s3::UploadWorker;
using relais::test::FaultProxy;
using relais::test::S3rver;

namespace {

constexpr char kBucket[] = "worker-bucket";
constexpr gsize kMiB = 1024 * 1024;
constexpr gsize kChunk = 64 * 1024;

class UploadWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server_.start(kBucket, &error)) << error;
    proxy_ = std::make_unique<FaultProxy>(server_.port());
    ASSERT_TRUE(proxy_->start(&error)) << error;
  }
  UploadConfig config(const std::string& key) const {
    UploadConfig c;
    c.client.endpoint = proxy_->endpoint();
    c.client.access_key = S3rver::kAccessKey;
    c.client.secret_key = S3rver::kSecretKey;
    c.client.request_timeout_ms = 10000;
    c.client.backoff_initial_ms = 20;
    c.bucket = kBucket;
    c.key = key;
    c.part_size = 5 * kMiB;
    c.queue_depth = 2;
    return c;
  }
  std::string read_back(const std::string& key) const {
    return relais::test::http_get(server_.endpoint() + "/" + kBucket + "/" + key).body;
  }
  // Waits until `pred` holds, up to 5 s.
  template <typename F>
  static bool eventually(F pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      g_usleep(10000);
    }
    return pred();
  }

  S3rver server_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(UploadWorkerTest, WriterIsHeldBackOnlyWhenThePartQueueIsFull) {
  // The first part of each thread hangs for a while (then fails and is retried).
  proxy_->add_rule(FaultProxy::Rule::stall("UploadPart", 4, 4000));
  std::string error;
  auto w = UploadWorker::start(config("bp/obj.bin"), {}, &error);
  ASSERT_TRUE(w) << error;
  const std::string data = relais::test::test_bytes(48 * kMiB, 31);
  std::atomic<bool> written{false};
  std::thread writer([&] {
    for (gsize off = 0; off < data.size(); off += kChunk)
      ASSERT_EQ(w->write(reinterpret_cast<const guint8*>(data.data()) + off, kChunk),
                UploadWorker::Result::kOk);
    written = true;
  });
  // Four parts in flight (stalled), two queued, one filling: then the writer waits.
  const guint64 held = (4 + 2 + 1) * 5 * kMiB;
  EXPECT_TRUE(eventually([&] { return w->stats().bytes_received >= held; }));
  g_usleep(300 * 1000);
  EXPECT_FALSE(written.load());
  EXPECT_LE(w->stats().bytes_received, held + kChunk);
  EXPECT_TRUE(eventually([&] { return proxy_->count("UploadPart") == 4; }));
  EXPECT_FALSE(written.load());
  writer.join();  // released once the stalled parts are retried
  ASSERT_EQ(w->finish(), UploadWorker::Result::kOk);
  EXPECT_TRUE(read_back("bp/obj.bin") == data);
  EXPECT_EQ(w->stats().parts_uploaded, 10u);
  EXPECT_EQ(w->stats().retries, 4u);
}

TEST_F(UploadWorkerTest, InterruptedWriterLosesNothing) {
  proxy_->add_rule(FaultProxy::Rule::stall("UploadPart", 4, 2000));
  std::string error;
  auto w = UploadWorker::start(config("int/obj.bin"), {}, &error);
  ASSERT_TRUE(w) << error;
  const std::string data = relais::test::test_bytes(41 * kMiB + 100, 32);
  int interrupted = 0;
  std::thread writer([&] {
    for (gsize off = 0; off < data.size(); off += kChunk) {
      gsize n = std::min(kChunk, data.size() - off);
      auto r = w->write(reinterpret_cast<const guint8*>(data.data()) + off, n);
      if (r == UploadWorker::Result::kInterrupted) {
        interrupted++;
        w->clear_interrupt();
      } else {
        ASSERT_EQ(r, UploadWorker::Result::kOk);
      }
    }
  });
  EXPECT_TRUE(eventually([&] { return w->stats().bytes_received >= 7 * 5 * kMiB; }));
  g_usleep(100 * 1000);
  w->interrupt();
  writer.join();
  EXPECT_GE(interrupted, 1);
  ASSERT_EQ(w->finish(), UploadWorker::Result::kOk);
  EXPECT_TRUE(read_back("int/obj.bin") == data);
}

TEST_F(UploadWorkerTest, FailureIsReportedOnceAndUnblocksTheWriter) {
  proxy_->add_rule(FaultProxy::Rule::fail("UploadPart", -1, 403, "AccessDenied"));
  std::string error;
  std::atomic<int> errors{0};
  S3Error last;
  UploadWorker::Callbacks cb;
  cb.on_error = [&](const S3Error& e) {
    last = e;
    errors++;
  };
  auto w = UploadWorker::start(config("deny/obj.bin"), cb, &error);
  ASSERT_TRUE(w) << error;
  const std::string data = relais::test::test_bytes(60 * kMiB, 33);
  UploadWorker::Result r = UploadWorker::Result::kOk;
  for (gsize off = 0; off < data.size() && r == UploadWorker::Result::kOk; off += kChunk)
    r = w->write(reinterpret_cast<const guint8*>(data.data()) + off, kChunk);
  // More than the queue holds: the writer learns of the failure.
  EXPECT_EQ(r, UploadWorker::Result::kFailed);
  EXPECT_EQ(w->finish(), UploadWorker::Result::kFailed);
  EXPECT_EQ(errors.load(), 1);
  EXPECT_EQ(last.code, "AccessDenied");
  EXPECT_EQ(last.operation, "UploadPart");
  EXPECT_TRUE(eventually([&] { return proxy_->count("AbortMultipartUpload") == 1; }));
  // At most one part per thread was tried: a 4xx is not retried.
  EXPECT_GE(proxy_->count("UploadPart"), 1);
  EXPECT_LE(proxy_->count("UploadPart"), 4);
}

TEST_F(UploadWorkerTest, InterruptWhileAPartIsCutLosesNoPart) {
  // The interruption (a flush or state change, from another thread) lands
  // after part 2 was cut from the stream and before it was queued.
  std::string error;
  UploadWorker* worker = nullptr;
  UploadWorker::Callbacks cb;
  cb.on_part = [&](int number, guint64) {
    if (number == 2) worker->interrupt();
  };
  auto w = UploadWorker::start(config("cut/obj.bin"), cb, &error);
  ASSERT_TRUE(w) << error;
  worker = w.get();
  const std::string data = relais::test::test_bytes(17 * kMiB + 3, 34);
  int interrupted = 0;
  for (gsize off = 0; off < data.size(); off += kChunk) {
    gsize n = std::min(kChunk, data.size() - off);
    auto r = w->write(reinterpret_cast<const guint8*>(data.data()) + off, n);
    if (r == UploadWorker::Result::kInterrupted) {
      interrupted++;
      w->clear_interrupt();
    } else {
      ASSERT_EQ(r, UploadWorker::Result::kOk);
    }
  }
  EXPECT_EQ(interrupted, 1);
  ASSERT_EQ(w->finish(), UploadWorker::Result::kOk);
  EXPECT_EQ(w->stats().parts_uploaded, 4u);
  std::string got = read_back("cut/obj.bin");
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST_F(UploadWorkerTest, APartCanHoldMoreThan4GiB) {
  // S3 allows parts up to 5 GiB: the stream is kept in 64-bit sizes. Nothing
  // is uploaded (no part is full); the worker is dropped unfinished.
  auto c = config("big/obj.bin");
  c.part_size = 5ull * 1024 * kMiB;
  std::string error;
  auto w = UploadWorker::start(c, {}, &error);
  ASSERT_TRUE(w) << error;
  const std::string chunk = relais::test::test_bytes(kMiB, 35);
  const guint64 total = 4ull * 1024 * kMiB + kMiB;  // past G_MAXUINT
  for (guint64 off = 0; off < total; off += chunk.size())
    ASSERT_EQ(w->write(reinterpret_cast<const guint8*>(chunk.data()), chunk.size()),
              UploadWorker::Result::kOk);
  EXPECT_EQ(w->stats().bytes_received, total);
  EXPECT_EQ(w->stats().parts_uploaded, 0u);
  w.reset();
  EXPECT_EQ(proxy_->log().size(), 0u);
}

TEST_F(UploadWorkerTest, PartsGrowAsTheObjectGrows) {
  // The schedule of part_size_for(), doubling every 2 parts instead of 900.
  auto c = config("grow/obj.bin");
  c.parts_per_doubling = 2;
  std::vector<guint64> sizes;
  UploadWorker::Callbacks cb;
  cb.on_part = [&](int, guint64 size) { sizes.push_back(size); };
  std::string error;
  auto w = UploadWorker::start(c, cb, &error);
  ASSERT_TRUE(w) << error;
  const std::string data = relais::test::test_bytes(33 * kMiB, 37);
  for (gsize off = 0; off < data.size(); off += kChunk)
    ASSERT_EQ(w->write(reinterpret_cast<const guint8*>(data.data()) + off, kChunk),
              UploadWorker::Result::kOk);
  ASSERT_EQ(w->finish(), UploadWorker::Result::kOk);
  EXPECT_EQ(sizes, (std::vector<guint64>{5 * kMiB, 5 * kMiB, 10 * kMiB, 10 * kMiB}));
  EXPECT_EQ(w->stats().parts_uploaded, 5u);  // and the 3 MiB tail
  EXPECT_TRUE(read_back("grow/obj.bin") == data);
}

TEST(PartBuffer, TakeMovesThePartOutAndKeepsTheRest) {
  relais::s3::PartBuffer b(8);
  const std::string data = relais::test::test_bytes(100, 36);
  b.append(reinterpret_cast<const guint8*>(data.data()), 60);
  b.append(reinterpret_cast<const guint8*>(data.data()) + 60, 40);
  ASSERT_EQ(b.size(), 100u);
  relais::Bytes part = b.take(64, 64);
  ASSERT_EQ(part.size(), 64u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(part.data()), 64), data.substr(0, 64));
  ASSERT_EQ(b.size(), 36u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 36), data.substr(64));
  relais::Bytes rest = b.take(1000, 0);  // fewer than asked: all of them
  EXPECT_EQ(rest.size(), 36u);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.take(10, 0).size(), 0u);
}

TEST(UploadWorkerConfig, NeedsAnObject) {
  UploadConfig c;
  c.client.access_key = "a";
  c.client.secret_key = "b";
  std::string error;
  EXPECT_FALSE(UploadWorker::start(c, {}, &error));
  EXPECT_NE(error.find("s3://bucket/key"), std::string::npos) << error;
}

}  // namespace
