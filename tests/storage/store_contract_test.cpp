// The frame store contract, run against every backend: a new backend gets
// the whole suite by adding one line to the backend list at the bottom.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "redis_server.h"
#include "registry.h"

using namespace relais::store;
using namespace std::chrono_literals;

namespace {

struct Backend {
  std::string name;
  // Returns the store URI, starting what the backend needs.
  std::function<std::string()> setup;
};

// Names the backend in test output instead of dumping its bytes.
void PrintTo(const Backend& b, std::ostream* os) {
  *os << b.name;
}

relais::test::RedisServer* shared_redis() {
  static relais::test::RedisServer* server = [] {
    auto* s = new relais::test::RedisServer();
    std::string error;
    if (!s->start(&error)) ADD_FAILURE() << error;
    return s;
  }();
  return server;
}

Frame make_frame(uint64_t n, bool keyframe, const CapsString& caps, size_t size = 100) {
  Frame f;
  std::string payload(size, static_cast<char>('a' + n % 26));
  std::string tag = std::to_string(n);
  payload.replace(0, std::min(tag.size(), size), tag, 0, std::min(tag.size(), size));
  f.payload = relais::Bytes::copy_of(payload.data(), payload.size());
  f.pts = n * 33'000'000;
  f.dts = n * 33'000'000 + 1;
  f.duration = 33'000'000;
  f.flags = keyframe ? kFlagKeyframe : 0;
  f.caps = caps;
  return f;
}

std::string payload_of(const Frame& f) {
  return std::string(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string uri = GetParam().setup();
    Status st = open_store(uri, &store_);
    ASSERT_TRUE(st.is_ok()) << st.message();
    static std::atomic<int> counter{0};
    stream_ = "s" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    caps_ = make_caps("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au");
  }
  void TearDown() override {
    if (store_) store_->delete_stream(stream_);
  }

  std::unique_ptr<Writer> writer(Retention r = {}) {
    std::unique_ptr<Writer> w;
    Status st = store_->open_writer(stream_, r, &w);
    EXPECT_TRUE(st.is_ok()) << st.message();
    return w;
  }
  std::unique_ptr<Reader> reader(StartPosition start) {
    std::unique_ptr<Reader> r;
    Status st = store_->open_reader(stream_, start, &r);
    EXPECT_TRUE(st.is_ok()) << st.message();
    return r;
  }
  // Writes frames first..last; a keyframe every `gop` frames starting at 0.
  void write_range(Writer& w, uint64_t first, uint64_t last, uint64_t gop) {
    for (uint64_t n = first; n <= last; ++n)
      ASSERT_EQ(w.write(make_frame(n, n % gop == 0, caps_)), WriteResult::kWritten);
  }
  // Frames the store retains for this test's stream, as listed.
  uint64_t retained() {
    std::vector<StreamInfo> streams;
    EXPECT_TRUE(store_->list_streams(&streams).is_ok());
    for (const auto& s : streams)
      if (s.name == stream_) return s.frames_retained;
    ADD_FAILURE() << "stream " << stream_ << " not listed";
    return 0;
  }
  std::vector<Frame> read_n(Reader& r, size_t n) {
    std::vector<Frame> out;
    while (out.size() < n) {
      Frame f;
      ReadResult res = r.next(&f, 2s);
      if (res != ReadResult::kFrame) {
        ADD_FAILURE() << "expected a frame, got result " << static_cast<int>(res);
        break;
      }
      out.push_back(f);
    }
    return out;
  }

  std::shared_ptr<Store> store_;
  std::string stream_;
  CapsString caps_;
};

TEST_P(StoreContract, EarliestReadsEverythingInOrderWithTimingFlagsAndCaps) {
  auto w = writer();
  write_range(*w, 0, 19, 5);
  auto r = reader(StartPosition::kEarliest);
  auto frames = read_n(*r, 20);
  ASSERT_EQ(frames.size(), 20u);
  for (uint64_t n = 0; n < 20; ++n) {
    Frame expected = make_frame(n, n % 5 == 0, caps_);
    EXPECT_EQ(payload_of(frames[n]), payload_of(expected)) << n;
    EXPECT_EQ(frames[n].pts, expected.pts);
    EXPECT_EQ(frames[n].dts, expected.dts);
    EXPECT_EQ(frames[n].duration, expected.duration);
    EXPECT_EQ(frames[n].is_keyframe(), n % 5 == 0);
    ASSERT_TRUE(frames[n].caps);
    EXPECT_EQ(*frames[n].caps, *caps_);
  }
  EXPECT_EQ(w->stats().frames, 20u);
  EXPECT_EQ(w->stats().bytes, 20u * 100u);
}

TEST_P(StoreContract, MissingTimestampsAndHeaderFlagSurvive) {
  auto w = writer();
  Frame f = make_frame(1, true, caps_);
  f.pts = f.dts = f.duration = kTimeNone;
  f.flags |= kFlagHeader | kFlagDiscont;
  ASSERT_EQ(w->write(f), WriteResult::kWritten);
  auto r = reader(StartPosition::kEarliest);
  auto frames = read_n(*r, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].pts, kTimeNone);
  EXPECT_EQ(frames[0].dts, kTimeNone);
  EXPECT_EQ(frames[0].duration, kTimeNone);
  EXPECT_TRUE(frames[0].flags & kFlagHeader);
  EXPECT_TRUE(frames[0].flags & kFlagDiscont);
}

TEST_P(StoreContract, KeyframeStartBeginsAtNewestKeyframe) {
  auto w = writer();
  write_range(*w, 0, 13, 5);  // keyframes 0, 5, 10
  auto r = reader(StartPosition::kKeyframe);
  auto frames = read_n(*r, 4);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].pts, 10 * 33'000'000ull);
  EXPECT_TRUE(frames[0].is_keyframe());
  EXPECT_EQ(frames[3].pts, 13 * 33'000'000ull);
}

TEST_P(StoreContract, LiveStartSeesOnlyNewFrames) {
  auto w = writer();
  write_range(*w, 0, 9, 5);
  auto r = reader(StartPosition::kLive);
  Frame f;
  EXPECT_EQ(r->next(&f, 200ms), ReadResult::kTimeout);
  write_range(*w, 10, 12, 5);
  auto frames = read_n(*r, 3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].pts, 10 * 33'000'000ull);
}

TEST_P(StoreContract, ReaderWaitsForAStreamThatDoesNotExistYetAndStartsAtAKeyframe) {
  auto r = reader(StartPosition::kKeyframe);
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    auto w = writer();
    // Starts mid-GOP: the deltas before the first keyframe must be skipped.
    for (uint64_t n = 3; n <= 12; ++n) w->write(make_frame(n, n % 5 == 0, caps_));
  });
  auto frames = read_n(*r, 3);
  later.join();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].pts, 5 * 33'000'000ull);
  EXPECT_TRUE(frames[0].is_keyframe());
  EXPECT_EQ(r->stats().skipped, 2u);
}

TEST_P(StoreContract, CapsChangesReachReadersInOrder) {
  auto w = writer();
  CapsString small = make_caps("video/x-raw, width=(int)320, height=(int)240");
  CapsString large = make_caps("video/x-raw, width=(int)640, height=(int)480");
  for (uint64_t n = 0; n < 6; ++n) {
    Frame f = make_frame(n, true, n < 3 ? small : large);
    ASSERT_EQ(w->write(f), WriteResult::kWritten);
  }
  auto r = reader(StartPosition::kEarliest);
  auto frames = read_n(*r, 6);
  ASSERT_EQ(frames.size(), 6u);
  for (size_t n = 0; n < 6; ++n) EXPECT_EQ(*frames[n].caps, n < 3 ? *small : *large) << n;
}

TEST_P(StoreContract, RetentionIsBoundedButKeepsTheNewestKeyframe) {
  Retention keep10;
  keep10.max_frames = 10;
  auto w = writer(keep10);
  write_range(*w, 0, 199, 10);
  // Redis trims approximately (whole macro nodes); the bound is what matters.
  EXPECT_LT(retained(), 150u);

  // A GOP longer than max_frames: the keyframe that starts it stays.
  for (uint64_t n = 200; n < 240; ++n) w->write(make_frame(n, n == 200, caps_));
  auto r = reader(StartPosition::kKeyframe);
  auto frames = read_n(*r, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].pts, 200 * 33'000'000ull);
  auto e = reader(StartPosition::kEarliest);
  auto first = read_n(*e, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_LE(first[0].pts, 200 * 33'000'000ull);
}

// Defect 12: a reader that falls behind retention must not resume silently
// at the oldest retained frame (a delta, after a hole): it waits for a
// keyframe and marks it discont.
TEST_P(StoreContract, AReaderLappedByRetentionResumesAtAKeyframeMarkedDiscont) {
  Retention keep10;
  keep10.max_frames = 10;
  keep10.max_age = std::chrono::milliseconds(0);
  auto w = writer(keep10);
  auto r = reader(StartPosition::kEarliest);
  write_range(*w, 0, 4, 7);
  auto first = read_n(*r, 5);
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first[4].flags & kFlagDiscont, 0u);
  write_range(*w, 5, 299, 7);  // trims far past the reader's position
  auto next = read_n(*r, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_GT(next[0].pts, 100 * 33'000'000ull);
  EXPECT_TRUE(next[0].is_keyframe()) << "pts " << next[0].pts;
  EXPECT_NE(next[0].flags & kFlagDiscont, 0u);
  // Then it goes on frame by frame without another discont.
  auto after = read_n(*r, 3);
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].pts, next[0].pts + (i + 1) * 33'000'000ull);
    EXPECT_EQ(after[i].flags & kFlagDiscont, 0u);
  }
}

// A reader that keeps up is never marked discont while retention trims.
TEST_P(StoreContract, AReaderThatKeepsUpIsNeverMarkedDiscont) {
  Retention keep10;
  keep10.max_frames = 10;
  auto w = writer(keep10);
  auto r = reader(StartPosition::kLive);
  for (uint64_t n = 0; n < 150; ++n) {
    ASSERT_EQ(w->write(make_frame(n, n % 7 == 0, caps_)), WriteResult::kWritten);
    auto f = read_n(*r, 1);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].pts, n * 33'000'000ull);
    EXPECT_EQ(f[0].flags & kFlagDiscont, 0u) << n;
  }
}

// Defect 18: a GOP that never ends was kept whole, without bound. max_bytes
// wins over keeping the newest keyframe, and each cut into it is counted.
TEST_P(StoreContract, MaxBytesBoundsAGopThatNeverEnds) {
  Retention r;
  r.max_bytes = 10 * 1000;
  auto w = writer(r);
  for (uint64_t n = 0; n < 200; ++n)
    ASSERT_EQ(w->write(make_frame(n, n == 0, caps_, 1000)), WriteResult::kWritten);
  EXPECT_LE(retained(), 20u);
  EXPECT_GT(w->stats().gop_cuts, 0u);
  auto e = reader(StartPosition::kEarliest);
  auto first = read_n(*e, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_GT(first[0].pts, 150 * 33'000'000ull);
}

TEST_P(StoreContract, ListingShowsCapsRatesAndLastUpdate) {
  auto w = writer();
  for (uint64_t n = 0; n < 15; ++n) {
    w->write(make_frame(n, n % 5 == 0, caps_, 1000));
    std::this_thread::sleep_for(20ms);
  }
  std::vector<StreamInfo> streams;
  ASSERT_TRUE(store_->list_streams(&streams).is_ok());
  auto it =
      std::find_if(streams.begin(), streams.end(), [&](auto& s) { return s.name == stream_; });
  ASSERT_NE(it, streams.end());
  EXPECT_EQ(it->caps, *caps_);
  EXPECT_GT(it->frame_rate, 0.0);
  EXPECT_GT(it->bitrate, 0.0);
  int64_t now_ms = g_get_real_time() / 1000;
  EXPECT_LE(it->updated_unix_ms, now_ms);
  EXPECT_GT(it->updated_unix_ms, now_ms - 10000);
}

TEST_P(StoreContract, EightReadersEachSeeEveryFrame) {
  auto w = writer();
  std::vector<std::unique_ptr<Reader>> readers;
  for (int i = 0; i < 8; ++i) readers.push_back(reader(StartPosition::kLive));
  write_range(*w, 0, 29, 10);
  for (auto& r : readers) {
    auto frames = read_n(*r, 30);
    ASSERT_EQ(frames.size(), 30u);
    for (uint64_t n = 0; n < 30; ++n) EXPECT_EQ(frames[n].pts, n * 33'000'000ull);
  }
}

TEST_P(StoreContract, CancelUnblocksAWaitingReaderPromptly) {
  auto r = reader(StartPosition::kLive);
  std::atomic<bool> returned{false};
  ReadResult result = ReadResult::kFrame;
  std::thread t([&] {
    Frame f;
    result = r->next(&f, 30s);
    returned = true;
  });
  std::this_thread::sleep_for(100ms);
  r->cancel();
  t.join();  // would take 30 s without cancel
  EXPECT_TRUE(returned);
  EXPECT_EQ(result, ReadResult::kCancelled);
  Frame f;
  EXPECT_EQ(r->next(&f, 10ms), ReadResult::kCancelled);
  r->reset_cancel();
  EXPECT_EQ(r->next(&f, 10ms), ReadResult::kTimeout);
}

TEST_P(StoreContract, InvalidStreamNamesAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"", "UPPER", "a/b", "..", "with space",
                                                         "ctl\x01", std::string(65, 'a')}) {
    std::unique_ptr<Writer> w;
    std::unique_ptr<Reader> r;
    EXPECT_EQ(store_->open_writer(bad, {}, &w).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->open_reader(bad, StartPosition::kLive, &r).code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_P(StoreContract, DeletedStreamsAreNoLongerListed) {
  auto w = writer();
  write_range(*w, 0, 2, 1);
  ASSERT_TRUE(store_->delete_stream(stream_).is_ok());
  std::vector<StreamInfo> streams;
  ASSERT_TRUE(store_->list_streams(&streams).is_ok());
  for (auto& s : streams) EXPECT_NE(s.name, stream_);
}

TEST_P(StoreContract, PingAnswers) {
  EXPECT_TRUE(store_->ping().is_ok());
}

std::vector<Backend> backends() {
  return {
      {"memory", [] { return std::string("memory://"); }},
      {"redis", [] { return shared_redis()->uri(); }},
  };
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
